/* Presenter mode: full screen and large type; C shows the code beside the graph, + and −
 * zoom the graph (the current step stays in view), 0 switches between readable and the
 * whole graph, Esc leaves.
 *
 * One screen holds the controls, the graph and the explanation (a projector is often
 * 1280×720): the explanation below the graph shows every line of the step (heading,
 * contributions, sum, .grad), and the graph gets the height left, with node text of 20 px or
 * more (a wider graph scrolls, following the step); too little left and the explanation
 * goes beside the graph. Whole graph (0) never draws node text under 14 px.
 */
(function () {
  "use strict";

  function player() { return window.chainrule && window.chainrule.player(); }
  function on() { return document.body.classList.contains("presenter"); }

  const MIN_GRAPH = 200;   // px: a graph lower than this puts the explanation beside it
  const ROOMY = 320;       // px: a graph lower than this hides the legend's states and the notation's key
  const WHOLE_FLOOR = 14;  // px: whole-graph mode (0) never draws node text smaller
  const stage = { reserve: 0 };  // the tallest explanation of this graph so far (px)

  function newGraph() { stage.reserve = 0; document.body.classList.remove("chain-beside"); }

  function sizeStage() {
    // The explanation below the graph takes the height its lines need (the tallest of this
    // graph's steps so far, so the graph does not jump at every step); the graph gets the
    // rest. Too little left: the explanation goes beside the graph instead.
    const graph = document.getElementById("graph"), chain = document.getElementById("chain");
    if (!graph || !chain) return;
    if (!on()) {
      graph.style.height = ""; chain.style.minHeight = ""; chain.style.maxHeight = ""; chain.style.overflowY = "";
      document.body.classList.remove("chain-beside", "presenter-tight");
      return;
    }
    const beside = document.body.classList.contains("chain-beside");
    document.body.classList.remove("presenter-tight");
    chain.style.minHeight = ""; chain.style.maxHeight = "";
    if (!beside) stage.reserve = Math.max(stage.reserve, chain.getBoundingClientRect().height);
    chain.style.minHeight = beside ? "" : stage.reserve + "px";
    const legend = Array.from(document.querySelectorAll(".graph-panel .legend")).find(function (l) { return l.offsetParent; });
    const bottom = beside ? legend || graph : chain;
    let over = bottom.getBoundingClientRect().bottom + window.scrollY - (window.innerHeight - 6);
    let height = graph.getBoundingClientRect().height - over;
    if (!beside && height < ROOMY) {  // the legend's states and the notation's key give the graph their lines
      document.body.classList.add("presenter-tight");
      over = chain.getBoundingClientRect().bottom + window.scrollY - (window.innerHeight - 6);
      height = graph.getBoundingClientRect().height - over;
    }
    if (!beside && height < MIN_GRAPH) {
      document.body.classList.add("chain-beside");
      sizeStage();
      return;
    }
    graph.style.height = Math.max(MIN_GRAPH, height) + "px";
    if (beside) {  // its own column, as high as the screen allows (it scrolls only past that)
      chain.style.maxHeight = window.innerHeight - 6 - (chain.getBoundingClientRect().top + window.scrollY) + "px";
      chain.style.overflowY = "auto";
    } else {
      chain.style.overflowY = "";
    }
  }

  function floorWhole() {
    // Whole-graph mode shows the whole graph only while its node text stays 14 px or more;
    // a larger graph keeps 14 px text and scrolls, following the current step.
    const graph = document.getElementById("graph"), p = player();
    const svg = graph && graph.querySelector("svg"), text = svg && svg.querySelector("g.node text");
    if (!on() || document.body.dataset.fit !== "whole" || !p || p.zoom() !== 1 || !text || !svg.viewBox.baseVal) return;
    const units = parseFloat(text.getAttribute("font-size")) || 14, width = svg.viewBox.baseVal.width;
    if (units * svg.getBoundingClientRect().width / width >= WHOLE_FLOOR - 0.05) return;
    svg.style.height = ""; svg.style.maxWidth = "none";
    svg.style.minWidth = svg.style.width = width * WHOLE_FLOOR / units + "px";
    graph.classList.add("scrolls");
    const current = graph.querySelector(".st-current");
    if (current) {
      const r = current.getBoundingClientRect(), view = graph.getBoundingClientRect();
      graph.scrollBy({ left: (r.left + r.right - view.left - view.right) / 2,
                       top: (r.top + r.bottom - view.top - view.bottom) / 2, behavior: "auto" });
    }
  }

  function refit() {  // the panel changed size: fit the graph again, unless zoomed in
    sizeStage();
    const p = player();
    if (p && p.zoom() === 1) { p.setZoom(1); floorWhole(); }
  }

  function newestLine() {  // an explanation taller than its column keeps its last line in view
    const chain = document.getElementById("chain");
    if (on() && chain) chain.scrollTop = chain.scrollHeight;
  }

  function onStep() {  // a taller explanation than any before it: the graph makes room
    if (!on()) return;
    const chain = document.getElementById("chain");
    const before = stage.reserve;
    if (chain && !document.body.classList.contains("chain-beside")) {
      chain.style.minHeight = "";
      if (chain.getBoundingClientRect().height > before + 0.5) refit();
      else chain.style.minHeight = stage.reserve + "px";
    }
    newestLine();
  }

  function toggleCode() {
    const shown = document.body.classList.toggle("show-code");
    const button = document.getElementById("presenter-code");
    if (button) {
      button.setAttribute("aria-pressed", shown ? "true" : "false");
      button.textContent = shown ? "Hide code (C)" : "Show code (C)";
    }
    refit();
    if (window.chainruleLinks) window.chainruleLinks.sync();
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
    floorWhole();
  }

  function showPresenter(button, wanted) {
    document.body.classList.toggle("presenter", wanted);
    button.setAttribute("aria-pressed", wanted ? "true" : "false");
    button.textContent = wanted ? "Exit presenter (Esc)" : "Presenter mode";
    // Readable text first; 0 shows the whole graph, + and − zoom from either.
    if (wanted) document.body.dataset.fit = "presenter";
    else delete document.body.dataset.fit;
    newGraph();
    if (wanted) window.scrollTo(0, 0);  // one screen, from its top
    refit();
    newestLine();
    if (window.chainruleLinks) window.chainruleLinks.sync();
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
  // A link that was copied in presenter mode opens in it (large type; full screen needs a
  // click, which browsers ask for): ?presenter=1, or =code with the code beside the graph.
  const opened = window.chainruleLinks && window.chainruleLinks.presenter();
  const button = document.getElementById("presenter-toggle");
  if (button && (opened === "1" || opened === "code")) {
    showPresenter(button, true);
    if (opened === "code" && !document.body.classList.contains("show-code")) toggleCode();
  }
  window.addEventListener("resize", refit);  // full screen, a phone turned, a window resized
  document.addEventListener("chainrule:loaded", function () { newGraph(); if (on()) refit(); });  // a new graph
  // The panel writes the step's explanation on the same event: measure it a frame later.
  document.addEventListener("chainrule:step", function () { requestAnimationFrame(onStep); });
})();
