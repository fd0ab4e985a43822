/* Practice mode: before each backward step is shown, the student types the gradient they
 * expect. Checked to a tolerance (relative 1e-3 or absolute 1e-6), a hint after a wrong
 * answer (upstream gradient × local derivative, with PyTorch's numbers), a score at the end.
 * Opens on with ?practice=1. It only listens to the player's events and calls go().
 */
(function () {
  "use strict";

  const F = window.chainruleFormat;
  const RELATIVE = 1e-3, ABSOLUTE = 1e-6;
  const quiz = { asking: 0, answered: new Set(), right: 0, asked: 0, tries: 0, busy: false, trace: null };

  function el(id) { return document.getElementById(id); }
  function on() { const box = el("practice-toggle"); return !!box && box.checked; }
  function player() { return window.chainrule && window.chainrule.player(); }
  function nodeOf(p, id) { return p.trace.nodes.find(function (n) { return n.id === id; }); }
  function nameOf(node) { return node.name || node.label; }

  // Practice asks single numbers; a tensor's step is shown without a question.
  function askable(p, index) {
    const step = p.steps[index - 1], node = step && nodeOf(p, step.node);
    return !!node && step.phase === "backward" && typeof node.grad === "number" && !foldedAway(p, step, node);
  }

  // A folded box keeps only its last repetition's numbers (the last one the backward pass
  // reaches first), so only that step is asked; nor is a gradient asked that gathers one
  // contribution from each repetition of a box (x in `y = y * x` inside the loop).
  function foldedAway(p, step, node) {
    if (step.repetition && step.repetition !== step.repetitions) return true;
    return p.trace.edges.some(function (e) {
      const target = e.source === node.id && !e.carried && !e.entry && nodeOf(p, e.target);
      return !!target && !!target.folded && !node.folded;
    });
  }

  // Says so on screen when the step now shown is a tensor's backward step (no question).
  function tensorNote(p, index) {
    const note = el("practice-tensor");
    if (!note) return;
    const step = p && p.steps[index - 1], node = step && nodeOf(p, step.node);
    note.hidden = !(on() && node && step.phase === "backward" && typeof node.grad !== "number"
                    && node.grad !== null && node.grad !== undefined);
  }

  function close(answer, truth) {
    return Math.abs(answer - truth) <= Math.max(RELATIVE * Math.abs(truth), ABSOLUTE);
  }

  function parse(text) {
    const cleaned = text.trim().replace(/−/g, "-").replace(/\s+/g, "");
    return cleaned === "" ? NaN : Number(cleaned);
  }

  function hint(p, node) {
    const out = p.trace.nodes.find(function (n) { return n.kind === "output"; });
    const y = out ? nameOf(out) : "y";
    if (node.kind === "output") return "Backward starts at the output: ∂" + y + "/∂" + y + " = " + F.number(node.grad) + ".";
    // A carried edge leaves an earlier repetition of a folded box, not the one shown.
    const parts = p.trace.edges.filter(function (e) { return e.source === node.id && !e.carried && e.grad !== null && e.grad !== undefined; })
      .map(function (e) {
        const consumer = nodeOf(p, e.target);
        if (typeof e.local_grad !== "number" || typeof consumer.grad !== "number") {
          return "what " + nameOf(consumer) + "'s backward returned";
        }
        return "∂" + y + "/∂" + nameOf(consumer) + " × ∂" + nameOf(consumer) + "/∂" + nameOf(node) +
          " = " + F.number(consumer.grad) + " × " + F.number(e.local_grad);
      });
    return "Upstream gradient × local derivative" + (parts.length > 1 ? ", summed over the " + parts.length + " uses of " + nameOf(node) : "") +
      ": " + parts.join("  +  ") + ".";
  }

  function rule(p, node) {
    const out = p.trace.nodes.find(function (n) { return n.kind === "output"; });
    return "∂" + (out ? nameOf(out) : "y") + "/∂" + nameOf(node);
  }

  function score(p) {
    const total = p.steps.filter(function (s, i) { return askable(p, i + 1); }).length;
    const done = p.state().index >= p.steps.length && quiz.asked > 0;
    el("practice-score").textContent = !on() || !quiz.asked ? "" :
      (done ? "Score: " + quiz.right + " of " + total + " right at the first try." :
              quiz.right + " of " + quiz.asked + " right so far (" + total + " questions in all).");
  }

  function ask(p, index) {
    const node = nodeOf(p, p.steps[index - 1].node);
    quiz.asking = index;
    quiz.tries = 0;
    el("practice-question").textContent = "Backward step " + (index - p.state().forward) + ": what is " + rule(p, node) + "?";
    el("practice-feedback").textContent = "";
    el("practice-form").hidden = false;
    const answer = el("practice-answer");
    answer.value = "";
    answer.focus();
  }

  function reveal(p, right) {
    const index = quiz.asking;
    quiz.answered.add(index);
    quiz.asked += 1;
    if (right) quiz.right += 1;
    quiz.asking = 0;
    el("practice-form").hidden = true;
    const toolbar = el("player");
    if (toolbar) toolbar.focus();  // → steps on at once
    p.go(index);
    score(p);
  }

  document.addEventListener("chainrule:loaded", function (event) {
    if (event.detail.player.root.id !== "graph" || event.detail.player.source === quiz.trace) return;
    quiz.trace = event.detail.player.source;
    quiz.answered = new Set(); quiz.right = 0; quiz.asked = 0; quiz.asking = 0;
    const form = el("practice-form"), note = el("practice-tensor");
    if (form) form.hidden = true;
    if (note) note.hidden = true;  // a new graph starts before its first step
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
      ask(p, i);
      return;
    }
    if (quiz.asking && event.detail.index < quiz.asking - 1) {  // stepped back: ask later
      quiz.asking = 0;
      el("practice-form").hidden = true;
    }
    tensorNote(p, event.detail.index);
    score(p);
  });

  document.addEventListener("submit", function (event) {
    if (event.target.id !== "practice-form") return;
    event.preventDefault();
    const p = player();
    if (!p || !quiz.asking) return;
    const node = nodeOf(p, p.steps[quiz.asking - 1].node);
    const answer = parse(el("practice-answer").value);
    const feedback = el("practice-feedback");
    if (Number.isNaN(answer)) { feedback.textContent = "Type a number, like 0.5 or -1.2e-3."; return; }
    if (close(answer, node.grad)) {
      feedback.textContent = "Right: " + rule(p, node) + " = " + F.number(node.grad) + (quiz.tries ? "." : ", at the first try.");
      feedback.className = "practice-feedback right";
      reveal(p, quiz.tries === 0);
      return;
    }
    quiz.tries += 1;
    feedback.className = "practice-feedback wrong";
    feedback.textContent = "Not quite (" + F.number(answer) + "). Hint: " + hint(p, node) + " Try again, or Show me.";
  });

  document.addEventListener("click", function (event) {
    if (event.target.id !== "practice-reveal") return;
    const p = player();
    if (!p || !quiz.asking) return;
    const node = nodeOf(p, p.steps[quiz.asking - 1].node);
    el("practice-feedback").className = "practice-feedback shown";
    el("practice-feedback").textContent = "Shown: " + rule(p, node) + " = " + F.number(node.grad) + ". " + hint(p, node);
    reveal(p, false);
  });

  document.addEventListener("change", function (event) {
    if (event.target.id !== "practice-toggle") return;
    quiz.answered = new Set(); quiz.right = 0; quiz.asked = 0; quiz.asking = 0;
    el("practice-form").hidden = true;
    el("practice-feedback").textContent = "";
    const p = player();
    if (p && on() && p.state().index > p.state().forward) p.go(p.state().forward);  // ask from the start of backward
    if (p) { tensorNote(p, p.state().index); score(p); }
  });
})();
