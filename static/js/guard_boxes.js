/* A misconception guard's box (templates/_guards.html) sits beside its line: at ≥ 1000 px
 * the boxes stand in a column right of the editor, each centred on its line and following
 * the editor's scroll and resize (below, they stay a list under it). Clicking a box, or
 * Enter on it, selects that line in the editor, so the note and the code meet.
 */
(function () {
  "use strict";

  const WIDE = window.matchMedia("(min-width: 1000px)");

  function selectLine(editor, line) {
    const lines = editor.value.split("\n");
    if (!line || line > lines.length) return;
    const start = lines.slice(0, line - 1).reduce(function (sum, text) { return sum + text.length + 1; }, 0);
    editor.focus();
    editor.setSelectionRange(start, start + lines[line - 1].length);
    // Scroll the line into the editor's view: lines are of equal height.
    const height = editor.scrollHeight / Math.max(lines.length, 1);
    editor.scrollTop = Math.max(0, (line - 2) * height);
  }

  function open(box) {
    const editor = document.getElementById("source");
    if (editor && box) selectLine(editor, parseInt(box.dataset.line, 10));
  }

  // The editor does not wrap lines in the wide layout (CSS), so line n's middle is
  // padding + line height × (n − ½) − scrollTop, measured from the editor's top.
  function place() {
    const editor = document.getElementById("source"), column = document.getElementById("guards");
    if (!editor || !column) return;
    const boxes = Array.prototype.slice.call(column.querySelectorAll("aside.guard"));
    if (!WIDE.matches) {
      boxes.forEach(function (box) { box.style.top = ""; box.classList.remove("off-view"); });
      return;
    }
    const style = getComputedStyle(editor);
    const lineHeight = parseFloat(style.lineHeight);
    const offset = editor.offsetTop - column.offsetTop + parseFloat(style.borderTopWidth) + parseFloat(style.paddingTop);
    let below = -2;  // the previous box's bottom: boxes of near lines stack, never overlap, never rise above the editor
    boxes.forEach(function (box) {
      const line = parseInt(box.dataset.line, 10) || 1;
      const middle = lineHeight * (line - 0.5) - editor.scrollTop;
      const top = Math.max(offset + middle - box.offsetHeight / 2, below + 2);
      box.style.top = top + "px";
      box.classList.toggle("off-view", middle < 0 || middle > editor.clientHeight);
      below = top + box.offsetHeight;
    });
  }

  document.addEventListener("click", function (event) {
    open(event.target.closest && event.target.closest("aside.guard"));
  });
  window.chainruleKeys.add("focus", function (event) {  // keys.js: the focused box's Enter
    if (event.key !== "Enter" || !event.target.matches || !event.target.matches("aside.guard")) return false;
    open(event.target);
    return true;
  });
  // The editor's scroll does not bubble: listen while capturing. New boxes come with htmx.
  document.addEventListener("scroll", function (event) { if (event.target.id === "source") place(); }, true);
  document.addEventListener("htmx:afterSettle", place);
  document.addEventListener("input", function (event) { if (event.target.id === "source") place(); });
  WIDE.addEventListener("change", place);
  window.addEventListener("resize", place);
  document.addEventListener("DOMContentLoaded", function () {
    const editor = document.getElementById("source");
    if (editor && window.ResizeObserver) new ResizeObserver(place).observe(editor);  // dragged taller
    const row = editor && editor.parentNode;  // #guards is swapped whole (out of band)
    if (row && window.MutationObserver) new MutationObserver(place).observe(row, {childList: true});
    place();
  });
})();
