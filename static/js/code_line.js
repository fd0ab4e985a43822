/* The current line (issue 29): the code view marks the source line of the current step, as
 * Python Tutor does, and follows the player. The code view is the page's editor (also
 * presenter mode's code, C) and /embed?code=1's listing. The marked line's element carries
 * data-line="N" (1-based) and aria-current="true": a contract (docs/api.md), outside tests
 * find it so. The line is the step's node's own `line` (the trace's); a step whose node has
 * none (a leaf) marks nothing: the page never guesses a line.
 *
 * A <textarea> cannot mark one of its lines, so a copy of its text lies over it, line by line,
 * transparent but for the marked line's band: same font, padding, width and wrapping, and
 * the same scroll position.
 */
(function () {
  "use strict";

  const view = { line: 0, mirror: null, observer: null };  // the marked line, the editor's copy

  function lineOf(node) { return node && typeof node.line === "number" && node.line > 0 ? node.line : 0; }

  // Lines as block elements: <div data-line="N">, an empty line holding a space to keep its height.
  function fill(box, text) {
    box.textContent = "";
    text.split("\n").forEach(function (line, i) {
      const row = document.createElement("div");
      row.className = "code-line";
      row.dataset.line = String(i + 1);
      row.textContent = line || " ";
      box.appendChild(row);
    });
  }

  function mark(box, line) {
    if (!box) return null;
    let marked = null;
    box.querySelectorAll(".code-line").forEach(function (row) {
      const here = Number(row.dataset.line) === line;
      row.classList.toggle("is-current", here);
      if (here) { row.setAttribute("aria-current", "true"); marked = row; }
      else row.removeAttribute("aria-current");
    });
    return marked;
  }

  // ---- the editor: a copy over the textarea ------------------------------------------
  const COPIED = ["fontFamily", "fontSize", "fontWeight", "fontStyle", "lineHeight", "letterSpacing",
                  "tabSize", "textIndent", "whiteSpace", "overflowWrap", "wordBreak", "boxSizing",
                  "paddingTop", "paddingRight", "paddingBottom", "paddingLeft",
                  "borderTopWidth", "borderRightWidth", "borderBottomWidth", "borderLeftWidth"];

  function editorCopy() {
    const source = document.getElementById("source");
    if (!source || !source.parentNode) return null;
    if (view.mirror && view.mirror.isConnected && view.mirror.source === source) return view.mirror;
    const mirror = document.createElement("div");
    mirror.className = "code-mirror";
    mirror.id = "code-mirror";
    mirror.setAttribute("aria-hidden", "true");  // a copy of the editor's text: read once, in the editor
    mirror.source = source;
    source.parentNode.insertBefore(mirror, source.nextSibling);
    if (getComputedStyle(source.parentNode).position === "static") source.parentNode.style.position = "relative";
    source.addEventListener("input", function () { fill(mirror, source.value); mark(mirror, view.line); place(); });
    source.addEventListener("scroll", function () { mirror.scrollTop = source.scrollTop; mirror.scrollLeft = source.scrollLeft; });
    if ("ResizeObserver" in window) {
      if (view.observer) view.observer.disconnect();
      view.observer = new ResizeObserver(place);
      view.observer.observe(source);
    }
    view.mirror = mirror;
    fill(mirror, source.value);
    place();
    return mirror;
  }

  function place() {
    const mirror = view.mirror, source = mirror && mirror.source;
    if (!source || !source.offsetParent) return;
    const style = getComputedStyle(source);
    COPIED.forEach(function (name) { mirror.style[name] = style[name]; });
    mirror.style.borderStyle = "solid";
    mirror.style.borderColor = "transparent";
    // The textarea's scrollbar narrows its text: the copy wraps at the same width.
    const bar = source.offsetWidth - source.clientWidth - parseFloat(style.borderLeftWidth) - parseFloat(style.borderRightWidth);
    mirror.style.paddingRight = parseFloat(style.paddingRight) + Math.max(0, bar) + "px";
    mirror.style.left = source.offsetLeft + "px";
    mirror.style.top = source.offsetTop + "px";
    mirror.style.width = source.offsetWidth + "px";
    mirror.style.height = source.offsetHeight + "px";
    mirror.scrollTop = source.scrollTop;
  }

  // The marked line comes into the editor's view; the page itself never scrolls.
  function follow(source, row) {
    if (!source || !row) return;
    const top = row.offsetTop, bottom = top + row.offsetHeight;
    if (top < source.scrollTop || bottom > source.scrollTop + source.clientHeight) {
      source.scrollTop = Math.max(0, top - source.clientHeight / 3);
      view.mirror.scrollTop = source.scrollTop;
    }
  }

  // ---- the embed's listing: its <code> split into lines, once ---------------------------
  function listing() {
    const code = document.querySelector(".embed-code code");
    if (!code) return null;
    if (!code.querySelector(".code-line")) fill(code, code.textContent.replace(/\n$/, ""));
    return code;
  }

  document.addEventListener("chainrule:step", function (event) {
    if (event.target.id !== "graph") return;
    // The player's step now, not the event's: a listener before this one may have moved it
    // (practice stops before a question), and this event is then the older one.
    const p = event.detail.player, step = p.state().step;
    view.line = step ? lineOf(p.trace.nodes.find(function (n) { return n.id === step.node; })) : 0;
    const mirror = editorCopy();
    if (mirror) {
      if (mirror.childElementCount !== mirror.source.value.split("\n").length) fill(mirror, mirror.source.value);
      place();
      follow(mirror.source, mark(mirror, view.line));
    }
    const code = listing();
    const row = mark(code, view.line);
    const pre = code && code.closest("pre");
    if (row && pre && (row.offsetTop < pre.scrollTop || row.offsetTop + row.offsetHeight > pre.scrollTop + pre.clientHeight)) {
      pre.scrollTop = Math.max(0, row.offsetTop - pre.clientHeight / 3);
    }
  });
  window.addEventListener("resize", function () { if (view.mirror) place(); });
  document.addEventListener("htmx:afterSettle", function () { if (view.mirror) place(); });  // notes beside it moved

  window.chainruleCodeLine = { line: function () { return view.line; } };
})();
