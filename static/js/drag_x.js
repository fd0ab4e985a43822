/* Drag x, watch everything move.
 *
 * Each scalar input's slider (templates/_inputs.html), the plot's slider and the plot
 * itself (drag across it: templates/_plots.html, data-drag-x) move an input. While it
 * moves, GET /api/point (webapp/web/points.py) answers with the page at the new point:
 * the nodes' texts, the trace (the panel's sentences, the steps), the tape and the plot's
 * point. They are put on the graph on screen and a new player keeps the step the student
 * was on. No number is computed here; every one shown is the server's.
 *
 * At most one request is in flight, and only the latest point waits behind it: a drag
 * sends as many points as the server can answer, never a queue of old ones. An answer
 * older than what the screen shows is dropped, and so is every answer asked before the
 * page settled: when the slider is let go (`change`), the editor is sent as before
 * (htmx, page.js), which also moves the URL, the share links and the plot's range.
 */
(function () {
  "use strict";

  const live = {
    seq: 0,        // points asked for
    shown: 0,      // the newest point on screen
    floor: 0,      // answers to points up to this one are stale (the page settled since)
    busy: null, next: null,  // the point whose request is in flight; the one waiting
    layout: null,  // the layout key of the SVG on screen (points.py), once known
    dragged: false, keep: null,  // moved since the page settled; the step to keep when it does
    creating: false,
    updates: [],   // [input-to-paint ms] of each point shown (bench/drag_bench.py reads them)
    work: [],      // [input-to-answer ms, ms to put it on the page] of each point shown
  };

  function editor() { return document.getElementById("editor"); }
  function graph() { return document.getElementById("graph"); }

  // The page's own query, as htmx sends the editor (f, inputs, view, fold, wrt, …).
  function query() {
    const params = new URLSearchParams();
    new FormData(editor()).forEach(function (value, name) { params.append(name, value); });
    if (live.layout) params.set("layout", live.layout);
    return params.toString();
  }

  // ---- a slider moved: the box follows, the other slider of that input too; ask --------
  function moved(slider) {
    const form = editor(), name = slider.dataset.input;
    const box = form && form.querySelector('input.input-value[name="' + CSS.escape(name) + '"]');
    if (!box || !graph()) return;
    box.value = slider.value;
    document.querySelectorAll('input[type="range"][data-input="' + CSS.escape(name) + '"]').forEach(function (other) {
      if (other !== slider) other.value = slider.value;
    });
    const out = document.getElementById("point-value");  // the plot slider's own readout (page.js)
    const plotted = document.getElementById("point-slider");
    if (out && plotted && plotted.dataset.input === name) out.textContent = window.chainruleFormat.number(Number(slider.value));
    live.dragged = true;
    graph().classList.add("dragging");  // no animation while the numbers move (chainrule.css)
    ask(performance.now());
  }

  function ask(started) {
    live.seq += 1;
    // Replaces an older point still waiting; its query is read when it is sent (the form's
    // FormData is the costliest part of a move, and most moves are replaced unsent).
    live.next = { seq: live.seq, started: started };
    pump();
  }

  function pump() {
    if (live.busy || !live.next) return;
    const job = live.next, url = document.querySelector("[data-point-url]");
    live.next = null;
    if (!url || !editor()) return;
    live.busy = job;
    window.chainruleRequests.point(url.dataset.pointUrl + "?" + query())
      .then(function (result) {
        if (result.ok && job.seq > live.shown && job.seq > live.floor) {
          // The next point goes to the server before this one is drawn, so the server's
          // work and the page's overlap; still one request in flight.
          free(job);
          apply(job, result.data);
        }
        // Busy (a shared address's newcomers, a full pool): the point is asked again in a
        // moment unless a newer one is waiting; any other refusal waits for the next point.
        else if (result.status === 429 && !live.next && job.seq > live.floor) return retry(job);
      })
      .catch(function () { /* a lost point: the next one, or the settled page, replaces it */ })
      .then(function () { free(job); });
  }

  function free(job) {  // the request for `job` is answered: the next point may go
    if (live.busy !== job) return;
    live.busy = null;
    pump();
  }

  function retry(job) {
    return new Promise(function (done) { setTimeout(done, 500); }).then(function () {
      if (!live.next && job.seq > live.floor) live.next = job;
    });
  }

  // ---- an answer: onto the graph on screen -----------------------------------------------
  function apply(job, data) {
    const root = graph();
    if (!root) return;
    const began = performance.now(), answered = began - job.started;
    const old = window.chainrule.player();
    const index = old && old.root === root ? old.state().index : 0;
    if (old) old.pause();
    let svg;
    if (data.svg) {  // a new layout (the shape changed with x, or the first point)
      const holder = document.createElement("div");
      holder.innerHTML = data.svg;
      svg = holder.querySelector("svg");
    } else {  // a copy drops the listeners the old player's helpers put on its nodes
      svg = root.querySelector("svg").cloneNode(true);
      Object.keys(data.texts).forEach(function (id) {
        const group = svg.querySelector('[id="' + CSS.escape(id) + '"][data-kind]'), t = data.texts[id];
        if (!group) return;
        [["data-value", t.value], ["data-grad", t.grad], ["aria-label", t.label]].forEach(function (pair) {
          if (pair[1] === null) group.removeAttribute(pair[0]); else group.setAttribute(pair[0], pair[1]);
        });
      });
    }
    root.querySelector("svg").replaceWith(svg);
    live.layout = data.layout;
    live.shown = job.seq;
    root.dataset.trace = JSON.stringify(data.trace);
    const tape = document.getElementById("tape");
    if (tape && data.tape) tape.outerHTML = data.tape;
    if (window.chainrulePlot) window.chainrulePlot.moveTo(data.at);
    live.creating = true;
    try { window.chainruleGraph.createPlayer(root, { index: index }); } finally { live.creating = false; }
    root.dataset.point = JSON.stringify(data.inputs);  // which point the graph shows (tests)
    // Painted: the frame after the next animation frame has been drawn.
    requestAnimationFrame(function () {
      setTimeout(function () { live.updates.push(performance.now() - job.started); }, 0);
    });
    live.work.push([answered, performance.now() - began]);  // [answer arrived, drawing it] ms
  }

  // ---- the page settles: the editor is sent (the slider let go) --------------------------
  document.addEventListener("htmx:beforeRequest", function (event) {
    if (event.detail.elt !== editor()) return;
    live.floor = live.seq;  // whatever was asked before is older than this page
    if (event.detail.xhr) event.detail.xhr.chainrulePoint = live.seq;
    live.next = null;
    live.layout = null;
    const player = window.chainrule && window.chainrule.player();
    live.keep = live.dragged && player ? player.state().index : null;
    live.dragged = false;
  });
  document.addEventListener("htmx:beforeSwap", function (event) {
    // A page settled at a point the slider has left since (keys pressed while it was on
    // its way): the screen keeps the newer point; the next settled page follows.
    const xhr = event.detail.xhr;
    if (xhr && xhr.chainrulePoint !== undefined && xhr.chainrulePoint < live.seq) event.detail.shouldSwap = false;
  });
  document.addEventListener("chainrule:loaded", function (event) {
    if (live.creating || event.target.id !== "graph" || live.keep === null) return;
    const keep = live.keep;
    live.keep = null;
    // A settled page after a drag stays on the student's step (page.js starts a new
    // graph at Ready); createPlayer renders this index next.
    event.detail.player.go(keep);
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    // A typed value moves the sliders; the plotted input's slider takes the plot's range.
    // Only the editor's own page, asked at the newest point: a key pressed on the slider
    // while an older page settled (htmx settles 20 ms after the swap) would be undone, and
    // the next key would start from there.
    const xhr = event.detail && event.detail.xhr;
    if (!xhr || xhr.chainrulePoint === undefined || xhr.chainrulePoint < live.seq) return;
    const trace = graph() && graph().dataset.trace ? JSON.parse(graph().dataset.trace) : null;
    const plotted = document.getElementById("point-slider");
    document.querySelectorAll("input.input-slider[data-input]").forEach(function (slider) {
      const leaf = trace && trace.leaves[slider.dataset.input];
      if (plotted && plotted.dataset.input === slider.dataset.input) {
        ["min", "max", "step"].forEach(function (a) { slider.setAttribute(a, plotted.getAttribute(a)); });
      }
      if (leaf && typeof leaf.value === "number") slider.value = String(leaf.value);
      // An input typed as a list is no longer a point on a line: its slider goes until it is
      // a number again (touching it replaced [1.0, 2.0] with x=3.64, silently).
      slider.hidden = !!leaf && typeof leaf.value !== "number";
    });
  });

  document.addEventListener("input", function (event) {
    const target = event.target;
    if (target.type === "range" && target.dataset.input) moved(target);
  });

  // ---- dragging across the plot moves its slider ----------------------------------------
  document.addEventListener("pointerdown", function (event) {
    const area = event.target.closest && event.target.closest("[data-drag-x]");
    const slider = area && document.getElementById(area.dataset.dragX);
    if (!slider || !window.chainrulePlot || event.button !== 0) return;
    const follow = function (e) {
      const x = window.chainrulePlot.xAt(e.clientX);
      if (x === null) return;
      const before = slider.value;
      slider.value = String(x);  // the slider snaps it to its step and range
      if (slider.value !== before) slider.dispatchEvent(new Event("input", { bubbles: true }));
    };
    const done = function () {
      area.removeEventListener("pointermove", follow);
      area.removeEventListener("pointerup", done);
      area.removeEventListener("pointercancel", done);
      slider.dispatchEvent(new Event("change", { bubbles: true }));  // settle, as a let-go slider
    };
    area.setPointerCapture(event.pointerId);
    area.addEventListener("pointermove", follow);
    area.addEventListener("pointerup", done);
    area.addEventListener("pointercancel", done);
    event.preventDefault();
    follow(event);
  });

  window.chainruleDrag = {
    // For tests and bench/drag_bench.py: nothing asked or waiting, and what was measured.
    idle: function () { return !live.busy && !live.next; },
    stats: function () { return { asked: live.seq, shown: live.shown, latencies: live.updates.slice(), work: live.work.slice() }; },
    reset: function () { live.updates = []; live.work = []; },
  };
})();
