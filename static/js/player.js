/* chainrule's one island of JavaScript: the animation player.
 *
 * The server sends the whole trace as JSON next to the SVG; stepping only toggles
 * classes and texts on SVG elements whose ids are the trace's node ids, so no step
 * ever asks the server for anything.
 */
(function () {
  "use strict";

  let zoom = 1;  // presenter zoom of the graph (1: fitted)

  const NOT_YET = "grad: not yet";
  // The one player state, rebuilt only when a new graph element arrives (see load()).
  let state = null;       // {graph, source, trace, steps, index, nodes: id -> {group, value, grad, valueText, gradText}}
  let trace = null, steps = [], index = 0, nodeById = {};
  let timer = null;
  let loads = 0;          // how many graphs the player has loaded (the tests read it)

  // ---- numbers ----------------------------------------------------------------
  function fmt(value) {
    if (value === null || value === undefined) return "–";
    if (typeof value === "string") return value === "Infinity" ? "inf" : value === "-Infinity" ? "−inf" : value;
    if (typeof value === "boolean") return String(value);
    if (Array.isArray(value)) {
      const flat = value.flat(Infinity);
      const whole = flat.length <= 8;  // as the server's format_value: up to 8 entries whole
      const shown = (whole ? flat : flat.slice(0, 3)).map(fmt).join(", ");
      return "[" + shown + (whole ? "" : ", …") + "]";
    }
    if (Number.isInteger(value)) return String(value);
    return Number(value.toPrecision(4)).toString().replace("-", "−");
  }
  function fmtNode(node, key) {
    const value = node[key];
    if (value === null && node[key === "value" ? "summary" : "grad_summary"]) {
      const s = node[key === "value" ? "summary" : "grad_summary"];
      return "[" + node.shape.join("×") + "] min " + fmt(s.min) + " max " + fmt(s.max);
    }
    return fmt(value);
  }

  // ---- steps from the trace ---------------------------------------------------
  function buildSteps() {
    steps = [];
    trace.forward.forEach(function (id) {
      // A constant is known from the start: it takes no forward step.
      if (!nodeById[id] || nodeById[id].kind !== "constant") steps.push({ phase: "forward", node: id });
    });
    trace.backward.forEach(function (id) { steps.push({ phase: "backward", node: id }); });
    // torch.autograd.grad hands an input its gradient without running its AccumulateGrad
    // node, so the engine's order never reaches it: it gets its step last (as steps.py does).
    trace.nodes.forEach(function (node) {
      if (node.grad !== null && node.grad !== undefined && node.kind !== "constant" &&
          trace.backward.indexOf(node.id) < 0) steps.push({ phase: "backward", node: node.id });
    });
  }

  function edgesInto(id) { return trace.edges.filter(function (e) { return e.target === id; }); }
  function edgesOutOf(id) { return trace.edges.filter(function (e) { return e.source === id; }); }
  function outputNode() { return trace.nodes.find(function (n) { return n.kind === "output"; }); }

  // ---- the chain-rule explanation ------------------------------------------------
  function forwardText(node) {
    if (node.kind === "input" || node.kind === "leaf") {
      return node.label + " = " + fmtNode(node, "value") + "   (a leaf: created with requires_grad=True)";
    }
    if (node.kind === "constant") return "constant " + node.label;
    const inputs = edgesInto(node.id).map(function (e) { return nodeById[e.source]; });
    const names = inputs.map(function (n) { return n.label; });
    const values = inputs.map(function (n) { return fmtNode(n, "value"); });
    const symbol = node.symbol || node.op;
    let expr, numbers;
    if (["+", "−", "×", "÷"].indexOf(symbol) >= 0 && inputs.length === 2) {
      expr = names.join(" " + symbol + " ");
      numbers = values.join(" " + symbol + " ");
    } else if (symbol && symbol[0] === "^" && inputs.length === 1) {
      expr = names[0] + symbol; numbers = values[0] + symbol;
    } else {
      expr = symbol + "(" + names.join(", ") + ")"; numbers = symbol + "(" + values.join(", ") + ")";
    }
    const head = node.named ? node.label + " = " : "";
    return head + expr + " = " + numbers + " = " + fmtNode(node, "value") + "   [" + node.op + "]";
  }

  function backwardText(node) {
    const out = outputNode();
    const f = out ? out.label : "f";
    if (node.kind === "output") return "∂" + f + "/∂" + f + " = 1   (backward starts at the output)";
    const terms = edgesOutOf(node.id).filter(function (e) { return e.grad !== null; });
    if (!terms.length) return "∂" + f + "/∂" + node.label + " = " + fmtNode(node, "grad");
    const lines = terms.map(function (e) {
      const consumer = nodeById[e.target];
      return "∂" + f + "/∂" + consumer.label + " · ∂" + consumer.label + "/∂" + node.label +
        " = " + fmtNode(consumer, "grad") + " · " + fmt(e.local_grad) + (e.local_kind === "vjp" ? " (vjp)" : "") +
        " = " + fmt(e.grad);
    });
    let text = "∂" + f + "/∂" + node.label + " = " + lines.join("\n   + ");
    if (terms.length > 1) {
      text += "\ncontributions " + terms.map(function (e) { return fmt(e.grad); }).join(" + ") +
        " = " + fmtNode(node, "grad");
    }
    if (node.kind === "input" || node.kind === "leaf") {
      // .grad also holds earlier backward passes (the trace's `accumulated`).
      const total = node.accumulated !== undefined && node.accumulated !== null ? fmtNode(node, "accumulated") : fmtNode(node, "grad");
      text += "\n" + node.label + ".grad = " + total;
    }
    return text;
  }

  // ---- applying a state to the SVG ---------------------------------------------------
  function findTexts(graph) {
    // The final texts come from the data- attributes the server put on each node's <g>,
    // never from the <text> elements, which the player rewrites to "?".
    const nodes = {};
    trace.nodes.forEach(function (node) {
      const group = graph.querySelector('[id="' + node.id + '"]');
      if (!group) return;
      const all = Array.prototype.slice.call(group.querySelectorAll("text"));
      const hasValue = group.hasAttribute("data-value"), hasGrad = group.hasAttribute("data-grad");
      const value = hasValue ? all[1] || null : null;
      const grad = hasGrad ? all[hasValue ? 2 : 1] || null : null;
      [grad, value].forEach(centre);
      nodes[node.id] = { group: group, value: value, grad: grad, kind: group.getAttribute("data-kind"),
        valueText: group.getAttribute("data-value"), gradText: group.getAttribute("data-grad") };
    });
    return nodes;
  }

  function centre(text) {
    // Graphviz places left-anchored text; re-anchor at its centre so new words stay inside.
    if (!text || text.getAttribute("text-anchor") === "middle") return;
    const width = text.getComputedTextLength ? text.getComputedTextLength() : 0;
    text.setAttribute("x", String(parseFloat(text.getAttribute("x")) + width / 2));
    text.setAttribute("text-anchor", "middle");
  }

  function setClass(element, name, on) { if (element) element.classList.toggle(name, on); }

  function render() {
    if (!trace) return;
    const valueKnown = new Set(), gradKnown = new Set();
    for (let i = 0; i < index; i++) {
      (steps[i].phase === "forward" ? valueKnown : gradKnown).add(steps[i].node);
    }
    const current = index > 0 ? steps[index - 1] : null;
    trace.nodes.forEach(function (node) {
      const group = state.nodes[node.id] ? state.nodes[node.id].group : null;
      const circle = state.graph.querySelector('[id="' + node.id + '-op"]');
      const known = valueKnown.has(node.id) || node.kind === "constant";
      const hasGrad = gradKnown.has(node.id);
      [group, circle].forEach(function (el) {
        setClass(el, "st-pending", !known);
        setClass(el, "st-computed", known && !hasGrad);
        setClass(el, "st-grad", hasGrad);
        setClass(el, "st-current", !!current && current.node === node.id);
      });
      const t = state.nodes[node.id];
      if (t && t.value) t.value.textContent = known ? t.valueText : "?";
      if (t && t.grad) {
        t.grad.textContent = hasGrad ? t.gradText : NOT_YET;
        setClass(t.grad, "not-yet", !hasGrad);
      }
    });
    state.graph.querySelectorAll(".cr-edge").forEach(function (edge) { edge.classList.remove("active"); });
    if (current) {
      const active = current.phase === "forward" ? edgesInto(current.node) : edgesOutOf(current.node);
      active.forEach(function (e) {
        state.graph.querySelectorAll('[id$="-' + e.source + "-" + e.target + '"]').forEach(function (el) {
          el.classList.add("active");
        });
        const outEdge = document.getElementById(e.target + "-op-out");
        if (outEdge) outEdge.classList.add("active");
      });
    }
    updatePanel(current);
    if (current) reveal(current.node);
  }

  // The server's sentences (trace.explain): the same words as /embed, the GIF and the notebook.
  function explained(phase, id) {
    const texts = trace.explain && trace.explain[phase];
    return texts && texts[id] ? texts[id] : "";
  }

  function updatePanel(current) {
    const chain = document.getElementById("chain");
    const status = document.getElementById("step-status");
    const forwardCount = steps.filter(function (s) { return s.phase === "forward"; }).length;
    if (status) {
      if (!current) status.textContent = "Ready: " + steps.length + " steps (→ to start)";
      else if (current.phase === "forward") status.textContent = "Forward " + index + "/" + forwardCount + ": " + nodeById[current.node].label;
      else status.textContent = "Backward " + (index - forwardCount) + "/" + trace.backward.length + ": " + nodeById[current.node].label;
      if (index === steps.length && steps.length) status.textContent += " · done";
    }
    if (!chain) return;
    chain.textContent = "";
    const phase = document.createElement("span");
    phase.className = "phase";
    const formula = document.createElement("div");
    formula.className = "formula";
    if (!current) {
      phase.textContent = "Before the forward pass. ";
      formula.textContent = "Values show ?, gradients show “" + NOT_YET + "”: nothing has been computed.";
    } else if (current.phase === "forward") {
      phase.textContent = "Forward pass: ";
      formula.textContent = explained("forward", current.node) || forwardText(nodeById[current.node]);
    } else {
      phase.textContent = "Backward pass (upstream gradient × local derivative): ";
      formula.textContent = explained("backward", current.node) || backwardText(nodeById[current.node]);
    }
    chain.appendChild(phase);
    chain.appendChild(formula);
  }

  // ---- controls -----------------------------------------------------------------
  function step(delta) {
    if (!state || state.stale) return;
    index = state.index = Math.max(0, Math.min(steps.length, index + delta));
    render();
  }
  function reset() { pause(); if (!state || state.stale) return; index = state.index = 0; render(); }
  function play() {
    if (timer || !steps.length || !state || state.stale) return;
    if (index >= steps.length) index = 0;
    const speed = document.querySelector('[data-action="speed"]');
    const delay = speed ? parseInt(speed.value, 10) : 900;
    timer = setInterval(function () {
      step(1);
      if (index >= steps.length) pause();
    }, delay);
    playButton(true);
  }
  function pause() {
    if (timer) clearInterval(timer);
    timer = null;
    playButton(false);
  }
  function playButton(playing) {
    const button = document.querySelector('[data-action="play"]');
    if (!button) return;
    button.textContent = playing ? "❚❚ Pause" : "▶ Play";
    button.setAttribute("aria-pressed", playing ? "true" : "false");
    button.setAttribute("aria-label", playing ? "Pause" : "Play");
  }

  function load() {
    // Exactly once per new #graph element: htmx fires afterSettle once per swapped element
    // (the graph and each out-of-band part), and re-reading a graph already set to "?"
    // was why a typed function never filled in.
    const graph = document.getElementById("graph");
    if (state && state.graph === graph) return;
    if (!graph || !graph.dataset.trace) { pause(); state = null; trace = null; return; }
    const source = graph.dataset.trace;
    // The same graph again (leaving the editor re-runs it): keep the player where it is.
    const keep = state && state.source === source ? state.index : 0;
    if (!keep) pause();
    trace = JSON.parse(source);
    nodeById = {};
    trace.nodes.forEach(function (n) { nodeById[n.id] = n; });
    buildSteps();
    loads += 1;
    state = { graph: graph, source: source, trace: trace, steps: steps, index: Math.min(keep, steps.length),
              stale: false };
    state.nodes = findTexts(graph);
    index = state.index;
    zoom = 1;  // a new graph starts fitted
    fitGraph(graph);
    render();
    bindHover();
    graph.dispatchEvent(new CustomEvent("chainrule:loaded", { bubbles: true }));
  }

  function fitGraph(graph) {
    // Small graphs fill the panel; long ones (a loop) keep a readable size and scroll.
    const svg = graph.querySelector("svg");
    if (!svg || !svg.viewBox || !svg.viewBox.baseVal) return;
    const natural = svg.viewBox.baseVal.width * 1.33;
    // Never shrink node text below 14 px (read in class): a wide graph keeps that size and
    // scrolls, following the current node (reveal), instead of shrinking to fit.
    const text = svg.querySelector("g.node text");
    const fontUnits = text ? parseFloat(text.getAttribute("font-size")) || 14 : 14;
    const legible = svg.viewBox.baseVal.width * 14.5 / fontUnits;
    svg.style.minWidth = legible > graph.clientWidth ? legible + "px" : "";
    graph.classList.toggle("scrolls", natural > graph.clientWidth * 2.2 || legible > graph.clientWidth);
    // A small graph grows to at most 1.8× its natural size, not to the whole panel.
    svg.style.maxWidth = natural * 1.8 < graph.clientWidth ? natural * 1.8 + "px" : "";
    svg.style.margin = "0 auto";
  }

  function reveal(id) {
    const graph = document.getElementById("graph");
    const element = document.getElementById(id);
    if (!graph || !element || !graph.classList.contains("scrolls")) return;
    // Scroll the graph panel only (scrollIntoView would move the whole page too).
    const reduce = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    const box = element.getBoundingClientRect(), view = graph.getBoundingClientRect();
    graph.scrollBy({ left: box.left + box.width / 2 - (view.left + view.width / 2),
                     top: box.top + box.height / 2 - (view.top + view.height / 2),
                     behavior: reduce ? "auto" : "smooth" });
  }

  // ---- hovering a node shows its arithmetic -------------------------------------------
  function bindHover() {
    const card = document.getElementById("hover-card");
    if (!card) return;
    trace.nodes.forEach(function (node) {
      const group = state.nodes[node.id] && state.nodes[node.id].group;
      if (!group) return;
      group.addEventListener("mouseenter", function (event) {
        card.textContent = "";
        const formula = document.createElement("div");
        formula.className = "formula";
        const parts = [forwardText(node)];
        if (node.grad !== null || node.grad_summary) parts.push(backwardText(node));
        // A long vector shows its first entries in the node; here, all of them.
        [["value", node.value], ["grad", node.grad]].forEach(function (pair) {
          if (!Array.isArray(pair[1])) return;
          const flat = pair[1].flat(Infinity);
          if (flat.length <= 8) return;
          parts.push("all " + flat.length + " entries of " + pair[0] + ":\n" + flat.slice(0, 400).map(fmt).join(", ") +
            (flat.length > 400 ? ", …" : ""));
        });
        formula.textContent = parts.join("\n\n");
        card.appendChild(formula);
        card.hidden = false;
        card.style.left = Math.min(event.clientX + 14, window.innerWidth - 380) + "px";
        card.style.top = (event.clientY + 14) + "px";
      });
      group.addEventListener("mouseleave", function () { card.hidden = true; });
    });
  }

  // ---- wiring ---------------------------------------------------------------------


  function textField(target) {
    if (!target || !target.tagName) return false;
    if (target.tagName === "TEXTAREA" || target.tagName === "SELECT" || target.isContentEditable) return true;
    return target.tagName === "INPUT" && ["radio", "checkbox", "button", "submit"].indexOf(target.type) < 0;
  }
  function pressable(target) {
    // Space belongs to the focused control (Run, a link, a radio), never to the player.
    return target && target.closest && !!target.closest("button, a, summary, input, label");
  }

  document.addEventListener("keydown", function (event) {
    // Arrows act on the player wherever focus is, except in text fields (on a View radio
    // they step the player instead of switching the view).
    if (textField(event.target) || event.altKey || event.ctrlKey || event.metaKey) return;
    if (event.key === " " && pressable(event.target)) return;
    if (event.key === "ArrowRight") { pause(); step(1); event.preventDefault(); }
    else if (event.key === "ArrowLeft") { pause(); step(-1); event.preventDefault(); }
    else if (event.key === " ") { timer ? pause() : play(); event.preventDefault(); }
    else if (event.key === "Home") { reset(); event.preventDefault(); }
    else if (document.body.classList.contains("presenter") && presenterKey(event.key)) { event.preventDefault(); }
    else if (event.key === "Escape" && document.body.classList.contains("presenter")) {
      // Without full screen (not allowed), Esc still leaves presenter mode.
      const button = document.getElementById("presenter-toggle");
      if (button) togglePresenter(button);
    }
  });

  document.addEventListener("click", function (event) {
    const button = event.target.closest("[data-action], [data-copy], #presenter-toggle, #presenter-code");
    if (!button) return;
    const action = button.getAttribute("data-action");
    if (action === "forward") { pause(); step(1); }
    else if (action === "back") { pause(); step(-1); }
    else if (action === "reset") reset();
    else if (action === "play") timer ? pause() : play();
    else if (button.hasAttribute("data-copy")) copy(button);
    else if (button.id === "presenter-toggle") togglePresenter(button);
    else if (button.id === "presenter-code") toggleCode();
  });

  document.addEventListener("change", function (event) {
    const target = event.target;
    if (target.matches('[data-action="speed"]') && timer) { pause(); play(); }
    const editor = document.getElementById("editor");
    if (!editor) return;
    if (target.id === "point-slider") {
      // Moving the point moves the input: the graph and the plot update together.
      const box = editor.querySelector('input.input-value[name="' + target.dataset.input + '"]');
      if (box) { box.value = target.value; editor.requestSubmit(); }
    } else if (target.id === "replay") {
      // Replaying a step puts that step's inputs in the boxes: the graph shows its passes.
      const inputs = JSON.parse(target.dataset.steps)[Number(target.value) - 1];
      Object.keys(inputs).forEach(function (name) {
        const box = editor.querySelector('input.input-value[name="' + name + '"]');
        if (box) box.value = JSON.stringify(inputs[name]);
      });
      editor.requestSubmit();
    } else if (target.id === "plot-wrt") {
      document.getElementById("wrt-field").value = target.value;
      editor.requestSubmit();
    }
  });
  document.addEventListener("input", function (event) {
    if (event.target.id === "point-slider") {
      const out = document.getElementById("point-value");
      if (out) out.textContent = Number(event.target.value).toPrecision(4);
    }
    if (event.target.id === "replay") {
      const out = document.getElementById("replay-step");
      if (out) out.textContent = event.target.value;
    }
  });

  function copy(button) {
    const field = document.querySelector(button.getAttribute("data-copy"));
    if (!field) return;
    const done = function () {
      button.classList.add("copied");
      setTimeout(function () { button.classList.remove("copied"); }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(done, function () { field.select(); });
    } else {
      field.select();  // plain-http classroom servers: the text is selected for Ctrl+C
      try { document.execCommand("copy"); done(); } catch (e) { /* selected is enough */ }
    }
  }

  // Presenter keys: C shows the code beside the graph; + and − zoom the graph, 0 fits it.
  function presenterKey(key) {
    if (key === "c" || key === "C") { toggleCode(); return true; }
    if (key === "+" || key === "=") { setZoom(zoom * 1.25); return true; }
    if (key === "-" || key === "−") { setZoom(zoom / 1.25); return true; }
    if (key === "0") { setZoom(1); return true; }
    return false;
  }
  function toggleCode() {
    const on = document.body.classList.toggle("show-code");
    const button = document.getElementById("presenter-code");
    if (button) {
      button.setAttribute("aria-pressed", on ? "true" : "false");
      button.textContent = on ? "Hide code (C)" : "Show code (C)";
    }
  }
  function setZoom(value) {
    const graph = document.getElementById("graph");
    const svg = graph && graph.querySelector("svg");
    if (!svg) return;
    zoom = Math.max(1, Math.min(6, value));
    graph.classList.toggle("zoomed", zoom > 1);
    svg.style.width = zoom > 1 ? (zoom * 100) + "%" : "";
    if (zoom === 1) { fitGraph(graph); return; }
    graph.classList.add("scrolls");  // reveal() then keeps the current step in view
    if (index > 0) reveal(steps[index - 1].node);
  }

  function togglePresenter(button) {
    const on = !document.body.classList.contains("presenter");
    document.body.classList.toggle("presenter", on);
    button.setAttribute("aria-pressed", on ? "true" : "false");
    button.textContent = on ? "Exit presenter (Esc)" : "Presenter mode";
    if (on && document.documentElement.requestFullscreen) {
      document.documentElement.requestFullscreen().catch(function () { /* not allowed: large type only */ });
    } else if (!on && document.fullscreenElement) {
      document.exitFullscreen();
    }
  }
  document.addEventListener("fullscreenchange", function () {
    if (!document.fullscreenElement) {
      document.body.classList.remove("presenter");
      const button = document.getElementById("presenter-toggle");
      if (button) { button.setAttribute("aria-pressed", "false"); button.textContent = "Presenter mode"; }
    }
  });

  // ---- an error replaces the stale graph ----------------------------------------------
  function markStale() {
    const error = document.querySelector("#error .error");
    const area = document.getElementById("graph-area");
    if (!area) return;
    let note = document.getElementById("stale-note");
    const stale = !!error && !!state;
    if (state) state.stale = stale;
    area.classList.toggle("stale", stale);
    if (stale && !note) {
      note = document.createElement("p");
      note.id = "stale-note";
      note.className = "stale-note";
      note.textContent = "Last working version (not playable): fix the error above to update the graph.";
      area.insertBefore(note, area.firstChild);
    } else if (!stale && note) {
      note.remove();
    }
    document.querySelectorAll(".player button").forEach(function (b) { b.disabled = stale; });
    if (stale) {
      pause();
      const status = document.getElementById("step-status");
      if (status) status.textContent = "Error: the code does not run";
      const chain = document.getElementById("chain");
      if (chain) chain.textContent = error.textContent.trim();
    } else if (state && !error) {
      render();
    }
  }

  // ---- 429: the server asks to wait; count down, then send the editor again ---------
  let retryTimer = null;
  document.addEventListener("htmx:responseError", function (event) {
    const xhr = event.detail && event.detail.xhr;
    const editor = document.getElementById("editor");
    if (!xhr || xhr.status !== 429 || !editor || event.detail.elt !== editor) return;
    let left = Math.max(1, parseInt(xhr.getResponseHeader("Retry-After") || "2", 10) || 2);
    const box = document.getElementById("error");
    if (retryTimer) clearInterval(retryTimer);
    const show = function () {
      box.innerHTML = "";
      const div = document.createElement("div");
      div.className = "error busy";
      div.setAttribute("role", "status");
      div.textContent = "The server is busy: trying again in " + left + " s.";
      box.appendChild(div);
    };
    show();
    retryTimer = setInterval(function () {
      left -= 1;
      if (left > 0) { show(); return; }
      clearInterval(retryTimer); retryTimer = null;
      box.innerHTML = "";
      editor.requestSubmit();
    }, 1000);
  });

  document.addEventListener("htmx:afterSettle", function () {
    load();
    markStale();
  });
  document.addEventListener("htmx:oobAfterSwap", function () { markStale(); });
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", load);
  else load();

  window.chainrule = { step: step, reset: reset,
    state: function () { return { index: index, steps: steps.length, stale: !!(state && state.stale), loads: loads }; } };
})();
