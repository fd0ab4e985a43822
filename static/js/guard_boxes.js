/* A misconception guard's box (templates/_guards.html) leads to its line: clicking it, or
 * Enter on it, selects that line in the editor, so the note and the code meet.
 */
(function () {
  "use strict";

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

  document.addEventListener("click", function (event) {
    open(event.target.closest && event.target.closest("aside.guard"));
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && event.target.matches && event.target.matches("aside.guard")) open(event.target);
  });
})();
