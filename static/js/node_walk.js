/* Walking the graph from the keyboard: Tab into the graph, then ] and [ (or Shift+↓ and
 * Shift+↑) move node by node in forward order, Enter takes the player to that node's step,
 * Esc goes back to the graph. Each node's accessible name (name, value, gradient) follows
 * what the graph shows at the player's step. (The player's own keys ← → Space Home stay.)
 */
(function () {
  "use strict";

  const walk = { player: null, order: [], at: -1 };

  function groups(p) {
    const order = p.trace.forward.concat(p.trace.nodes.map(function (n) { return n.id; })
      .filter(function (id) { return p.trace.forward.indexOf(id) < 0; }));
    return order.map(function (id) { return p.root.querySelector('[id="' + id + '"][data-kind]'); })
      .filter(Boolean);
  }

  function label(p, group) {
    const node = p.trace.nodes.find(function (n) { return n.id === group.id; }) || {};
    const rows = group.querySelectorAll("text:not(.cr-tangent)");
    const hasValue = group.hasAttribute("data-value"), hasGrad = group.hasAttribute("data-grad");
    const parts = [node.name || node.label || group.id];
    if (hasValue) {
      const v = rows[1] ? rows[1].textContent : "";
      parts.push(v === "?" ? "value not computed yet" : "value " + v);
    }
    if (hasGrad) {
      const g = rows[hasValue ? 2 : 1] ? rows[hasValue ? 2 : 1].textContent : "";
      parts.push(g === window.chainruleGraph.NOT_YET ? "gradient not yet" : "gradient " + g.replace(/^grad /, ""));
    }
    if (group.dataset.tangent) parts.push("tangent " + group.dataset.tangent);
    return parts.join(", ");
  }

  function focusNode(index) {
    const p = walk.player;
    if (!p || !walk.order.length) return;
    walk.at = (index + walk.order.length) % walk.order.length;
    walk.order.forEach(function (g, i) { g.classList.toggle("walk-focus", i === walk.at); });
    const group = walk.order[walk.at];
    group.setAttribute("aria-label", label(p, group));
    group.focus();
  }

  document.addEventListener("chainrule:loaded", function (event) {
    const p = event.detail.player;
    if (p.root.id !== "graph") return;
    walk.player = p;
    walk.order = groups(p);
    walk.at = -1;
    p.root.setAttribute("tabindex", "0");
    p.root.setAttribute("role", "group");
    p.root.setAttribute("aria-roledescription", "graph");
    p.root.setAttribute("aria-label", "Autograd graph: press ] or [ to walk its nodes");
    walk.order.forEach(function (g) { g.setAttribute("tabindex", "-1"); });
  });

  document.addEventListener("chainrule:step", function (event) {
    const p = event.detail.player;
    if (p !== walk.player) return;
    walk.order.forEach(function (g) { g.setAttribute("aria-label", label(p, g)); });
  });

  // The focused graph's keys (keys.js): before presenter mode's and the player's.
  window.chainruleKeys.add("focus", function (event) {
    const p = walk.player;
    if (!p || !p.root.contains(event.target)) return false;
    const next = event.key === "]" || (event.shiftKey && event.key === "ArrowDown");
    const previous = event.key === "[" || (event.shiftKey && event.key === "ArrowUp");
    if (next || previous) {
      focusNode(walk.at < 0 ? (next ? 0 : -1) : walk.at + (next ? 1 : -1));
      return true;
    }
    if (event.key === "Enter" && walk.at >= 0 && event.target !== p.root) {
      const index = window.chainruleTape ? window.chainruleTape.stepOf(p, walk.order[walk.at].id, false) : -1;
      if (index >= 0) { p.pause(); p.go(index + 1); }
      walk.order[walk.at].setAttribute("aria-label", label(p, walk.order[walk.at]));
      return true;
    }
    if (event.key === "Escape" && walk.at >= 0) {
      walk.order[walk.at].classList.remove("walk-focus");
      walk.at = -1;
      p.root.focus();
      return true;
    }
    return false;
  });

  window.chainruleWalk = { state: function () {
    return { at: walk.at, node: walk.at >= 0 ? walk.order[walk.at].id : null };
  } };
})();
