/* Presenter mode: full screen and large type; C shows the code beside the graph, + and −
 * zoom the graph (the current step stays in view), 0 fits it, Esc leaves.
 */
(function () {
  "use strict";

  function player() { return window.chainrule && window.chainrule.player(); }
  function on() { return document.body.classList.contains("presenter"); }

  function refit() {  // the panel changed size: fit the graph again, unless zoomed in
    const p = player();
    if (p && p.zoom() === 1) p.setZoom(1);
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

  function showPresenter(button, wanted) {
    document.body.classList.toggle("presenter", wanted);
    button.setAttribute("aria-pressed", wanted ? "true" : "false");
    button.textContent = wanted ? "Exit presenter (Esc)" : "Presenter mode";
    // The whole graph on the screen; + and − zoom from there.
    if (wanted) document.body.dataset.fit = "whole";
    else delete document.body.dataset.fit;
    const p = player();
    if (p) p.setZoom(1);
  }

  function togglePresenter(button) {
    const wanted = !on();
    showPresenter(button, wanted);
    if (wanted && document.documentElement.requestFullscreen) {
      document.documentElement.requestFullscreen().catch(function () { /* not allowed: large type only */ });
    } else if (!wanted && document.fullscreenElement) {
      document.exitFullscreen();
    }
  }

  const KEYS = { c: toggleCode, C: toggleCode, "+": function () { zoomBy(1.25); }, "=": function () { zoomBy(1.25); },
                 "-": function () { zoomBy(1 / 1.25); }, "−": function () { zoomBy(1 / 1.25); }, 0: function () { zoomBy(0); } };

  document.addEventListener("keydown", function (event) {
    if (!on() || event.altKey || event.ctrlKey || event.metaKey) return;
    if (window.chainrule && window.chainrule.textField(event.target)) return;
    if (KEYS[event.key]) { KEYS[event.key](); event.preventDefault(); }
    else if (event.key === "Escape") {
      // Without full screen (not allowed), Esc still leaves presenter mode.
      const button = document.getElementById("presenter-toggle");
      if (button) togglePresenter(button);
    }
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
})();
