/* A live class (issue 30), both sides:
 * - the lecturer's panel on the page (_class.html): "Start a class" posts the page's state,
 *   then every new graph and every step is posted (POST /class/CODE/state); the panel polls
 *   the answers and draws a bar per mistake kind for the step being asked;
 * - the student's page (join.html): follows the lecturer's state over Server-Sent Events
 *   in a same-origin /embed frame (with its forward mode and folding), steps on its own,
 *   snaps back, answers practice steps.
 */
(function () {
  "use strict";

  const KINDS = ["upstream_only", "local_only", "one_path", "sign", "forward_value", "other"];
  const LABELS = { upstream_only: "upstream only", local_only: "local only", one_path: "one path of a sum",
                   sign: "sign", forward_value: "forward value", other: "other" };

  // Every request goes through requests.js ({ok, status, data}).
  function post(url, body) { return window.chainruleRequests.classroom(url, body); }

  // The node a practice question asks at player index i: the next step, when it is backward.
  function askedAt(player, index) {
    const step = player && player.steps[index];
    if (!step || step.phase !== "backward") return null;
    const node = player.trace.nodes.find(function (n) { return n.id === step.node; });
    // As lesson/practice.py asks: a single number, not a constant (the server has the last word);
    // a practice frame left out the gradients it asks, and lists them.
    const asked = player.trace.practice && player.trace.practice.asked;
    if (node && asked) return asked.indexOf(node.id) >= 0 ? node : null;
    return node && node.kind !== "constant" && typeof node.grad === "number" ? node : null;
  }

  // ---- the lecturer -----------------------------------------------------------------------
  function lecturer(panel) {
    const live = { code: null, player: null, sending: false, pending: null };
    const bars = document.getElementById("class-bars");

    function send(changes) {
      if (!live.code) return;
      live.pending = Object.assign(live.pending || {}, changes);
      if (live.sending) return;
      const body = live.pending;
      live.pending = null;
      live.sending = true;
      post("/class/" + live.code + "/state", body).finally(function () {
        live.sending = false;
        if (live.pending) send({});
      });
    }

    function pageState(player) {
      const form = document.getElementById("editor");
      const data = new FormData(form);
      const inputs = {};
      ((player && player.trace.inputs) || []).forEach(function (name) {
        if (data.get(name) !== null) inputs[name] = String(data.get(name));
      });
      const fold = data.get("fold");  // the editor's hidden field: absent is "auto"
      return { f: String(data.get("f") || ""), inputs: inputs, grad_output: String(data.get("grad_output") || "").trim(),
               view: data.get("view") === "autograd" ? "autograd" : "values",
               step: player ? player.state().index : 0, forward: forwardMode(player),
               fold: fold === "1" ? true : fold === "0" ? false : "auto" };
    }

    // Forward mode as forward_mode.js shows it: the seed direction's input, or null (off).
    function forwardMode(player) {
      const toggle = document.getElementById("forward-toggle"), select = document.getElementById("forward-direction");
      if (!toggle || !toggle.checked || toggle.disabled) return null;
      return (select && select.value) || (player && player.trace.inputs[0]) || null;
    }

    // The join address on the projector breaks only after a slash of its path, never inside
    // the host or the code a student copies (break-all cut the code in two).
    function joinAddress(el, url) {
      const match = /^(\w+:\/\/[^/]+\/)(.*)$/.exec(url) || [url, "", url];
      const parts = match[2].split("/");
      el.textContent = match[1];
      parts.forEach(function (part, i) {
        el.append(document.createElement("wbr"));
        const piece = document.createElement("span");
        piece.className = "class-join-part";
        piece.textContent = part + (i < parts.length - 1 ? "/" : "");
        el.append(piece);
      });
    }

    document.getElementById("class-start").addEventListener("click", function () {
      const player = window.chainrule && window.chainrule.player();
      post("/class", pageState(player)).then(function (reply) {
        const answer = reply.data;
        if (!reply.ok) return;
        live.code = answer.code;
        document.getElementById("class-code").textContent = answer.code;
        joinAddress(document.getElementById("class-join"), answer.join);
        document.getElementById("class-qr").src = "/class/" + answer.code + "/qr.svg";
        document.getElementById("class-live").hidden = false;
        document.getElementById("class-start").hidden = true;
        poll();
      });
    });
    document.getElementById("class-practice").addEventListener("change", function (event) {
      send({ practice: event.target.checked });
    });
    document.addEventListener("change", function (event) {
      if (event.target.id === "forward-toggle" || event.target.id === "forward-direction") {
        send({ forward: forwardMode(window.chainrule && window.chainrule.player()) });
      }
    });
    document.addEventListener("chainrule:loaded", function (event) {
      live.player = event.detail.player;
      if (event.target.id === "graph") send(pageState(event.detail.player));
    });
    document.addEventListener("chainrule:step", function (event) {
      if (event.target.id !== "graph") return;
      live.player = event.detail.player;
      send({ step: event.detail.index });
    });

    function bar(kind, count, most) {
      const row = document.createElement("div");
      row.className = "class-bar";
      row.dataset.kind = kind;
      const label = document.createElement("span");
      label.className = "class-bar-label";
      label.textContent = LABELS[kind] || kind;
      const track = document.createElement("span");
      track.className = "class-bar-track";
      const fill = document.createElement("span");
      fill.className = "class-bar-fill";
      fill.style.width = (most ? 100 * count / most : 0) + "%";
      track.appendChild(fill);
      const number = document.createElement("span");
      number.className = "class-bar-count";
      number.textContent = String(count);
      row.append(label, track, number);
      return row;
    }

    function draw(answers) {
      const player = live.player || (window.chainrule && window.chainrule.player());
      const ids = Object.keys(answers.nodes);
      const next = player && askedAt(player, player.state().index);
      const id = next && answers.nodes[next.id] ? next.id : ids[ids.length - 1];
      bars.replaceChildren();
      const heading = document.createElement("p");
      heading.className = "class-node";
      if (!id) {
        heading.textContent = "No answers yet.";
        bars.append(heading);
        return;
      }
      const row = answers.nodes[id];
      const node = player && player.trace.nodes.find(function (n) { return n.id === id; });
      heading.textContent = (node ? node.name || node.label : id) + ": " + row.answers + " answered, " +
        row.correct + " right";
      heading.dataset.node = id;
      bars.append(heading);
      const most = Math.max(1, row.correct, ...KINDS.map(function (k) { return row.mistakes[k] || 0; }));
      bars.append(bar("correct", row.correct, most));
      KINDS.forEach(function (kind) { bars.append(bar(kind, row.mistakes[kind] || 0, most)); });
    }

    function poll() {
      window.chainruleRequests.tally("/class/" + live.code + "/answers")
        .then(function (reply) { if (reply.ok) draw(reply.data); })
        .catch(function () {})
        .finally(function () { setTimeout(poll, 1500); });
    }
  }

  // ---- the student -------------------------------------------------------------------------
  function student(main) {
    const code = main.dataset.code;
    const frame = document.getElementById("join-graph");
    const status = document.getElementById("join-status");
    const follow = document.getElementById("join-follow");
    const form = document.getElementById("join-practice");
    const me = { following: true, lecturer: null, base: null, asked: null };

    function player() {
      const w = frame.contentWindow;
      return w && w.chainrule && w.chainrule.player && w.chainrule.player();
    }

    function graphUrl(state) {
      const query = new URLSearchParams({ f: state.f });
      Object.keys(state.inputs).forEach(function (name) { query.set(name, state.inputs[name]); });
      if (state.grad_output) query.set("grad_output", state.grad_output);  // the lecturer's seed
      if (state.view !== "values") query.set("view", state.view);
      if (state.fold === true || state.fold === false) query.set("fold", state.fold ? "1" : "0");
      // Practice: the frame carries no gradient a question asks (lesson/practice.py), so
      // stepping ahead shows "grad ?", not the answer the student is to predict.
      if (state.practice) query.set("practice", "1");
      query.set("controls", "0");
      return "/embed?" + query.toString();
    }

    function setFollowing(on) {
      me.following = on;
      follow.setAttribute("aria-pressed", on ? "true" : "false");
      if (on && me.lecturer) apply(me.lecturer);
    }

    function apply(state) {
      document.getElementById("join-waiting").hidden = !!state.f;
      if (!state.f) return;
      const url = graphUrl(state);
      if (url !== me.base) {
        me.base = url;
        frame.hidden = false;
        frame.src = url;  // its load handler goes to the step
        return;
      }
      const p = player();
      if (p) p.go(Math.min(state.step, p.steps.length));
      forward(state);
      question();
    }

    // ---- forward mode, as the lecturer's page shows it (forward_mode.js draws it there): the
    // embed has no forward-mode box, so PyTorch's tangents for the lecturer's seed direction
    // are asked of /api/trace here and written beside each node of the frame's graph once its
    // forward step has passed.
    const tangents = { key: null, rows: null, request: 0 };

    const dot = window.chainruleTangentLabels.dot;
    function filled(shape, x) {
      if (!shape || !shape.length) return x;
      return Array.from({ length: shape[0] }, function () { return filled(shape.slice(1), x); });
    }

    function forward(state) {
      const p = player(), banner = document.getElementById("join-forward");
      const on = !!(state && state.forward && p && p.trace.inputs.indexOf(state.forward) >= 0);
      const key = on ? p.source + "|" + state.forward : null;
      banner.hidden = !on;
      main.dataset.forward = on ? state.forward : "";
      if (on) banner.textContent = "Forward mode: seed direction " + dot(state.forward) + " = 1, others 0";
      if (key === tangents.key) { labels(); return; }
      tangents.key = key;
      tangents.rows = null;
      labels();
      if (!on) return;
      const number = ++tangents.request, body = { source: state.f, inputs: {}, tangent: {} };
      p.trace.inputs.forEach(function (name) {
        const leaf = p.trace.leaves[name] || {};
        body.inputs[name] = leaf.value;
        body.tangent[name] = filled(leaf.shape, name === state.forward ? 1 : 0);
      });
      window.chainruleRequests.tangents(main.dataset.tangents, body).then(function (reply) {
        if (number !== tangents.request || !reply.ok) return;  // a newer direction or graph
        tangents.rows = {};  // the tangents only: the tape's gradients may be a practice answer
        reply.data.tape.forEach(function (row) { tangents.rows[row.id] = { tangent: row.tangent, shape: row.shape }; });
        labels();
      }).catch(function () {});  // a lost connection: no tangents shown, the rest goes on
    }

    // The tangent labels of the frame's graph at its step (none when forward mode is off).
    function labels() {
      const p = player(), w = frame.contentWindow;
      if (!p) return;
      if (!tangents.rows) { window.chainruleTangentLabels.clear(p); return; }
      const shown = new Set(), index = p.state().index;
      for (let i = 0; i < index; i++) if (p.steps[i].phase === "forward") shown.add(p.steps[i].node);
      window.chainruleTangentLabels.draw(p, tangents.rows, w.chainruleFormat).forEach(function (d) {
        d.label.textContent = shown.has(d.node.id) || d.node.kind === "constant" ? d.label.dataset.final : "";
      });
    }

    function question() {
      const p = player(), state = me.lecturer;
      const where = document.getElementById("join-where");
      if (p) where.textContent = "step " + p.state().index + " of " + p.steps.length +
        (me.following ? "" : " (lecturer: " + (state ? state.step : 0) + ")");
      const node = state && state.practice && p ? askedAt(p, p.state().index) : null;
      form.hidden = !node;
      if (!node) { me.asked = null; return; }
      if (!me.asked || me.asked !== node.id) {
        me.asked = node.id;
        const out = p.trace.nodes.find(function (n) { return n.kind === "output"; });
        document.getElementById("join-question").textContent = "Your prediction: ∂" +
          (out ? out.name || out.label : "out") + "/∂" + (node.name || node.label) + " =";
        document.getElementById("join-verdict").textContent = "";
        form.dataset.node = node.id;
        document.getElementById("join-value").value = "";
      }
    }

    frame.addEventListener("load", function () {
      const w = frame.contentWindow;
      function ready() {
        const p = player();
        if (!p) { setTimeout(ready, 50); return; }
        const state = me.lecturer;
        if (me.following && state) p.go(Math.min(state.step, p.steps.length));
        w.document.addEventListener("chainrule:step", function () { labels(); question(); });
        if (me.following && state) forward(state);
        question();
      }
      ready();
    });

    document.getElementById("join-back").addEventListener("click", function () {
      setFollowing(false);
      const p = player();
      if (p) p.step(-1);
    });
    document.getElementById("join-ahead").addEventListener("click", function () {
      setFollowing(false);
      const p = player();
      if (p) p.step(1);
    });
    follow.addEventListener("click", function () { setFollowing(true); });

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      const value = Number(String(document.getElementById("join-value").value).replace(",", ".").trim());
      const verdict = document.getElementById("join-verdict");
      if (!Number.isFinite(value)) { verdict.textContent = "Type a number, like 1.5."; return; }
      post("/class/" + code + "/answer", { node: form.dataset.node, value: value })
        .then(function (reply) {
          const answer = reply.data;
          verdict.textContent = answer.error ? answer.error.message : answer.hint;
          verdict.dataset.correct = answer.correct ? "true" : "false";
          verdict.dataset.mistake = answer.mistake || "";
        });
    });

    const source = new EventSource("/class/" + code + "/events");
    source.addEventListener("state", function (event) {
      const state = JSON.parse(event.data);
      if (me.lecturer && state.seq <= me.lecturer.seq) return;
      me.lecturer = state;
      status.textContent = "Following class " + code + " live.";
      main.dataset.seq = String(state.seq);
      if (me.following) apply(state); else question();
    });
    source.addEventListener("error", function () {
      status.textContent = source.readyState === EventSource.CLOSED
        ? "The class has ended." : "Reconnecting…";
    });
  }

  function start() {
    const panel = document.getElementById("class-panel");
    if (panel) lecturer(panel);
    const main = document.getElementById("join");
    if (main) student(main);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
