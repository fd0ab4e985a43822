/* The embed's own behaviour (issue 18), on top of the player (player.js) and its wiring
 * (page.js): open at ?step=N, ?autoplay=1, keys only while the embed has focus (Esc gives
 * them back to the host), and its height posted to the host page on load and on every
 * change: Canvas's lti.frameResize message and H5P's resizer protocol.
 */
(function () {
  "use strict";

  const main = document.getElementById("embed");
  if (!main) return;
  const framed = window.parent !== window;
  const embed = { started: false, height: 0, h5p: false };  // the embed's only state

  // ---- open at a step, autoplay -------------------------------------------------------
  function reducedMotion() {
    return window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  }

  function start(player) {
    if (embed.started || !player) return;
    embed.started = true;
    player.root.tabIndex = 0;  // Tab reaches the graph even without the buttons (controls=0)
    player.root.setAttribute("aria-label", "Autograd graph: ← and → step, Space plays, Esc leaves");
    const step = parseInt(main.dataset.step, 10) || 0;
    if (step) player.go(step);
    // Autoplay starts when the graph is in view (an embed far down a course page would
    // otherwise finish unseen), and never against the system's reduced-motion setting.
    if (main.dataset.autoplay === "1" && !reducedMotion()) {
      const play = function () { if (!player.playing()) player.play(900); };
      if (!("IntersectionObserver" in window)) { play(); return; }
      const watch = new IntersectionObserver(function (entries) {
        if (entries.some(function (e) { return e.isIntersecting; })) { watch.disconnect(); play(); }
      }, { threshold: 0.5 });
      watch.observe(player.root);
    }
  }
  // page.js may have made the player already (deferred scripts run in order).
  document.addEventListener("chainrule:loaded", function (event) { start(event.detail.player); });
  start(window.chainrule && window.chainrule.player());

  // ---- focus: the keys are the embed's only while its document has focus --------------
  // Key events reach this document only when it has focus, so the host's arrows never move
  // the embed; page.js steps the player on arrows, Space, Home and End; Esc and 0 are here.
  function showFocus() { document.body.classList.toggle("has-focus", document.hasFocus()); }
  window.addEventListener("focus", showFocus);
  // A host that narrows or widens the frame: fit the graph again (its text stays legible).
  window.addEventListener("resize", function () {
    const player = window.chainrule && window.chainrule.player();
    if (player && player.zoom() === 1) player.fit();
  });
  window.addEventListener("blur", showFocus);
  showFocus();

  // ---- fit: readable text that scrolls with the step, or the whole graph (0) -----------
  function toggleFit() {
    const whole = main.dataset.fit !== "whole";
    if (whole) main.dataset.fit = "whole"; else delete main.dataset.fit;
    const button = document.getElementById("fit-toggle");
    if (button) {
      button.setAttribute("aria-pressed", whole ? "true" : "false");
      button.textContent = whole ? "Readable size (0)" : "Whole graph (0)";
    }
    const player = window.chainrule && window.chainrule.player();
    if (player) player.setZoom(1);
  }
  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("#fit-toggle")) toggleFit();
  });

  function release() {
    // Give the keys back to the host page: blur here, ask the host's listener to take focus.
    if (document.activeElement && document.activeElement.blur) document.activeElement.blur();
    if (framed) {
      window.parent.postMessage(JSON.stringify({ subject: "chainrule.releaseFocus" }), "*");
      try { window.parent.focus(); } catch (e) { /* the listener does it */ }
    }
    showFocus();
  }

  // The embed's mode keys (keys.js); the player's own (← → Space Home End) are page.js's.
  window.chainruleKeys.add("mode", function (event) {
    if (event.key === "Escape") { release(); return true; }
    if (event.key === "0") { toggleFit(); return true; }
    return false;
  });

  // ---- height: posted to the host on load and on every size change ---------------------
  function measure() { return Math.ceil(main.getBoundingClientRect().bottom + window.scrollY); }

  function post(message) { window.parent.postMessage(message, "*"); }

  function h5pResize(height) {
    post({ context: "h5p", action: "prepareResize", scrollHeight: height,
           clientHeight: document.documentElement.clientHeight });
  }

  function report(force) {
    const height = measure();
    if (!framed || (!force && height === embed.height)) return;
    embed.height = height;
    post(JSON.stringify({ subject: "lti.frameResize", height: height }));  // Canvas: a JSON string
    if (embed.h5p) h5pResize(height);
  }

  window.addEventListener("message", function (event) {
    // H5P's resizer (Moodle, WordPress, Drupal): hello, then prepareResize → resizePrepared
    // → resize with the height; the host says "resize" when its own window changes.
    const data = event.data;
    if (event.source !== window.parent || !data || data.context !== "h5p") return;
    if (data.action === "hello") { embed.h5p = true; h5pResize(measure()); }
    else if (data.action === "resizePrepared") {
      const height = measure();
      post({ context: "h5p", action: "resize", scrollHeight: height, height: height });
    } else if (data.action === "resize") report(true);
  });

  if (framed) {
    post({ context: "h5p", action: "hello" });
    if ("ResizeObserver" in window) new ResizeObserver(function () { report(false); }).observe(main);
    window.addEventListener("load", function () { report(true); });
    report(true);
  }

  window.chainruleEmbed = { height: measure, release: release };
})();
