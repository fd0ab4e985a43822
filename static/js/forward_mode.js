/* Forward mode beside reverse mode: the student picks a seed direction (one input moved by
 * 1, the others by 0), the page asks /api/trace for PyTorch's forward-mode tangents
 * (`tangent`, through requests.js), then replays the forward pass so the tangents flow forward through the
 * graph and fill the evaluation trace's tangent column. A counter says what each mode
 * costs for the whole gradient. Listens to the player's events; never computes a tangent.
 */
(function () {
  "use strict";

  const F = window.chainruleFormat;
  const mode = { answer: null, source: null, animating: false, request: 0, opened: false };

  function el(id) { return document.getElementById(id); }
  function on() { const box = el("forward-toggle"); return !!box && box.checked; }
  function player() { return window.chainrule && window.chainrule.player(); }
  function numel(shape) { return (shape || []).reduce(function (a, b) { return a * b; }, 1); }
  const T = window.chainruleTangentLabels, dot = T.dot;
  function filled(shape, x) {
    if (!shape || !shape.length) return x;
    return Array.from({ length: shape[0] }, function () { return filled(shape.slice(1), x); });
  }

  function counter(trace) {
    const n = trace.inputs.reduce(function (sum, name) { return sum + numel((trace.leaves[name] || {}).shape); }, 0);
    const m = numel(trace.output.shape);
    const plural = function (k, word) { return k + " " + word + (k === 1 ? "" : /s$/.test(word) ? "es" : "s"); };
    return "Full gradient: n = " + plural(n, "input number") + " → forward mode needs " + plural(n, "forward pass") +
      " (one per direction); m = " + plural(m, "output number") + " → reverse mode needs " + plural(m, "backward pass") + ".";
  }

  function fillChoices(trace) {
    const select = el("forward-direction");
    if (!select) return;
    const kept = select.value;
    select.textContent = "";
    trace.inputs.forEach(function (name, i) {
      const option = document.createElement("option");
      option.value = name;
      const moved = numel((trace.leaves[name] || {}).shape) > 1 ? " (every entry)" : "";
      option.textContent = "e" + (i + 1) + ": " + dot(name) + " = 1" + moved + ", others 0";
      select.appendChild(option);
    });
    if (trace.inputs.indexOf(kept) >= 0) select.value = kept;
    // Forward mode seeds the inputs typed in the boxes; a program making its own leaves has none.
    const toggle = el("forward-toggle");
    if (toggle) toggle.disabled = !trace.inputs.length;
    select.disabled = !trace.inputs.length;
    el("pass-counter").textContent = trace.inputs.length ? counter(trace) :
      "Forward mode needs inputs in the input boxes (e.g. sin(x) with x = 1); this program makes its own tensors.";
  }

  function direction(trace) {
    const chosen = el("forward-direction").value || trace.inputs[0], tangent = {};
    trace.inputs.forEach(function (name) { tangent[name] = filled((trace.leaves[name] || {}).shape, name === chosen ? 1 : 0); });
    return tangent;
  }

  // `stay`: a link opened at a step with forward mode on: show the tangents at that step,
  // without replaying the forward pass from the start.
  function request(p, stay) {
    const trace = p.trace, number = ++mode.request;
    const body = { source: el("source") ? el("source").value : "", inputs: {}, tangent: direction(trace) };
    trace.inputs.forEach(function (name) { body.inputs[name] = trace.leaves[name].value; });
    const field = document.querySelector('input[name="grad_output"]');
    const text = field ? field.value.trim() : "";
    if (text) { try { body.grad_output = JSON.parse(text); } catch (e) { body.grad_output = text; } }
    el("pass-counter").textContent = counter(trace) + " Asking PyTorch for the tangents…";
    window.chainruleRequests.tangents(el("forward-mode").dataset.tangents, body)
      .then(function (result) {
        const answer = result.data;
        if (number !== mode.request || player() !== p) return;  // a newer request or graph
        if (answer.error) { el("pass-counter").textContent = "Forward mode: " + answer.error.message; return; }
        mode.answer = answer;
        mode.source = p.source;
        el("pass-counter").textContent = counter(trace);
        show(p);
        if (stay) p.render(); else animate(p);
      });
  }

  // Write the tangents into the table's cells and beside each graph node (hidden until
  // the node's forward step), then replay the forward pass.
  function show(p) {
    const rows = {};
    mode.answer.tape.forEach(function (row) { rows[row.id] = row; });
    document.querySelectorAll("#tape-table tr.tape-row").forEach(function (tr) {
      const row = rows[tr.dataset.node];
      tr.querySelector("td.tangent").dataset.final = row && row.tangent !== undefined && row.tangent !== null
        ? F.value(row.tangent, row.shape) : "";
    });
    document.querySelectorAll("#tape-table").forEach(function (t) { t.classList.add("has-tangents"); });
    T.draw(p, rows, F).forEach(function (d) { d.group.dataset.tangent = F.value(rows[d.node.id].tangent, rows[d.node.id].shape); });
  }

  function animate(p) {
    // Reset first: it pauses a replay still playing (a direction changed mid-replay), and
    // that pause's "playing: false" clears the flag; set after, this replay stops at the
    // forward pass's end, before any gradient.
    p.reset();
    mode.animating = true;
    const select = document.querySelector('[data-action="speed"]');
    p.play(select ? parseInt(select.value, 10) : 900);
  }

  function clear(p) {
    mode.answer = null;
    document.querySelectorAll("#tape-table td.tangent").forEach(function (td) { td.dataset.final = ""; td.textContent = "–"; });
    document.querySelectorAll("#tape-table").forEach(function (t) { t.classList.remove("has-tangents"); });
    if (p) T.clear(p);
    if (p) p.root.querySelectorAll("[data-tangent]").forEach(function (g) { delete g.dataset.tangent; });
    if (p) p.render();
  }

  document.addEventListener("chainrule:loaded", function (event) {
    const p = event.detail.player;
    if (p.root.id !== "graph") return;
    fillChoices(p.trace);
    if (!p.trace.inputs.length) {  // nothing to seed; the embed has no forward-mode box at all
      const toggle = el("forward-toggle");
      if (toggle) toggle.checked = false;
      mode.answer = null;
      return;
    }
    // The page's first graph: forward mode as its URL says (links.js; ?forward=x, x's direction).
    const wanted = !mode.opened && window.chainruleLinks ? window.chainruleLinks.forward() : null;
    mode.opened = true;
    if (wanted && el("forward-toggle")) {
      el("forward-toggle").checked = true;
      if (p.trace.inputs.indexOf(wanted) >= 0) el("forward-direction").value = wanted;
      setTimeout(function () { request(p, p.state().index > 0); }, 0);
      return;
    }
    if (on() && mode.source !== p.source) setTimeout(function () { request(p); }, 0);  // a new graph: new tangents
  });

  document.addEventListener("chainrule:step", function (event) {
    const p = event.detail.player;
    if (!mode.answer || p.root.id !== "graph" || p.source !== mode.source) return;
    const state = p.state(), shown = new Set();
    for (let i = 0; i < state.index; i++) if (p.steps[i].phase === "forward") shown.add(p.steps[i].node);
    p.root.querySelectorAll("text.cr-tangent").forEach(function (t) {
      const id = t.parentNode.id, node = p.trace.nodes.find(function (n) { return n.id === id; });
      t.textContent = shown.has(id) || (node && node.kind === "constant") ? t.dataset.final : "";
    });
    const step = state.step, texts = mode.answer.explain && mode.answer.explain.tangent;
    const chain = el("chain");
    if (chain && step && step.phase === "forward" && texts && texts[step.node]) {
      const line = document.createElement("div");
      line.className = "formula tangent-formula";
      line.textContent = "Forward mode: " + texts[step.node];
      chain.appendChild(line);
    }
    if (mode.animating && state.index >= state.forward) { mode.animating = false; p.pause(); }
  });

  document.addEventListener("change", function (event) {
    const p = player();
    if (event.target.id === "forward-toggle" || event.target.id === "forward-direction") {
      if (!p) return;
      if (on()) request(p); else clear(p);
    }
  });
  document.addEventListener("chainrule:playing", function (event) { if (!event.detail.playing) mode.animating = false; });
})();
