/* The evaluation-trace table (templates/_tape.html) follows the player: a row's value
 * appears at its forward step, its adjoint's contributions as each consumer's backward
 * step runs, its total at its own backward step; the current row is highlighted; a click
 * on a row takes the player to that row's step. The server wrote every final text in the
 * cells' data-final; this script only shows or hides them (a practice page's asked rows
 * have none until practice.js hands their texts to reveal()). Listens to the player's events.
 */
(function () {
  "use strict";

  const PENDING = "?";

  function table() { return document.getElementById("tape-table"); }

  // Which nodes have their value / gradient shown at the player's index.
  function known(player) {
    const state = player.state(), value = new Set(), grad = new Set();
    for (let i = 0; i < state.index; i++) {
      const step = player.steps[i];
      (step.phase === "forward" ? value : grad).add(step.node);
    }
    return { value: value, grad: grad, step: state.step };
  }

  function fill(player) {
    const tab = table();
    if (!tab || player.root.id !== "graph") return;
    const seen = known(player);
    tab.querySelectorAll("tr.tape-row").forEach(function (row) {
      const id = row.dataset.node, node = player.trace.nodes.find(function (n) { return n.id === id; });
      const hasValue = seen.value.has(id) || (node && node.kind === "constant");
      const value = row.querySelector("td.value"), tangent = row.querySelector("td.tangent");
      value.textContent = hasValue ? value.dataset.final : PENDING;
      tangent.textContent = hasValue && tangent.dataset.final ? tangent.dataset.final : "–";
      const adjoint = row.querySelector("td.adjoint");
      const total = adjoint.querySelector(".total"), hasGrad = seen.grad.has(id);
      // Contributions arrive as each consumer's backward step runs; the sum is PyTorch's,
      // shown once the node's own step has added them up.
      let arrived = 0;
      adjoint.querySelectorAll(".contribution").forEach(function (part) {
        const on = hasGrad || seen.grad.has(part.dataset.from);
        part.hidden = !on;
        if (on) arrived += 1;
      });
      adjoint.querySelectorAll(".plus").forEach(function (plus, i) { plus.hidden = !hasGrad && i >= arrived - 1; });
      adjoint.classList.toggle("partial", !hasGrad && arrived > 0);
      adjoint.classList.toggle("pending", !hasGrad && arrived === 0);
      total.hidden = !hasGrad;
      const lhs = adjoint.querySelector(".lhs");
      if (lhs) lhs.hidden = !hasGrad && arrived === 0;
      const current = !!seen.step && seen.step.node === id;
      row.classList.toggle("current", current);
      row.classList.toggle("current-backward", current && seen.step.phase === "backward");
      if (current) row.setAttribute("aria-current", "step"); else row.removeAttribute("aria-current");
    });
  }

  // The step a row stands for: its backward step once the player is past the forward
  // pass (or the click was on the adjoint), else its forward step.
  function stepOf(player, id, wantBackward) {
    const state = player.state();
    const backward = wantBackward || (state.step && state.step.phase === "backward");
    let found = -1;
    player.steps.forEach(function (step, i) {
      if (step.node !== id) return;
      if (found < 0 || (backward && step.phase === "backward")) found = i;
    });
    return found;
  }

  document.addEventListener("click", function (event) {
    const row = event.target.closest && event.target.closest("#tape-table tr.tape-row");
    const player = window.chainrule && window.chainrule.player();
    if (!row || !player) return;
    const index = stepOf(player, row.dataset.node, !!event.target.closest("td.adjoint"));
    if (index < 0) return;
    player.pause();
    player.go(index + 1);
  });

  function describe(player) {
    // The table is the graph's long description. The graph and the table arrive in one
    // response, in either order: whichever comes second makes the link.
    const root = player.root;
    if (root.id !== "graph") return;
    if (table()) root.setAttribute("aria-describedby", "tape-table");
    else root.removeAttribute("aria-describedby");  // an error replaced the table
  }

  document.addEventListener("chainrule:loaded", function (event) { describe(event.detail.player); });
  document.addEventListener("chainrule:step", function (event) { fill(event.detail.player); });
  document.addEventListener("htmx:oobAfterSwap", function () {  // a new table for the same graph
    const player = window.chainrule && window.chainrule.player();
    if (player) { describe(player); fill(player); }
  });

  function span(className, text) {
    const el = document.createElement("span");
    el.className = className;
    el.textContent = text;
    return el;
  }

  // A row's adjoint the page did not carry (practice mode), now answered: the cell as
  // templates/_tape.html writes it, from the server's texts ({bar, adjoint, contributions, sign}).
  function reveal(id, texts) {
    const tab = table(), row = tab && tab.querySelector('tr.tape-row[data-node="' + id + '"]');
    if (!row || !texts) return;
    const cell = row.querySelector("td.adjoint");
    cell.textContent = "";
    cell.dataset.final = texts.adjoint;
    if (texts.contributions.length) {
      cell.appendChild(span("lhs", texts.bar + " = "));
      texts.contributions.forEach(function (c, i) {
        if (i) cell.appendChild(span("plus", " + "));
        const part = cell.appendChild(span("contribution", c.text + " (from " + c.from + ")"));
        part.dataset.from = c.from_id;
      });
      cell.appendChild(span("total", " " + (texts.sign || "=") + " " + texts.adjoint));  // ≈: rounded parts
    } else {
      cell.appendChild(span("total", texts.adjoint || "–"));
    }
  }

  window.chainruleTape = { fill: fill, stepOf: stepOf, reveal: reveal };
})();
