/* The page's URL keeps what is on screen: the step and every mode (issue 29). After every
 * change (a step, forward mode or its direction, practice, the view, a redrawn graph) the
 * address is rewritten with history.replaceState, and the share link, the practice link and
 * the embed code follow it, so a copied link, a pasted embed and a reload land on the same
 * screen. The server keeps the rest in the query it sends back (HX-Replace-Url: f, the
 * inputs, view, fold, theme, practice); this adds step=, forward= and presenter= (docs/api.md,
 * "The page's URL"). page.js opens at ?step=, forward_mode.js at ?forward=, presenter.js at
 * ?presenter=.
 */
(function () {
  "use strict";

  // The address the page opened at: the first player's step rewrites it before
  // presenter.js (loaded after page.js) reads its mode.
  const OPENED = new URLSearchParams(location.search);

  function el(id) { return document.getElementById(id); }
  function player() { return window.chainrule && window.chainrule.player(); }

  // The URL's parameters now: the server's query, with this screen's step and modes.
  function current() {
    const params = new URLSearchParams(location.search), p = player();
    const index = p ? p.state().index : 0;
    if (index > 0) params.set("step", String(index)); else params.delete("step");
    const forward = el("forward-toggle"), direction = el("forward-direction");
    if (forward && forward.checked && !forward.disabled) params.set("forward", (direction && direction.value) || "1");
    else params.delete("forward");
    const practice = el("practice-toggle");
    if (practice && practice.checked) params.set("practice", "1"); else params.delete("practice");
    // Presenter mode (and its code view) is a screen too: a rehearsed lesson reopens in it.
    if (document.body.classList.contains("presenter")) {
      params.set("presenter", document.body.classList.contains("show-code") ? "code" : "1");
    } else params.delete("presenter");
    const view = document.querySelector('input.view-choice:checked');
    if (view && view.value !== "values") params.set("view", view.value);
    else if (view) params.delete("view");
    return params;
  }

  // The embed code's iframe opens at this step too (its other options stay as written).
  function embedCode(text, step) {
    return text.replace(/(<iframe src=")([^"]*)(")/, function (all, open, src, close) {
      const url = src.replace(/&amp;/g, "&"), cut = url.indexOf("?");
      const params = new URLSearchParams(cut < 0 ? "" : url.slice(cut + 1));
      if (step > 0) params.set("step", String(step)); else params.delete("step");
      return open + (cut < 0 ? url : url.slice(0, cut)) + "?" + params.toString().replace(/&/g, "&amp;") + close;
    });
  }

  function sync() {
    if (!el("editor")) return;  // the page only: the embed's URL is its author's
    const params = current(), query = params.toString();
    const url = location.pathname + (query ? "?" + query : "");
    if (url !== location.pathname + location.search) history.replaceState(history.state, "", url);
    const share = el("share-link");
    if (share) share.value = location.origin + "/" + (query ? "?" + query : "");
    const practice = el("practice-link");
    if (practice) {  // a practice link starts a class at the first question
      const start = new URLSearchParams(params);
      start.delete("step"); start.delete("forward"); start.delete("presenter"); start.set("practice", "1");
      practice.value = location.origin + "/?" + start.toString();
    }
    const code = el("embed-code");
    if (code) code.value = embedCode(code.value, Number(params.get("step") || 0));
  }

  document.addEventListener("chainrule:step", function (event) { if (event.target.id === "graph") sync(); });
  document.addEventListener("change", function (event) {
    if (["forward-toggle", "forward-direction", "practice-toggle"].indexOf(event.target.id) >= 0 ||
        (event.target.classList && event.target.classList.contains("view-choice"))) sync();
  });
  // After htmx wrote the server's query (HX-Replace-Url) and swapped the share box.
  document.addEventListener("htmx:afterSettle", sync);
  document.addEventListener("htmx:replacedInHistory", sync);

  window.chainruleLinks = {
    step: function () {  // the step the URL opened at (0: before the first)
      const n = parseInt(new URLSearchParams(location.search).get("step"), 10);
      return n > 0 ? n : 0;
    },
    forward: function () { return new URLSearchParams(location.search).get("forward"); },
    presenter: function () { return OPENED.get("presenter"); },
    sync: sync,
  };
})();
