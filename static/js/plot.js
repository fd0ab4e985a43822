/* The page's 1-D plot, drawn in the browser from /api/plot's JSON (read by requests.js).
 *
 * The server only samples (autograd, a few ms); drawing here keeps matplotlib's
 * ~85 ms per plot off the shared server when thirty students type at once.
 * /plot.svg (matplotlib) remains the embeddable image.
 */
(function () {
  "use strict";
  const NS = "http://www.w3.org/2000/svg";
  const W = 700, PANEL = 210, GAP = 34, LEFT = 58, RIGHT = 12, TOP = 26;

  function el(name, attrs, text) {
    const node = document.createElementNS(NS, name);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function num(v) {
    if (typeof v === "string") return v === "Infinity" ? Infinity : v === "-Infinity" ? -Infinity : NaN;
    return v === null || v === undefined ? NaN : v;
  }
  const fmt = window.chainruleFormat.number;  // the page's one formatter
  const shown = { data: null, box: null, second: false };  // the plot on screen; f″ asked for
  // The bulk of the samples, as plots._clip_limits draws the images: the 2nd–98th
  // percentiles, narrowed to 4 interquartile ranges beyond the quartiles (a pole such as
  // 1/x near 0 would flatten the rest), widened again to show the marked point.
  function range(values, keep) {
    const finite = values.filter(isFinite).sort(function (a, b) { return a - b; });
    if (!finite.length) return [-1, 1];
    const at = function (q) { return finite[Math.floor(q * (finite.length - 1))]; };
    const spread = 4 * (at(0.75) - at(0.25));
    let lo = Math.max(at(0.02), at(0.25) - spread), hi = Math.min(at(0.98), at(0.75) + spread);
    if (isFinite(keep)) { lo = Math.min(lo, keep); hi = Math.max(hi, keep); }
    if (hi - lo < 1e-9) { lo -= 1; hi += 1; }
    const pad = 0.08 * (hi - lo);
    return [lo - pad, hi + pad];
  }
  function ticks(lo, hi) {
    const step = Math.pow(10, Math.floor(Math.log10((hi - lo) / 4)));
    const nice = [1, 2, 5, 10].map(function (m) { return m * step; }).find(function (s) { return (hi - lo) / s <= 6; });
    const out = [];
    for (let t = Math.ceil(lo / nice) * nice; t <= hi + 1e-12; t += nice) out.push(Number(t.toPrecision(12)));
    return out;
  }

  function panel(svg, top, xs, ys, breaks, colour, label, point, extra) {
    const x0 = xs[0], x1 = xs[xs.length - 1], yr = range(ys, point ? point[1] : NaN);
    const sx = function (x) { return LEFT + (x - x0) / (x1 - x0) * (W - LEFT - RIGHT); };
    const sy = function (y) { return top + PANEL - (y - yr[0]) / (yr[1] - yr[0]) * PANEL; };
    const clip = "clip" + top;
    const defs = el("defs"); const cp = el("clipPath", { id: clip });
    cp.appendChild(el("rect", { x: LEFT, y: top, width: W - LEFT - RIGHT, height: PANEL }));
    defs.appendChild(cp); svg.appendChild(defs);
    svg.appendChild(el("rect", { x: LEFT, y: top, width: W - LEFT - RIGHT, height: PANEL, fill: "none", stroke: "#999" }));
    ticks(yr[0], yr[1]).forEach(function (t) {
      svg.appendChild(el("line", { x1: LEFT, x2: W - RIGHT, y1: sy(t), y2: sy(t), stroke: t === 0 ? "#777" : "#eee" }));
      svg.appendChild(el("text", { x: LEFT - 6, y: sy(t) + 4, "text-anchor": "end", "font-size": 11 }, fmt(t)));
    });
    ticks(x0, x1).forEach(function (t) {
      svg.appendChild(el("line", { x1: sx(t), x2: sx(t), y1: top, y2: top + PANEL, stroke: "#eee" }));
      svg.appendChild(el("text", { x: sx(t), y: top + PANEL + 14, "text-anchor": "middle", "font-size": 11 }, fmt(t)));
    });
    const gap = new Set(breaks);
    let d = "", pen = false;
    xs.forEach(function (x, i) {
      const y = ys[i];
      if (!isFinite(y)) { pen = false; return; }
      d += (pen ? "L" : "M") + sx(x).toFixed(1) + " " + sy(y).toFixed(1);
      pen = !gap.has(i);
    });
    const g = el("g", { "clip-path": "url(#" + clip + ")" });
    g.appendChild(el("path", { d: d, fill: "none", stroke: colour, "stroke-width": 2, class: "curve" }));
    if (extra) g.appendChild(el("path", { d: "M" + sx(x0) + " " + sy(extra(x0)) + "L" + sx(x1) + " " + sy(extra(x1)),
                                          stroke: "#D55E00", "stroke-dasharray": "6 4", "stroke-width": 1.5, class: "tangent" }));
    if (point && isFinite(point[1])) g.appendChild(el("circle", { cx: sx(point[0]), cy: sy(point[1]), r: 5, fill: "#D55E00", class: "point" }));
    svg.appendChild(g);
    svg.appendChild(el("text", { x: LEFT + 6, y: top - 8, "font-size": 12 }, label));
  }

  function draw(box, data) {
    const xs = data.x.map(num), f = data.f.map(num), df = data.df.map(num);
    const a = num(data.at.x), fa = num(data.at.f), slope = num(data.at.df);
    const panels = shown.second && data.d2f ? 3 : 2;
    const svg = el("svg", { viewBox: "0 0 " + W + " " + (TOP + panels * PANEL + (panels - 1) * (GAP + 10) + 30),
                            role: "img", "aria-label": "f and its autograd derivative against " + data.wrt });
    // No tangent where f or f′ is not a finite number (1/x at 0): a line through NaN is no line.
    const tangent = isFinite(fa) && isFinite(slope);
    panel(svg, TOP, xs, f, data.breaks, "#0072B2",
          tangent ? "f(" + data.wrt + ") with its tangent: y = " + fmt(fa) + (slope < 0 ? " − " : " + ") + fmt(Math.abs(slope)) +
            "·(" + data.wrt + (a < 0 ? " + " : " − ") + fmt(Math.abs(a)) + ")"
            : "f(" + data.wrt + "): no tangent at " + data.wrt + " = " + fmt(a) + ", where f or f′ is not a finite number",
          [a, fa], tangent ? function (x) { return fa + slope * (x - a); } : null);
    panel(svg, TOP + PANEL + GAP + 10, xs, df, data.breaks, "#009E73",
          "f′(" + data.wrt + ") by autograd: slope " + fmt(slope) + " at " + data.wrt + " = " + fmt(a), [a, slope]);
    if (panels === 3) {
      // A dragged point has no f″ from its trace (drag_x.js): the curve stays, unmarked,
      // until the page settles and the plot is sampled again.
      const curvature = num(data.at.d2f), known = data.at.d2f !== undefined;
      panel(svg, TOP + 2 * (PANEL + GAP + 10), xs, data.d2f.map(num), data.breaks, "#CC79A7",
            "f″(" + data.wrt + ") by autograd (the derivative of f′)" +
              (known ? ": " + fmt(curvature) + " at " + data.wrt + " = " + fmt(a) : ""),
            known ? [a, curvature] : null);
    }
    shown.data = data; shown.box = box;
    box.textContent = "";
    box.appendChild(svg);
    box.dataset.drawn = box.dataset.src;
  }

  // htmx fires afterSettle once per swapped part (graph, error, share, plots…): one box
  // asks once per URL, and requests.js shares one request per URL between boxes.
  function load() {
    const box = document.getElementById("plot-live");
    if (!box || box.dataset.drawn === box.dataset.src || box.dataset.asked === box.dataset.src) return;
    box.dataset.asked = box.dataset.src;
    window.chainruleRequests.samples(box.dataset.src).then(function (result) {
      if (!box.isConnected) return;
      if (result.ok) draw(box, result.data);
      else box.textContent = result.data.error ? result.data.error.message : "The plot could not be drawn.";
    }).catch(function () { if (box.isConnected) box.textContent = "The plot could not be loaded."; });
  }
  // ---- dragging x (drag_x.js): the point and tangent move, the samples stay ----------
  // The server's point at a dragged x: {wrt, x, f, df} from /api/point, drawn on the
  // samples on screen (the curve does not depend on the point).
  function moveTo(at) {
    const box = shown.box;
    if (!at || !shown.data || !box || !box.isConnected || at.wrt !== shown.data.wrt) return false;
    draw(box, Object.assign({}, shown.data, { at: { x: at.x, f: at.f, df: at.df } }));
    box.dataset.point = JSON.stringify(at);
    return true;
  }
  // The x under a pointer on the plot's axis, for the slider to snap (drag_x.js); null off it.
  function xAt(clientX) {
    const svg = shown.box && shown.box.isConnected && shown.box.querySelector("svg");
    if (!svg || !shown.data) return null;
    const rect = svg.getBoundingClientRect(), units = (clientX - rect.left) * W / rect.width;
    const xs = shown.data.x.map(num), x0 = xs[0], x1 = xs[xs.length - 1];
    return x0 + Math.max(0, Math.min(1, (units - LEFT) / (W - LEFT - RIGHT))) * (x1 - x0);
  }
  window.chainrulePlot = { moveTo: moveTo, xAt: xAt };

  document.addEventListener("change", function (event) {
    if (event.target.id !== "plot-d2f") return;
    shown.second = event.target.checked;
    if (shown.data && shown.box && shown.box.isConnected) draw(shown.box, shown.data);
  });
  function restore() {  // a new plot section keeps the f″ choice
    const box = document.getElementById("plot-d2f");
    if (box) box.checked = shown.second;
  }
  document.addEventListener("htmx:afterSettle", restore);
  document.addEventListener("htmx:afterSettle", load);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", load); else load();
})();
