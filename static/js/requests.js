/* Every request the page's scripts make themselves, in one file (docs: page_requests).
 *
 * What the server draws comes by htmx (the editor's form, the checks box): partials, never
 * fetched here. What a script animates or draws comes as JSON: the trace rides in the graph
 * partial (data-trace, no request); named data is read here, at the URL the server wrote
 * in a data- attribute (so routes are named once, by Flask's url_for):
 *   tangents(url, body)  POST /api/trace with a tangent: forward mode (forward_mode.js)
 *   samples(url)         GET  /api/plot: the live plot's samples (plot.js), one request per URL
 *   answer(url, body)    POST /api/practice/answer: practice mode's verdicts (practice.js)
 *   point(url)           GET  /api/point: the page at a dragged input's value (drag_x.js)
 *   classroom(url, body) POST /class, its state and answers: a live class (classroom.js)
 *   tally(url)           GET  /class/<code>/answers: the lecturer's panel (classroom.js)
 * Each resolves to {ok, status, data}: `data` the JSON answer, an API error ({error: {kind,
 * message}}) when not ok. A lost connection rejects.
 */
(function () {
  "use strict";

  function json(url, options) {
    return fetch(url, options).then(function (response) {
      return response.json().then(function (data) {
        return { ok: response.ok, status: response.status, data: data };
      });
    });
  }

  function post(url, body) {
    return json(url, { method: "POST", headers: { "Content-Type": "application/json" },
                       body: JSON.stringify(body), credentials: "same-origin" });
  }

  // htmx fires afterSettle once per swapped part of one response: the plot would be asked
  // for once per part. The latest URL's reply is shared; a refusal (busy) or a lost
  // connection is asked again next time.
  const shared = { url: null, reply: null };
  function samples(url) {
    if (shared.url !== url) {
      shared.url = url;
      shared.reply = json(url);
      const forget = function () { if (shared.url === url) shared.url = null; };
      shared.reply.then(function (result) { if (!result.ok) forget(); }, forget);
    }
    return shared.reply;
  }

  window.chainruleRequests = {
    tangents: post,
    answer: post,
    samples: samples,
    point: function (url) { return json(url, { credentials: "same-origin" }); },
    classroom: post,
    tally: function (url) { return json(url, { credentials: "same-origin" }); },
  };
})();
