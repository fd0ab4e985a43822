/* The document's keys, in one place: every keydown comes here and goes to the first handler
 * that takes it, in this order (the order of the <script> tags no longer matters):
 *
 *   1. A typing field (the editor, an input box, a slider, the practice answer) keeps its
 *      keys: arrows move the text cursor, Space types a space. Esc leaves the field, and the
 *      player's bar takes the focus, so → steps the player at once.
 *   2. Alt, Ctrl and Meta chords are the browser's.
 *   3. The focused control keeps its own keys: a <select> every key but Esc (which leaves it
 *      for the player's bar, as a field's does); a button, link, summary, checkbox, radio or
 *      label its Space (pressing it).
 *   4. "focus": what the focused element does with a key (Enter on a misconception box,
 *      guard_boxes.js; ] [ Shift+↑ Shift+↓ Enter Esc while walking the graph, node_walk.js).
 *   5. "mode": presenter mode's C + − 0 Esc (presenter.js); the embed's Esc and 0 (embed.js).
 *   6. "player": ← → Space Home End (page.js).
 *
 * A handler, added with chainruleKeys.add(layer, handler), returns true when it took the key:
 * the browser's own use of it is then prevented, and no later handler sees it.
 */
(function () {
  "use strict";

  const LAYERS = ["focus", "mode", "player"];
  const handlers = { focus: [], mode: [], player: [] };

  function typing(target) {
    if (!target || !target.tagName) return false;
    if (target.tagName === "TEXTAREA" || target.isContentEditable) return true;
    return target.tagName === "INPUT" && ["radio", "checkbox", "button", "submit"].indexOf(target.type) < 0;
  }

  function controlKeeps(target, key) {
    if (!target || !target.closest) return false;
    if (target.tagName === "SELECT") return key !== "Escape";
    return key === " " && !!target.closest("button, a, summary, input, label");
  }

  function leave(field) {
    const bar = document.getElementById("player");
    if (bar && bar.focus) bar.focus({ preventScroll: true });
    if (document.activeElement === field) field.blur();
    // The normal page's editor sits below the graph: typing scrolled it away. The steps
    // the arrows now take are seen: the player (the graph and panel below it) comes back.
    const top = bar ? bar.getBoundingClientRect().top : 0;
    if (bar && (top < 0 || top > window.innerHeight - 40)) bar.scrollIntoView({ block: "start" });
  }

  document.addEventListener("keydown", function (event) {
    const target = event.target;
    if (typing(target) || (target && target.tagName === "SELECT")) {
      if (event.key === "Escape" && !event.altKey && !event.ctrlKey && !event.metaKey) {
        leave(target);
        event.preventDefault();
        return;
      }
      if (typing(target)) return;
    }
    if (event.altKey || event.ctrlKey || event.metaKey || controlKeeps(target, event.key)) return;
    for (let i = 0; i < LAYERS.length; i++) {
      const layer = handlers[LAYERS[i]];
      for (let j = 0; j < layer.length; j++) {
        if (layer[j](event)) { event.preventDefault(); return; }
      }
    }
  });

  // In full screen (presenter mode) the browser keeps Esc for itself: it leaves full screen
  // and the page never sees the key. Esc still leaves a typing field then, for the player.
  document.addEventListener("fullscreenchange", function () {
    const active = document.activeElement;
    if (!document.fullscreenElement && typing(active)) leave(active);
  });

  window.chainruleKeys = {
    add: function (layer, handler) {
      if (!handlers[layer]) throw new Error("chainruleKeys: no layer " + layer);
      handlers[layer].push(handler);
    },
    typing: typing,
  };
})();
