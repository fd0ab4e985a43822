/* chainrule embed listener: paste once into any page that shows chainrule iframes.
 * Each embed posts its height (Canvas's lti.frameResize message, a JSON string); this sets
 * its iframe to that height. Esc inside an embed gives the keys back to this page.
 */
(function () {
  if (window.chainruleListener) return;
  window.chainruleListener = true;
  function frameOf(source) {
    var frames = document.getElementsByTagName("iframe");
    for (var i = 0; i < frames.length; i++) if (frames[i].contentWindow === source) return frames[i];
    return null;
  }
  window.addEventListener("message", function (event) {
    var frame = frameOf(event.source), data = event.data;
    if (!frame || typeof data !== "string") return;
    if (frame.src.indexOf(event.origin + "/") !== 0) return;  // only the frame's own server
    try { data = JSON.parse(data); } catch (e) { return; }
    if (!data) return;
    if (data.subject === "lti.frameResize") {
      var height = Math.ceil(Number(data.height));
      if (height > 0 && height < 20000) frame.style.height = height + "px";
    } else if (data.subject === "chainrule.releaseFocus") {
      frame.blur();  // the arrow keys belong to this page again
      if (document.activeElement === frame) document.body.focus();
    }
  }, false);
})();
