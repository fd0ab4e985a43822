/* Practice mode: before each backward step is shown, the student types the gradient they
 * expect. The server checks it (POST /api/practice/answer, relative 1e-3 or absolute 1e-6):
 * the page carries none of the gradients it asks (trace.practice.asked lists them). A right
 * answer, or Show me, brings that node's numbers. Hints come a level at a time: the first
 * wrong answer names the rule (upstream gradient × local derivative, a sum at a fan-out)
 * without a number; the next ones give the two factors (PyTorch's); only Show me gives the
 * product. The question and its feedback sit in a card beside the node asked. A score at
 * the end. On with ?practice=1; the box redraws the graph with or without the answers.
 * It listens to the player's events, calls go() and hands revealed texts to the player.
 */
(function () {
  "use strict";

  const F = window.chainruleFormat;
  const quiz = { asking: 0, answered: new Set(), right: 0, asked: 0, tries: 0, busy: false, trace: null,
                 pending: false, revealed: {}, placed: null, fedAt: 0 };

  function el(id) { return document.getElementById(id); }
  function on() { const box = el("practice-toggle"); return !!box && box.checked; }
  function player() { return window.chainrule && window.chainrule.player(); }
  function nodeOf(p, id) { return p.trace.nodes.find(function (n) { return n.id === id; }); }
  function nameOf(node) { return node.name || node.label; }

  // The server says which gradients it asks (single numbers; lesson/practice.py). A folded
  // box keeps only its last repetition's numbers (the one backward reaches first): only that
  // step is asked.
  function askable(p, index) {
    const step = p.steps[index - 1], asked = p.trace.practice && p.trace.practice.asked;
    if (!step || !asked || step.phase !== "backward" || asked.indexOf(step.node) < 0) return false;
    return !(step.repetition && step.repetition !== nodeOf(p, step.node).folded.count);
  }

  // Says so on screen when the step now shown is a tensor's backward step (no question).
  function tensorNote(p, index) {
    const note = el("practice-tensor");
    if (!note) return;
    const step = p && p.steps[index - 1], node = step && nodeOf(p, step.node);
    note.hidden = !(on() && node && step.phase === "backward" && typeof node.grad !== "number"
                    && node.grad !== null && node.grad !== undefined);
  }

  function parse(text) {
    const cleaned = text.trim().replace(/−/g, "-").replace(/\s+/g, "");
    return cleaned === "" ? NaN : Number(cleaned);
  }

  function outputName(p) {
    const out = p.trace.nodes.find(function (n) { return n.kind === "output"; });
    return out ? nameOf(out) : "y";
  }

  // The hints, one level at a time (issue 29): the first names the rule and no number, the
  // second gives the two factors of each use, only a reveal (or a right answer) the product.
  // `edges`: the node's outgoing edges that carried a gradient, from the server (with their
  // local derivative from the second hint on); each consumer's gradient was shown at its own,
  // earlier step. A carried edge leaves an earlier repetition of a folded box: not this one.
  function uses(p, edges) {
    return edges.filter(function (e) { return !e.carried; }).map(function (e) {
      return { edge: e, consumer: nodeOf(p, e.target) };
    });
  }

  // After a backward() from one scalar output's 1 the gradients are derivatives, ∂y/∂v; after
  // any other seed (a grad_output, a tensor's ones, several outputs) they are adjoints, v̄,
  // and a question or hint in ∂ would be false. The server says which (practice.derivatives),
  // and explain.py writes its sentences the same way.
  function derivatives(p) { return !(p.trace.practice && p.trace.practice.derivatives === false); }

  function bar(name) {  // notation.py's bar(): x1 → x̄1, a longer name overlined whole
    return /^[A-Za-z][\d₀-₉]*$/.test(name) ? name[0] + "\u0304" + name.slice(1)
      : Array.from(name).map(function (c) { return c + "\u0305"; }).join("");
  }

  function gradOf(p, name) { return derivatives(p) ? "∂" + outputName(p) + "/∂" + name : bar(name); }

  // Into the output itself the outer factor is the seed and the inner one the output's local
  // derivative: as ∂y/∂y × ∂y/∂x the hint read as circular (explain.py words it the same).
  // An operation that uses the node twice (x · x) gives one contribution per use.
  function term(p, node, use, twice) {
    const c = nameOf(use.consumer), one = twice ? " (one use of " + nameOf(node) + ")" : "";
    if (use.consumer.kind === "output") {
      return gradOf(p, c) + " × " + c + "'s local derivative in " + (twice ? "one use of " : "") + nameOf(node);
    }
    return gradOf(p, c) + " × ∂" + c + "/∂" + nameOf(node) + one;
  }

  function hint(p, node, edges, level) {
    if (node.kind === "output") {
      const seed = gradOf(p, nameOf(node));
      return level === 1 ? "Backward starts at the output, with " + seed + ": the gradient backward() was given."
        : seed + " is what backward() was given: 1 when it was given none.";
    }
    const all = uses(p, edges);
    if (level === 1) {
      const ops = all.map(function (u) { return u.consumer.id; });
      const sum = rule(p, node) + " = " + all.map(function (u) {
        return term(p, node, u, ops.filter(function (id) { return id === u.consumer.id; }).length > 1);
      }).join(" + ");
      const feeds = new Set(ops).size === ops.length ? "feeds " + all.length + " operations"
        : "is used " + all.length + " times";
      return all.length > 1
        ? "A fan-out: " + nameOf(node) + " " + feeds + ", so its gradient is a sum, one " +
          "upstream gradient × local derivative per use: " + sum + "."
        : "Upstream gradient × local derivative: " + sum + ".";
    }
    const factors = all.map(function (u) {
      const c = nameOf(u.consumer), e = u.edge;
      if (typeof e.local_grad !== "number" || typeof u.consumer.grad !== "number") {
        return "through " + c + ": what " + c + "'s backward returned";
      }
      if (u.consumer.kind === "output") {
        return gradOf(p, c) + " = " + F.number(u.consumer.grad) + " (the seed, above) and " + c +
          "'s local derivative in " + nameOf(node) + " = " + F.number(e.local_grad);
      }
      return gradOf(p, c) + " = " + F.number(u.consumer.grad) + " (its step, above) and ∂" + c + "/∂" +
        nameOf(node) + " = " + F.number(e.local_grad);
    });
    return "The factors: " + factors.join("; ") + (all.length > 1 ? ". Multiply each pair, then add." : ". Multiply them.");
  }

  // The product, each contribution and the sum as PyTorch computed them (the edges' `grad`).
  function product(p, node, edges, grad) {
    const all = uses(p, edges);
    const numeric = all.every(function (u) {
      return typeof u.edge.local_grad === "number" && typeof u.consumer.grad === "number" && typeof u.edge.grad === "number";
    });
    if (node.kind === "output" || !all.length || !numeric) return rule(p, node) + " = " + F.number(grad) + ".";
    const factors = all.map(function (u) { return F.number(u.consumer.grad) + " × " + F.number(u.edge.local_grad); });
    const parts = all.map(function (u) { return F.number(u.edge.grad); });
    return rule(p, node) + " = " + factors.join(" + ") + (all.length > 1 ? " = " + parts.join(" + ") : "") +
      " = " + F.number(grad) + ": upstream gradient × local derivative" +
      (all.length > 1 ? ", summed over the " + all.length + " uses of " + nameOf(node) : "") + ".";
  }

  // The question and its feedback sit beside the node asked, not under the page (issue 29):
  // the card is laid over the page on the side of the node's box (right, left, below, above)
  // where it hides the least of the other nodes, the controls and the explanation.
  // `id` null: back in the Practice box.
  function place(p, id) {
    const card = el("practice-card");
    if (!card) return;
    const group = id && p && p.root.querySelector('[id="' + id + '"][data-kind]');
    const shown = !el("practice-form").hidden || el("practice-feedback").textContent !== "";
    card.classList.toggle("beside", !!group && shown);
    if (!group || !shown) { card.style.left = card.style.top = ""; quiz.placed = null; return; }
    quiz.placed = id;
    const box = group.getBoundingClientRect(), gap = 12, width = card.offsetWidth, height = card.offsetHeight;
    const fit = function (x, y) {  // inside the window
      return [Math.max(8, Math.min(x, window.innerWidth - width - 8)), Math.max(8, Math.min(y, window.innerHeight - height - 8))];
    };
    const sides = [fit(box.right + gap, box.top), fit(box.left - gap - width, box.top),
                   fit(box.left, box.bottom + gap), fit(box.left, box.top - gap - height)];
    // The nodes the asked node feeds (its consumers, their gradients the upstream factors
    // the student multiplies; read from the trace, since the question comes before its step
    // is shown) weigh ten times the others: the card once sat over v1's gradient while
    // asking for x's. The player's controls weigh twenty (a student clicks Step next), the
    // node itself a hundred.
    const needed = new Set();
    p.trace.edges.forEach(function (e) { if (e.source === id) needed.add(e.target); });
    const weighed = Array.from(p.root.querySelectorAll("g[data-kind]")).filter(function (g) { return g !== group; })
      .map(function (g) { return [g.getBoundingClientRect(), needed.has(g.id) ? 10 : 1]; })
      .concat(Array.from(p.root.querySelectorAll("g.op-circle, [id$='-op']")).filter(function (c) { return needed.has(c.id.replace(/-op$/, "")); })
        .map(function (c) { return [c.getBoundingClientRect(), 10]; }))
      .concat([[el("player"), 20], [el("chain"), 1]].filter(function (item) { return item[0]; })  // the controls stay clickable
        .map(function (item) { return [item[0].getBoundingClientRect(), item[1]]; }))
      .concat([[box, 100]]);
    const hidden = function (at) {  // the weighed area of what the card would cover
      return weighed.reduce(function (sum, item) {
        const r = item[0], w = Math.min(at[0] + width, r.right) - Math.max(at[0], r.left);
        const h = Math.min(at[1] + height, r.bottom) - Math.max(at[1], r.top);
        return sum + (w > 0 && h > 0 ? w * h * item[1] : 0);
      }, 0);
    };
    const best = sides.reduce(function (a, b) { return hidden(b) < hidden(a) ? b : a; });
    const left = best[0], top = best[1];
    // Absolute, in the coordinates of the card's containing block (the document's, here).
    const parent = card.offsetParent;
    let x = -window.scrollX, y = -window.scrollY;
    if (parent && parent !== document.body && parent !== document.documentElement) {
      const r = parent.getBoundingClientRect();
      x = r.left + parent.clientLeft - parent.scrollLeft; y = r.top + parent.clientTop - parent.scrollTop;
    }
    card.style.left = (left - x) + "px";
    card.style.top = (top - y) + "px";
  }

  function rule(p, node) { return gradOf(p, nameOf(node)); }

  function score(p) {
    const total = p.steps.filter(function (s, i) { return askable(p, i + 1); }).length;
    const done = p.state().index >= p.steps.length && quiz.asked > 0;
    el("practice-score").textContent = !on() || !quiz.asked ? "" :
      (done ? "Score: " + quiz.right + " of " + total + " right at the first try." :
              quiz.right + " of " + quiz.asked + " right at the first try so far (" + total + " questions in all).");
  }

  function ask(p, index) {
    const node = nodeOf(p, p.steps[index - 1].node);
    quiz.asking = index;
    quiz.tries = 0;
    el("practice-question").textContent = "Backward step " + (index - p.state().forward) + ": what is " + rule(p, node) + "?";
    el("practice-feedback").textContent = "";
    el("practice-form").hidden = false;
    place(p, node.id);
    const answer = el("practice-answer");
    answer.value = "";
    answer.focus({ preventScroll: true });
  }

  // The node's numbers, as the page would have carried them, into the trace the panel,
  // the hover card and the hints read; its text to the graph; its row to the table.
  function apply(p, answer) {
    const node = nodeOf(p, answer.node);
    node.grad = answer.grad;
    if (answer.accumulated !== null && answer.accumulated !== undefined) node.accumulated = answer.accumulated;
    if (answer.explain) p.trace.explain.backward[answer.node] = answer.explain;
    answer.edges.forEach(function (e) { Object.assign(p.trace.edges[e.index], e); delete p.trace.edges[e.index].index; });
    if (answer.leaf && p.trace.leaves[answer.leaf.name]) Object.assign(p.trace.leaves[answer.leaf.name], answer.leaf);
    if (window.chainruleTape) window.chainruleTape.reveal(answer.node, answer.tape);
    if (answer.grad_text) p.setGradText(answer.node, answer.grad_text);
  }

  function reveal(p, right) {
    const index = quiz.asking;
    quiz.answered.add(index);
    quiz.asked += 1;
    if (right) quiz.right += 1;
    quiz.asking = 0;
    quiz.fedAt = index;
    el("practice-form").hidden = true;
    const toolbar = el("player");
    if (toolbar) toolbar.focus();  // → steps on at once
    p.go(index);
    score(p);
  }

  // One question to the server at a time; an answer that comes back after the student
  // moved on (or the graph changed) is dropped.
  function send(p, body, done) {
    const feedback = el("practice-feedback"), index = quiz.asking;
    if (quiz.pending || !p.root.dataset.answers) return;
    quiz.pending = true;
    el("practice-form").setAttribute("aria-busy", "true");
    body.node = p.steps[index - 1].node;
    window.chainruleRequests.answer(p.root.dataset.answers, body)
      .then(function (result) {
        if (player() !== p || quiz.asking !== index) return;
        if (!result.ok) {
          feedback.className = "practice-feedback wrong";
          feedback.textContent = result.data.error ? result.data.error.message : "The answer could not be checked.";
          return;
        }
        done(result.data);
      })
      .catch(function () {
        if (quiz.asking === index) feedback.textContent = "The answer could not be checked: try again.";
      })
      .finally(function () {
        quiz.pending = false;
        el("practice-form").removeAttribute("aria-busy");
      });
  }

  document.addEventListener("chainrule:loaded", function (event) {
    const p = event.detail.player;
    if (p.root.id !== "graph") return;
    if (p.source === quiz.trace) {  // the same graph redrawn: what was answered stays shown
      Object.keys(quiz.revealed).forEach(function (id) { apply(p, quiz.revealed[id]); });
      return;
    }
    quiz.trace = p.source;
    quiz.answered = new Set(); quiz.right = 0; quiz.asked = 0; quiz.asking = 0; quiz.revealed = {};
    const form = el("practice-form"), note = el("practice-tensor");
    if (form) form.hidden = true;
    if (note) note.hidden = true;  // a new graph starts before its first step
    quiz.fedAt = 0;
    if (el("practice-feedback")) el("practice-feedback").textContent = "";
    place(p, null);
  });
  document.addEventListener("htmx:oobAfterSwap", function (event) {  // its table, redrawn too
    const p = player();
    if (!p || event.detail.target.id !== "tape" || !window.chainruleTape) return;
    Object.keys(quiz.revealed).forEach(function (id) { window.chainruleTape.reveal(id, quiz.revealed[id].tape); });
    window.chainruleTape.fill(p);
  });

  document.addEventListener("chainrule:step", function (event) {
    const p = event.detail.player;
    if (quiz.busy || !on() || p.root.id !== "graph") return;
    // The first unanswered backward step the player has reached: stop just before it.
    for (let i = 1; i <= event.detail.index; i++) {
      if (!askable(p, i) || quiz.answered.has(i)) continue;
      quiz.busy = true;
      p.pause();
      p.go(i - 1);
      quiz.busy = false;
      tensorNote(p, i - 1);
      if (quiz.asking !== i) ask(p, i);
      return;
    }
    if (quiz.asking && event.detail.index < quiz.asking - 1) {  // stepped back: ask later
      quiz.asking = 0;
      el("practice-form").hidden = true;
      el("practice-feedback").textContent = "";
    }
    // The verdict stays beside its node while that step is shown; stepping on clears it.
    if (!quiz.asking && quiz.fedAt && event.detail.index !== quiz.fedAt) {
      quiz.fedAt = 0;
      el("practice-feedback").textContent = "";
    }
    place(p, quiz.placed);
    tensorNote(p, event.detail.index);
    score(p);
  });
  // The card follows its node when the graph or the page scrolls, or the window changes size.
  function follow() { const p = player(); if (p && quiz.placed) place(p, quiz.placed); }
  document.addEventListener("scroll", follow, true);
  window.addEventListener("resize", follow);

  document.addEventListener("submit", function (event) {
    if (event.target.id !== "practice-form") return;
    event.preventDefault();
    const p = player();
    if (!p || !quiz.asking) return;
    const node = nodeOf(p, p.steps[quiz.asking - 1].node);
    const answer = parse(el("practice-answer").value);
    const feedback = el("practice-feedback");
    if (!Number.isFinite(answer)) { feedback.textContent = "Type a number, like 0.5 or -1.2e-3."; return; }
    const level = quiz.tries === 0 ? 1 : 2;  // the hint this answer gets if it is wrong
    send(p, { answer: answer, hint: level }, function (result) {
      if (result.right) {
        quiz.revealed[result.node] = result;
        apply(p, result);
        feedback.textContent = "Right: " + rule(p, node) + " = " + F.number(result.grad) + (quiz.tries ? "." : ", at the first try.");
        feedback.className = "practice-feedback right";
        reveal(p, quiz.tries === 0);
        place(p, node.id);
        return;
      }
      quiz.tries += 1;
      feedback.className = "practice-feedback wrong";
      feedback.textContent = "Not quite (" + F.number(answer) + "). Hint: " + hint(p, node, result.edges, level) + " Try again, or Show me.";
      place(p, node.id);
    });
  });

  document.addEventListener("click", function (event) {
    if (event.target.id !== "practice-reveal") return;
    const p = player();
    if (!p || !quiz.asking) return;
    const node = nodeOf(p, p.steps[quiz.asking - 1].node);
    send(p, { reveal: true }, function (result) {
      quiz.revealed[result.node] = result;
      apply(p, result);
      const edges = p.trace.edges.filter(function (e) { return e.source === node.id && e.grad !== null && e.grad !== undefined; });
      el("practice-feedback").className = "practice-feedback shown";
      el("practice-feedback").textContent = "Shown: " + product(p, node, edges, result.grad);
      reveal(p, false);
      place(p, node.id);
    });
  });

  // The box is the page's practice state (the editor's hidden practice field): the graph is
  // drawn again, without the answers it asks or with all of them.
  document.addEventListener("change", function (event) {
    if (event.target.id !== "practice-toggle") return;
    quiz.answered = new Set(); quiz.right = 0; quiz.asked = 0; quiz.asking = 0; quiz.revealed = {};
    el("practice-form").hidden = true;
    el("practice-feedback").textContent = "";
    el("practice-score").textContent = "";
    quiz.fedAt = 0;
    place(player(), null);
    const field = el("practice-field"), editor = el("editor");
    if (field && editor) { field.value = on() ? "1" : ""; editor.requestSubmit(); }
  });
})();
