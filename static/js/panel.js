/* What the page says about the current step: the status line, the chain-rule panel, the
 * Play button and the hover card. It only listens to the player's events; the sentences
 * are the server's (trace.explain), the same words as /embed, the GIF and the notebook.
 */
(function () {
  "use strict";

  const F = window.chainruleFormat;

  function nameOf(node) { return node.name || node.label; }
  function count(n) { return n.toLocaleString("en-US"); }  // 1,999 as the server writes it

  // A step the server has no sentence for (torch.autograd.grad's inputs): the bare result.
  function sentence(trace, phase, node) {
    const texts = trace.explain && trace.explain[phase];
    if (texts && texts[node.id]) return texts[node.id];
    if (phase === "forward") return nameOf(node) + " = " + F.node(node, "value");
    const out = trace.nodes.find(function (n) { return n.kind === "output"; });
    return "∂" + (out ? nameOf(out) : "f") + "/∂" + nameOf(node) + " = " + F.node(node, "grad");
  }

  function status(player, state) {
    const step = state.step;
    if (!step) return "Ready: " + state.steps + " steps (→ to start)";
    const node = player.trace.nodes.find(function (n) { return n.id === step.node; });
    const label = nameOf(node);  // as drawn
    const text = step.phase === "forward" ? "Forward " + state.index + "/" + state.forward + ": " + label
      : "Backward " + (state.index - state.forward) + "/" + state.backward + ": " + label;
    const again = step.repetition ? ", repetition " + count(step.repetition) + " of " + count(node.folded.count) : "";
    return text + again + (state.index === state.steps ? " · done" : "");
  }

  // At a folded box's step (the server numbers its repetitions, of the box's folded.count),
  // which repetition it is; only the last one's numbers are kept.
  function foldedNote(step, node) {
    if (!step.repetition) return "";
    const last = node.folded.count;
    const which = "Repetition " + count(step.repetition) + " of " + count(last) + " of this folded box. ";
    return step.repetition === last ? which + "These are its numbers:\n"
      : which + "Folded, it keeps only the last repetition's numbers, shown here" +
        (document.getElementById("unfold") ? " (Unfold shows this one's)" : "") + ":\n";
  }

  document.addEventListener("chainrule:step", function (event) {
    const player = event.detail.player, state = player.state();
    const line = document.getElementById("step-status");
    if (line) line.textContent = status(player, state);
    const chain = document.getElementById("chain");
    if (!chain) return;
    chain.textContent = "";
    const phase = document.createElement("span");
    phase.className = "phase";
    const formula = document.createElement("div");
    formula.className = "formula";
    if (!state.step) {
      phase.textContent = "Before the forward pass. ";
      formula.textContent = "Values show ?, gradients show “" + window.chainruleGraph.NOT_YET + "”: nothing has been computed.";
    } else {
      phase.textContent = state.step.phase === "forward" ? "Forward pass: "
        : "Backward pass (upstream gradient × local derivative): ";
      formula.textContent = foldedNote(state.step, event.detail.node) + sentence(player.trace, state.step.phase, event.detail.node);
    }
    chain.appendChild(phase);
    chain.appendChild(formula);
  });

  document.addEventListener("chainrule:playing", function (event) {
    const button = document.querySelector('[data-action="play"]');
    if (!button) return;
    const on = event.detail.playing;
    button.textContent = on ? "❚❚ Pause" : "▶ Play";
    button.setAttribute("aria-pressed", on ? "true" : "false");
    button.setAttribute("aria-label", on ? "Pause" : "Play");
  });

  // ---- hovering a node shows its arithmetic, and all entries of a long vector -----------
  document.addEventListener("chainrule:loaded", function (event) {
    const card = document.getElementById("hover-card"), trace = event.detail.trace;
    if (!card) return;
    trace.nodes.forEach(function (node) {
      const group = event.detail.player.root.querySelector('[id="' + node.id + '"][data-kind]');
      if (!group) return;
      group.addEventListener("mouseenter", function (e) {
        card.textContent = "";
        const formula = document.createElement("div");
        formula.className = "formula";
        // Only what the graph shows at this step: no value before the forward pass computed
        // it, no gradient before backward reached it (practice mode asks for it).
        const computed = !group.classList.contains("st-pending"), reached = group.classList.contains("st-grad");
        const parts = [computed ? sentence(trace, "forward", node) : nameOf(node) + " is not computed yet."];
        if (reached && (node.grad !== null || node.grad_summary)) parts.push(sentence(trace, "backward", node));
        [["value", node.value, computed], ["grad", node.grad, reached]].forEach(function (pair) {
          if (!pair[2] || !Array.isArray(pair[1])) return;
          const flat = F.all(pair[1]);
          if (flat.length <= F.WHOLE) return;
          parts.push("all " + flat.length + " entries of " + pair[0] + ":\n" +
            flat.slice(0, 400).map(F.number).join(", ") + (flat.length > 400 ? ", …" : ""));
        });
        formula.textContent = parts.join("\n\n");
        card.appendChild(formula);
        card.hidden = false;
        card.style.left = Math.min(e.clientX + 14, window.innerWidth - 380) + "px";
        card.style.top = (e.clientY + 14) + "px";
      });
      group.addEventListener("mouseleave", function () { card.hidden = true; });
    });
  });
})();
