/* chainrule's one JavaScript number formatter: the twin of render.format_number and
 * render.format_value (tests/test_format_js.py runs both over one table and compares).
 *
 * Scalars get Python's `{:.4g}` (4 significant digits, ties to even, exponent when
 * below 1e−4 or from 1e4 on) with "−" for minus; vectors of up to 8 entries are whole,
 * longer ones show their first 3 and "…"; a 1-element tensor reads `4 [1]`; never −0.
 */
(function () {
  "use strict";

  const WHOLE = 8;

  function strip(text) {  // Python's %g drops trailing zeros and a bare point
    return text.indexOf(".") < 0 ? text : text.replace(/0+$/, "").replace(/\.$/, "");
  }

  // [four digits, decimal exponent] of |x|, rounded as Python does (ties to even).
  function significant(x) {
    const exact = x.toExponential(20).split("e");
    const digits = exact[0].replace(".", "");
    if (/^\d{4}50*$/.test(digits) && Number(digits[3]) % 2 === 0) return [digits.slice(0, 4), Number(exact[1])];
    const rounded = x.toExponential(3).split("e");
    return [rounded[0].replace(".", ""), Number(rounded[1])];
  }

  function g4(value) {  // Python's f"{value:.4g}"
    if (Number.isNaN(value)) return "nan";
    if (!Number.isFinite(value)) return value > 0 ? "inf" : "-inf";
    if (value === 0) return "0";  // −0 reads 0, as render.format_number
    const sign = value < 0 ? "-" : "";
    const found = significant(Math.abs(value)), digits = found[0], exp = found[1];
    if (exp < -4 || exp >= 4) {
      const e = String(Math.abs(exp));
      return sign + strip(digits[0] + "." + digits.slice(1)) + "e" + (exp < 0 ? "-" : "+") + (e.length < 2 ? "0" + e : e);
    }
    if (exp < 0) return sign + strip("0." + "0".repeat(-exp - 1) + digits);
    return sign + strip(digits.slice(0, exp + 1) + "." + digits.slice(exp + 1));
  }

  // render.format_number. JSON cannot tell 10000 from 10000.0: whole numbers take the
  // float rule (autograd values are floats), so an integer tensor from 1e4 on differs.
  function number(value) {
    if (value === null || value === undefined) return "–";
    if (typeof value === "string") return value === "Infinity" ? "inf" : value === "-Infinity" ? "−inf" : value;
    if (typeof value === "boolean") return value ? "True" : "False";
    return g4(value).split("-").join("−");
  }

  function flatten(value) { return Array.isArray(value) ? value.flat(Infinity) : [value]; }

  // render.format_value: `4`, `4 [1]`, `[3] (1, 2, 3)`, `[64×100] (0.1, −2, 3, …)`, `[3] min 0 max 2`.
  function value(v, shape, summary) {
    if ((!shape || !shape.length) && !Array.isArray(v)) return number(v);
    if (!shape || !shape.length) shape = [v.length];
    const dims = shape.join("×");
    if (v === null || v === undefined) {
      return summary ? "[" + dims + "] min " + number(summary.min) + " max " + number(summary.max) : "[" + dims + "]";
    }
    const flat = flatten(v), whole = flat.length <= WHOLE;
    if (flat.length === 1) return number(flat[0]) + " [" + dims + "]";  // a 1-element tensor: a number
    return "[" + dims + "] (" + (whole ? flat : flat.slice(0, 3)).map(number).join(", ") + (whole ? "" : ", …") + ")";
  }

  function shapeOf(v) {
    const shape = [];
    while (Array.isArray(v)) { shape.push(v.length); v = v.length ? v[0] : null; }
    return shape;
  }

  // naming.format_value on a trace node's "value", "grad" or "accumulated".
  function node(n, key) {
    const summary = key === "value" ? n.summary : key === "grad" ? n.grad_summary : null;
    let shape = n.shape || [];
    const v = n[key];
    if (v !== null && v !== undefined && Array.isArray(v) !== shape.length > 0) shape = shapeOf(v);
    return value(v, shape, summary);
  }

  window.chainruleFormat = { number: number, value: value, node: node, all: flatten, WHOLE: WHOLE };
})();
