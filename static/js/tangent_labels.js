/* Forward mode's tangent label under each node of a drawn graph, v̇ = …: the page's
 * forward_mode.js and a student's frame in a live class (classroom.js) draw them the same. */
(function () {
  "use strict";

  // The tangent's name: x1 → ẋ1 (a combining dot over the letter); loss → tangent(loss).
  function dot(name) { return /^[A-Za-z]\d*$/.test(name) ? name[0] + "\u0307" + name.slice(1) : "tangent(" + name + ")"; }

  // Every node of player `p`'s graph with a tangent in `rows` ({id: {tangent, shape}}) gets its
  // label, made once under its box in the graph's own document (a frame's, for a student);
  // `label.dataset.final` is its text, shown when the caller says. Returns [{node, group, label}].
  function draw(p, rows, format) {
    const doc = p.root.ownerDocument, svg = p.root.querySelector("svg"), drawn = [];
    if (svg && svg.viewBox && svg.viewBox.baseVal && !svg.dataset.tangentRoom) {
      svg.viewBox.baseVal.height += 14;  // room for the labels under the lowest nodes
      svg.dataset.tangentRoom = "1";
    }
    p.trace.nodes.forEach(function (node) {
      const group = p.root.querySelector('[id="' + node.id + '"][data-kind]'), row = rows[node.id];
      if (!group || !row || row.tangent === undefined || row.tangent === null) return;
      let label = group.querySelector("text.cr-tangent");
      if (!label) {
        const box = group.getBBox();
        label = doc.createElementNS("http://www.w3.org/2000/svg", "text");
        label.setAttribute("class", "cr-tangent");
        label.setAttribute("text-anchor", "middle");
        label.setAttribute("x", box.x + box.width / 2);
        label.setAttribute("y", box.y + box.height + 11);
        group.appendChild(label);
      }
      label.dataset.final = dot(node.name || node.label) + " = " + format.value(row.tangent, row.shape);
      drawn.push({ node: node, group: group, label: label });
    });
    return drawn;
  }

  function clear(p) { p.root.querySelectorAll("text.cr-tangent").forEach(function (t) { t.remove(); }); }

  window.chainruleTangentLabels = { dot: dot, draw: draw, clear: clear };
})();
