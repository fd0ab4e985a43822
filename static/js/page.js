/* The page's wiring: one player for the graph on screen, the keys and buttons that drive
 * it, the sliders that re-run the editor, copy buttons, the error and 429 states.
 * Presenter mode is in presenter.js; what the panel says is in panel.js.
 */
(function () {
  "use strict";

  const page = { player: null, loads: 0, retryTimer: null, rangeChanged: false, lastSent: null };  // the page's only state

  function speed() {
    const select = document.querySelector('[data-action="speed"]');
    return select ? parseInt(select.value, 10) : 900;
  }

  function sameSteps(old, root) {
    if (old.source === root.dataset.trace) return true;
    const steps = JSON.parse(root.dataset.trace).steps || [];
    return JSON.stringify(steps) === JSON.stringify(old.steps);
  }

  function load() {
    // Exactly once per new #graph element: htmx fires afterSettle once per swapped element
    // (the graph and each out-of-band part), and re-reading a graph already set to "?"
    // was why a typed function never filled in.
    const root = document.getElementById("graph");
    if (page.player && page.player.root === root) return;
    const old = page.player;
    if (old) old.pause();
    if (!root || !root.dataset.trace) { page.player = null; return; }
    // The same graph again (leaving the editor re-runs it), or the same steps with new
    // numbers (an input typed anew, as a drag does): keep the player where it is, so a →
    // pressed while the new numbers were on their way is not undone. A new function starts
    // at Ready. The page's first graph opens at the URL's step (links.js: a share link).
    const first = page.loads === 0 && root.closest && !root.closest("#embed") && window.chainruleLinks;
    const keep = old && sameSteps(old, root) ? old.state().index : first ? window.chainruleLinks.step() : 0;
    page.loads += 1;
    page.player = window.chainruleGraph.createPlayer(root, { index: keep });
  }
  // Listeners of a new graph's first events already find it as the current player.
  document.addEventListener("chainrule:loaded", function (event) {
    if (event.target.id === "graph") page.player = event.detail.player;
  });

  // The player's keys and buttons, by name.
  function act(action) {
    const player = page.player;
    if (!player) return;
    if (action === "forward") { player.pause(); player.step(1); }
    else if (action === "back") { player.pause(); player.step(-1); }
    else if (action === "reset") player.reset();
    else if (action === "end") { player.pause(); player.go(player.state().steps); }
    else if (action === "play") player.playing() ? player.pause() : player.play(speed());
  }
  // Handled keys never reach the browser's own use (Space, Home and End scroll the page).
  const KEYS = { ArrowRight: "forward", ArrowLeft: "back", " ": "play", Home: "reset", End: "end" };

  // The player's keys come last (keys.js): arrows act on the player wherever focus is,
  // except in typing fields (on a View radio they step the player instead of switching
  // the view); Space on a focused button or link presses it.
  window.chainruleKeys.add("player", function (event) {
    if (!KEYS[event.key]) return false;
    act(KEYS[event.key]);
    return true;
  });

  document.addEventListener("click", function (event) {
    const button = event.target.closest("[data-action], [data-copy]");
    if (!button) return;
    if (button.hasAttribute("data-copy")) copy(button);
    else act(button.getAttribute("data-action"));
  });

  document.addEventListener("change", function (event) {
    const target = event.target;
    if (target.matches('[data-action="speed"]') && page.player && page.player.playing()) {
      page.player.pause(); page.player.play(speed());
    }
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
    } else if (target.getAttribute("form") === "editor") {
      page.rangeChanged = true;  // the plot range: sent once focus leaves both of its boxes
      rangeDone();
    } else if (target.id === "plot-wrt") {
      document.getElementById("wrt-field").value = target.value;
      editor.requestSubmit();
    }
  });
  document.addEventListener("input", function (event) {
    if (event.target.id === "point-slider") {
      const out = document.getElementById("point-value");
      if (out) out.textContent = window.chainruleFormat.number(Number(event.target.value));
    }
    if (event.target.id === "replay") {
      const out = document.getElementById("replay-step");
      if (out) out.textContent = event.target.value;
    }
  });

  // The plot range's boxes sit outside the editor's form (form="editor"). Sending it while
  // focus moves from "from" to "to" would replace the box being typed in.
  function rangeDone() {
    setTimeout(function () {
      const active = document.activeElement, editor = document.getElementById("editor");
      if (!page.rangeChanged || !editor || (active && active.getAttribute("form") === "editor")) return;
      page.rangeChanged = false;
      editor.requestSubmit();
    }, 0);
  }
  document.addEventListener("focusout", function (event) {
    if (event.target.getAttribute && event.target.getAttribute("form") === "editor") rangeDone();
  });
  document.addEventListener("submit", function () { page.rangeChanged = false; });

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

  // ---- an error replaces the stale graph ----------------------------------------------
  function markStale() {
    const error = document.querySelector("#error .error");
    const area = document.getElementById("graph-area");
    if (!area) return;
    let note = document.getElementById("stale-note");
    const stale = !!error && !!page.player;
    if (page.player) page.player.setStale(stale);
    area.classList.toggle("stale", stale);
    if (stale && !note) {
      note = document.createElement("p");
      note.id = "stale-note";
      note.className = "stale-note";
      note.textContent = "Last working version (not playable): fix the error in the code to update the graph.";
      area.insertBefore(note, area.firstChild);
    } else if (!stale && note) {
      note.remove();
    }
    document.querySelectorAll(".player button").forEach(function (b) { b.disabled = stale; });
    if (stale) {
      const status = document.getElementById("step-status");
      if (status) status.textContent = errorStatus(error);
      const chain = document.getElementById("chain");
      if (chain) showError(chain, error);
    }
  }

  // The status line names what to fix: a refused input value is not code that fails. The
  // server names the input in data-input (templates/_error.html).
  function errorStatus(error) {
    const input = error.dataset.input;
    return input ? "Error: check the value of " + input : "Error: the code does not run";
  }

  // The panel under the graph repeats the error; its source line and caret stay in a
  // monospace <pre>, or the caret points at nothing.
  function showError(chain, error) {
    chain.textContent = "";
    const message = error.querySelector(".error-message");
    const p = document.createElement("p");
    p.className = "formula";
    p.textContent = (message || error).textContent.trim();
    chain.appendChild(p);
    const source = error.querySelector(".error-source");
    if (source) chain.appendChild(source.cloneNode(true));
  }

  // ---- One request per change: Enter in a box fires `change` and `submit` together; both
  // would redraw the same graph (and restart the player); a request equal to the last one
  // sent is not sent.
  // Leaving the editor fires `change` for text its `input` event already sent; by then the
  // answer may have redrawn the input boxes, so the form reads as new and the same graph
  // would be drawn twice (closing a note the reader had opened, restarting the player).
  document.addEventListener("change", function (event) {
    if (event.target.id === "source") event.stopPropagation();
  }, true);
  document.addEventListener("htmx:configRequest", function (event) {
    if (event.detail.elt !== document.getElementById("editor")) return;
    const key = event.detail.verb + " " + event.detail.path + "?" + new URLSearchParams(event.detail.formData);
    if (key === page.lastSent) { event.preventDefault(); return; }
    page.lastSent = key;
  });
  ["htmx:responseError", "htmx:sendError"].forEach(function (name) {  // a failed one may be sent again
    document.addEventListener(name, function (event) {
      if (event.detail.elt === document.getElementById("editor")) page.lastSent = null;
    });
  });

  // ---- 429: the server asks to wait; count down, then send the editor again ---------
  document.addEventListener("htmx:responseError", function (event) {
    const xhr = event.detail && event.detail.xhr;
    const editor = document.getElementById("editor");
    if (!xhr || xhr.status !== 429 || !editor || event.detail.elt !== editor) return;
    let left = Math.max(1, parseInt(xhr.getResponseHeader("Retry-After") || "2", 10) || 2);
    const box = document.getElementById("error");
    if (page.retryTimer) clearInterval(page.retryTimer);
    const show = function () {
      box.innerHTML = "";
      const div = document.createElement("div");
      div.className = "error busy";
      div.setAttribute("role", "status");
      div.textContent = "The server is busy: trying again in " + left + " s.";
      box.appendChild(div);
    };
    show();
    page.retryTimer = setInterval(function () {
      left -= 1;
      if (left > 0) { show(); return; }
      clearInterval(page.retryTimer); page.retryTimer = null;
      box.innerHTML = "";
      editor.requestSubmit();
    }, 1000);
  });

  // For presenter.js, the explain/embed scripts and the browser tests: the current player.
  window.chainrule = {
    player: function () { return page.player; },
    state: function () {
      const s = page.player ? page.player.state() : { index: 0, steps: 0, stale: false };
      return { index: s.index, steps: s.steps, stale: s.stale, loads: page.loads };
    },
  };

  document.addEventListener("htmx:afterSettle", function () { load(); markStale(); });
  document.addEventListener("htmx:oobAfterSwap", markStale);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", load);
  else load();
})();
