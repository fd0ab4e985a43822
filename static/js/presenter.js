/* Presenter mode: full screen and large type; C shows the code beside the graph, + and −
 * zoom the graph (the current step stays in view), 0 switches between readable and the
 * whole graph, Esc leaves.
 *
 * One screen holds the controls, the graph and the explanation (a projector is often
 * 1280×720): the graph gets the height the explanation leaves, with node text of 20 px or
 * more (a wider graph scrolls, following the step), and the explanation keeps its newest
 * line, where the sum and the .grad are, in view.
 */
(function () {
  "use strict";

  function player() { return window.chainrule && window.chainrule.player(); }
  function on() { return document.body.classList.contains("presenter"); }

  const CHAIN_SHARE = 0.3;  // of the screen's height, for the explanation

  function sizeStage() {
    const graph = document.getElementById("graph");
    if (!graph) return;
    if (!on()) { graph.style.height = ""; return; }
    const legend = document.querySelector(".graph-panel .legend:not([hidden])");
    const top = graph.getBoundingClientRect().top + window.scrollY;
    const below = (legend ? legend.getBoundingClientRect().height : 0) + window.innerHeight * CHAIN_SHARE + 28;
    graph.style.height = Math.max(160, window.innerHeight - top - below) + "px";
  }

  function refit() {  // the panel changed size: fit the graph again, unless zoomed in
    sizeStage();
    const p = player();
    if (p && p.zoom() === 1) p.setZoom(1);
  }

  function newestLine() {  // the explanation's last line (the sum, the .grad) stays in view
    const chain = document.getElementById("chain");
    if (on() && chain) chain.scrollTop = chain.scrollHeight;
  }

  function toggleCode() {
    const shown = document.body.classList.toggle("show-code");
    const button = document.getElementById("presenter-code");
    if (button) {
      button.setAttribute("aria-pressed", shown ? "true" : "false");
      button.textContent = shown ? "Hide code (C)" : "Show code (C)";
    }
    refit();
  }

  function zoomBy(factor) {
    const p = player();
    if (p) p.setZoom(factor ? p.zoom() * factor : 1);
  }

  function toggleWhole() {  // 0: the whole graph (from a zoom too), or back to readable text
    const p = player();
    const whole = (p && p.zoom() > 1) || document.body.dataset.fit !== "whole";
    document.body.dataset.fit = whole ? "whole" : "presenter";
    if (p) p.setZoom(1);
  }

  function showPresenter(button, wanted) {
    document.body.classList.toggle("presenter", wanted);
    button.setAttribute("aria-pressed", wanted ? "true" : "false");
    button.textContent = wanted ? "Exit presenter (Esc)" : "Presenter mode";
    // Readable text first; 0 shows the whole graph, + and − zoom from either.
    if (wanted) document.body.dataset.fit = "presenter";
    else delete document.body.dataset.fit;
    sizeStage();
    const p = player();
    if (p) p.setZoom(1);
    newestLine();
  }

  function togglePresenter(button) {
    const wanted = !on();
    showPresenter(button, wanted);
    // The keys are the player's now: Space on the focused button would leave presenter mode.
    const bar = document.getElementById("player");
    if (wanted && bar) bar.focus({ preventScroll: true });
    if (wanted && document.documentElement.requestFullscreen) {
      document.documentElement.requestFullscreen().catch(function () { /* not allowed: large type only */ });
    } else if (!wanted && document.fullscreenElement) {
      document.exitFullscreen();
    }
  }

  const KEYS = { c: toggleCode, C: toggleCode, "+": function () { zoomBy(1.25); }, "=": function () { zoomBy(1.25); },
                 "-": function () { zoomBy(1 / 1.25); }, "−": function () { zoomBy(1 / 1.25); }, 0: toggleWhole };

  // The mode's keys (keys.js), after a typing field's and the focused element's own.
  window.chainruleKeys.add("mode", function (event) {
    if (!on()) return false;
    if (KEYS[event.key]) { KEYS[event.key](); return true; }
    if (event.key !== "Escape") return false;
    // Without full screen (not allowed), Esc still leaves presenter mode.
    const button = document.getElementById("presenter-toggle");
    if (button) togglePresenter(button);
    return true;
  });

  document.addEventListener("click", function (event) {
    const button = event.target.closest("#presenter-toggle, #presenter-code");
    if (!button) return;
    if (button.id === "presenter-toggle") togglePresenter(button);
    else toggleCode();
  });

  document.addEventListener("fullscreenchange", function () {
    const button = document.getElementById("presenter-toggle");
    if (!document.fullscreenElement && button && on()) showPresenter(button, false);
  });
  window.addEventListener("resize", refit);  // full screen, a phone turned, a window resized
  document.addEventListener("chainrule:loaded", function () { if (on()) refit(); });  // a new graph
  document.addEventListener("chainrule:step", function () { requestAnimationFrame(newestLine); });
})();
