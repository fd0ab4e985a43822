/* The graph player: one object per graph, made by chainruleGraph.createPlayer(root).
 *
 * The server sends the whole trace as JSON on the graph's root (data-trace), its steps
 * built (trace.steps: {phase, node}, and a folded box's repetition), and puts each node's
 * final texts on its SVG <g> (data-kind, data-value, data-grad); stepping only toggles
 * classes and texts, so no step asks the server for anything. A practice page lists in
 * trace.practice.asked the nodes whose gradient it left out (their steps stay): practice.js
 * gets each from the server once answered and hands its text to player.setGradText(id, text).
 *
 * Every render dispatches "chainrule:step" (detail {index, step, phase, node, player}) on
 * the root, bubbling; a new player dispatches "chainrule:loaded" (detail {trace, player}).
 * Play and pause dispatch "chainrule:playing" (detail {playing, player}).
 */
(function () {
  "use strict";

  const NOT_YET = "grad: not yet";
  const ASKED = "grad ?";  // a practice page's gradient not answered yet (svg_fill.ASKED)

  // Each node's elements and final texts. The texts come from the data- attributes the
  // server put on the node's <g>, never from the <text> elements the player rewrites.
  function readNodes(root, trace) {
    const nodes = {};
    trace.nodes.forEach(function (node) {
      const group = root.querySelector('[id="' + node.id + '"][data-kind]');
      if (!group) return;
      nodes[node.id] = {
        group: group, circle: root.querySelector('[id="' + node.id + '-op"]'),
        value: group.querySelector('text[data-row="value"]'), grad: group.querySelector('text[data-row="grad"]'),
        valueText: group.getAttribute("data-value"), gradText: group.getAttribute("data-grad"),
      };
    });
    return nodes;
  }

  function setClass(element, name, on) { if (element) element.classList.toggle(name, on); }

  function createPlayer(root, options) {
    options = options || {};
    const trace = JSON.parse(root.dataset.trace);
    const byId = {};
    trace.nodes.forEach(function (n) { byId[n.id] = n; });
    // The steps come built, with the trace (webapp/lesson/steps.py: trace_steps); a folded
    // box's step says which repetition it is, of the box's folded.count.
    const steps = trace.steps || [];
    const self = {  // all of this graph's state
      root: root, source: root.dataset.trace, trace: trace, byId: byId, steps: steps,
      nodes: readNodes(root, trace), index: Math.min(options.index || 0, steps.length),
      stale: false, timer: null, zoom: 1,
      forwardCount: steps.filter(function (s) { return s.phase === "forward"; }).length,
    };
    const player = {};

    // The edges a step uses, found by the ends the server wrote on them (data-source,
    // data-target; data-part="op" from an operation's circle to its box). Forward: the
    // edges into the node; backward: the edges out of it, on to each consumer's box.
    function edgesOf(step) {
      const id = JSON.stringify(step.node);
      if (step.phase === "forward") return Array.from(root.querySelectorAll(".cr-edge[data-target=" + id + "]"));
      const out = Array.from(root.querySelectorAll(".cr-edge[data-source=" + id + "]:not([data-part])"));
      return out.concat.apply(out, out.map(function (edge) {
        return Array.from(root.querySelectorAll('.cr-edge[data-part="op"][data-target=' + JSON.stringify(edge.dataset.target) + "]"));
      }));
    }

    function render() {
      const valueKnown = new Set(), gradKnown = new Set();
      for (let i = 0; i < self.index; i++) (steps[i].phase === "forward" ? valueKnown : gradKnown).add(steps[i].node);
      const current = self.index > 0 ? steps[self.index - 1] : null;
      trace.nodes.forEach(function (node) {
        const t = self.nodes[node.id];
        if (!t) return;
        const known = valueKnown.has(node.id) || node.kind === "constant", hasGrad = gradKnown.has(node.id);
        [t.group, t.circle].forEach(function (el) {
          setClass(el, "st-pending", !known);
          setClass(el, "st-computed", known && !hasGrad);
          setClass(el, "st-grad", hasGrad);
          // Backward, a node's gradient comes from its consumers (their edges light up), not
          // from the operation that made it: its own circle stays plain (a bold × beside a
          // sentence about + misled a student).
          setClass(el, "st-current", !!current && current.node === node.id && (el === t.group || current.phase === "forward"));
        });
        if (t.value) t.value.textContent = known ? t.valueText : "?";
        if (t.grad) {
          t.grad.textContent = hasGrad ? t.gradText || ASKED : NOT_YET;
          setClass(t.grad, "not-yet", !hasGrad);
        }
      });
      root.querySelectorAll(".cr-edge.active").forEach(function (edge) { edge.classList.remove("active"); });
      if (current) {
        const edges = edgesOf(current);
        edges.forEach(function (el) { el.classList.add("active"); });
        reveal(current.node, edges);
      }
      root.dispatchEvent(new CustomEvent("chainrule:step", { bubbles: true, detail: {
        index: self.index, step: current, phase: current ? current.phase : null,
        node: current ? byId[current.node] : null, player: player } }));
    }

    function bounds(rects) {
      return { left: Math.min.apply(null, rects.map(function (r) { return r.left; })),
               right: Math.max.apply(null, rects.map(function (r) { return r.right; })),
               top: Math.min.apply(null, rects.map(function (r) { return r.top; })),
               bottom: Math.max.apply(null, rects.map(function (r) { return r.bottom; })) };
    }

    function reveal(id, edges) {
      // Scroll the graph panel only (scrollIntoView would move the whole page too), and at
      // once: a smooth scroll still running when the next key comes would fall behind.
      // The step's box and its operation's circle come into view, and with them, along each
      // axis where they fit, the step's edges and the ends they reach (a fan-out's every
      // consumer: the presenter's short strip cut its top row).
      const t = self.nodes[id];
      if (!t || !root.classList.contains("scrolls")) return;
      const own = [t.group.getBoundingClientRect()].concat(t.circle ? [t.circle.getBoundingClientRect()] : []);
      const node = bounds(own), step = bounds(own.concat((edges || []).map(function (e) { return e.getBoundingClientRect(); })));
      const view = root.getBoundingClientRect(), width = root.clientWidth - 8, height = root.clientHeight - 8;
      const x = step.right - step.left <= width ? step : node, y = step.bottom - step.top <= height ? step : node;
      root.scrollBy({ left: (x.left + x.right) / 2 - (view.left + root.clientWidth / 2),
                      top: (y.top + y.bottom) / 2 - (view.top + root.clientHeight / 2), behavior: "auto" });
    }

    function fit() {
      // Small graphs fill the panel; long ones (a loop) keep a readable size and scroll.
      const svg = root.querySelector("svg");
      if (!svg || !svg.viewBox || !svg.viewBox.baseVal) return;
      const width = svg.viewBox.baseVal.width, height = svg.viewBox.baseVal.height, natural = width * 1.33;
      // Never shrink node text below 14 px (read in class): a wide graph keeps that size
      // and scrolls, following the current node (reveal), instead of shrinking to fit.
      const text = svg.querySelector("g.node text");
      const fontUnits = text ? parseFloat(text.getAttribute("font-size")) || 14 : 14;
      // data-fit on an ancestor: "whole" shows the whole graph (presenter's 0); "presenter"
      // keeps node text at 20 px or more, read from the back of a room, and fits the height
      // the presenter layout gives the graph as well as its width.
      const host = root.closest("[data-fit]"), mode = host ? host.dataset.fit : "";
      const whole = mode === "whole", readable = mode === "presenter" ? 20 : 14.5;
      let legible = whole ? 0 : width * readable / fontUnits;
      svg.style.height = "";
      if ((mode === "presenter" || whole) && root.clientHeight) {
        const fitted = Math.min(root.clientWidth / width, root.clientHeight / height);
        if (whole || fitted * fontUnits >= readable) {  // the whole graph, in width and height
          legible = 0;
          svg.style.height = Math.min(root.clientHeight - 4, height * Math.min(fitted, 1.8 * 1.33)) + "px";
        }
      }
      svg.style.minWidth = legible > root.clientWidth ? legible + "px" : "";
      root.classList.toggle("scrolls", !whole && (natural > root.clientWidth * 2.2 || legible > root.clientWidth));
      // A small graph grows to at most 1.8× its natural size, not to the whole panel.
      svg.style.maxWidth = natural * 1.8 < root.clientWidth ? natural * 1.8 + "px" : "";
      svg.style.margin = "0 auto";
      if (self.index > 0 && root.classList.contains("scrolls")) reveal(steps[self.index - 1].node, edgesOf(steps[self.index - 1]));
      else if (root.classList.contains("scrolls") && steps.length) reveal(steps[0].node);
    }

    function playing(on) {
      root.dispatchEvent(new CustomEvent("chainrule:playing", { bubbles: true, detail: { playing: on, player: player } }));
    }

    player.go = function (index) {
      if (self.stale) return;
      self.index = Math.max(0, Math.min(steps.length, index));
      render();
    };
    player.step = function (delta) { player.go(self.index + delta); };
    player.reset = function () { player.pause(); player.go(0); };
    player.play = function (delay) {
      if (self.timer || !steps.length || self.stale) return;
      if (self.index >= steps.length) self.index = 0;
      self.timer = setInterval(function () {
        player.step(1);
        if (self.index >= steps.length) player.pause();
      }, delay || 900);
      playing(true);
    };
    player.pause = function () {
      if (!self.timer) return;
      clearInterval(self.timer);
      self.timer = null;
      playing(false);
    };
    player.playing = function () { return !!self.timer; };
    player.setStale = function (stale) {
      if (stale) player.pause();
      const was = self.stale;
      self.stale = stale;
      if (was && !stale) render();
    };
    player.setZoom = function (value) {  // 1: fitted; more: larger, scrolling, following the step
      const svg = root.querySelector("svg");
      if (!svg) return;
      // Zoom multiplies the size the graph is drawn at now (readable text may already be
      // twice the panel's width): each + shows at once.
      if (self.zoom === 1) self.base = svg.getBoundingClientRect().width;
      self.zoom = Math.max(1, Math.min(6, value));
      root.classList.toggle("zoomed", self.zoom > 1);
      if (self.zoom === 1) { svg.style.width = ""; fit(); return; }
      svg.style.height = "";
      svg.style.minWidth = "";
      svg.style.maxWidth = "none";
      svg.style.width = self.base * self.zoom + "px";
      root.classList.add("scrolls");
      if (self.index > 0) reveal(steps[self.index - 1].node, edgesOf(steps[self.index - 1]));
    };
    player.zoom = function () { return self.zoom; };
    // A gradient the page did not carry (practice mode), now answered: drawn from here on.
    player.setGradText = function (id, text) {
      const t = self.nodes[id];
      if (!t) return;
      t.gradText = text;
      t.group.setAttribute("data-grad", text);
      const node = byId[id], label = [node.name || node.label];
      if (t.valueText !== null) label.push("value " + t.valueText);
      label.push("gradient " + text.replace(/^grad /, ""));
      t.group.setAttribute("aria-label", label.join(", "));  // as svg_fill.accessible_name
      render();
    };
    player.fit = fit;
    player.render = render;
    player.state = function () {
      return { index: self.index, steps: steps.length, forward: self.forwardCount,
               backward: steps.length - self.forwardCount, stale: self.stale, playing: !!self.timer,
               zoom: self.zoom, step: self.index > 0 ? steps[self.index - 1] : null };
    };
    player.trace = trace;
    player.root = root;
    player.source = self.source;
    player.steps = steps;

    fit();
    root.dispatchEvent(new CustomEvent("chainrule:loaded", { bubbles: true, detail: { trace: trace, player: player } }));
    render();
    return player;
  }

  window.chainruleGraph = { createPlayer: createPlayer, NOT_YET: NOT_YET, ASKED: ASKED };
})();
