"""A live class: the lecturer leads, students follow over Server-Sent Events and answer.

Routes (docs/api.md "A live class"): POST /class begins one; GET /class/CODE/events
streams its state; POST /class/CODE/state (the lecturer) changes it; POST
/class/CODE/answer checks a student's number for one backward step and names the
mistake it shows (lesson/mistakes.py); GET /class/CODE/answers (the lecturer) tallies them;
GET /class/CODE/qr.svg and GET /join/CODE are for the room. The store is
class_store.py's, the streams class_stream.py's. The trace an answer is checked
against comes from the evaluator and its cache, as the page's (pages.page_trace): 300
students answering one step cost one worker job.
"""
from __future__ import annotations

import re
import secrets

from flask import Blueprint, Flask, Response, current_app, jsonify, make_response, render_template, request

from .class_store import CLASS_SECONDS, FIELDS, make_store, valid_code
from .class_stream import Hub, QueueSink, event_bytes
from ..errors import ChainruleError, bad_input
from ..lesson.mistakes import diagnose
from ..limits import MAX_ANIMATION_STEPS, MAX_CLASS_INPUTS, MAX_CLASS_SOURCE, MAX_CLASSES_PER_ADDRESS_HOUR
from ..services import services
from .api import json_body
from .pages import PageState, page_trace
from .query import RESERVED, VIEWS, grad_output_from_query

bp = Blueprint("classroom", __name__)

TEACHER_COOKIE, STUDENT_COOKIE = "chainrule_teacher", "chainrule_student"
STUDENT_ID = re.compile(r"[A-Za-z0-9_-]{16,64}")
INPUT_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")   # forward mode's direction: an input's name


def init_app(app: Flask) -> None:
    """The class store (in Redis when the app's services are) and its hub, then the routes."""
    store = make_store(app, services(app).redis)
    app.extensions["chainrule_class"] = (store, Hub(store))
    app.register_blueprint(bp)


def _class():
    return current_app.extensions["chainrule_class"]


def _code(code: str) -> str:
    """A code that cannot be one is refused before the store is asked (same 404 as unknown)."""
    if not valid_code(code):
        raise ChainruleError("input", "There is no class with this code (it may have ended).", status=404)
    return code


def _teacher(code: str) -> None:
    store, _ = _class()
    token = request.headers.get("X-Chainrule-Teacher") or request.cookies.get(TEACHER_COOKIE)
    if not store.is_teacher(code, token):
        raise ChainruleError("input", "Only the class's lecturer can do this (the teacher's cookie "
                             "or X-Chainrule-Teacher header).", status=403)


def state_changes(body: dict) -> dict:
    """The fields of a state change, each checked; a 400 names the first bad one."""
    changes = {}
    for name, value in body.items():
        if name not in FIELDS:
            raise bad_input(f"{name} is not a field of a class's state ({', '.join(FIELDS)}).")
        changes[name] = value
    if "f" in changes and (not isinstance(changes["f"], str) or len(changes["f"]) > MAX_CLASS_SOURCE):
        raise bad_input(f"f must be the function's text, at most {MAX_CLASS_SOURCE:,} characters.")
    if "inputs" in changes:
        inputs = changes["inputs"]
        if (not isinstance(inputs, dict) or len(inputs) > MAX_CLASS_INPUTS
                or any(k in RESERVED or not isinstance(v, (str, int, float)) or isinstance(v, bool)
                       or len(str(v)) > 2000 for k, v in inputs.items())):
            raise bad_input(f"inputs must be an object of at most {MAX_CLASS_INPUTS} input names and their "
                            "values as typed (numbers or text like [1, 2]).")
        changes["inputs"] = {k: str(v) for k, v in inputs.items()}
    if "grad_output" in changes:  # as the lecturer's page field has it: "", "ones", [0.5, 2]
        text = changes["grad_output"]
        if not isinstance(text, str) or len(text) > 2000:
            raise bad_input("grad_output must be the text of the page's grad_output field: empty, "
                            "ones, or a list of numbers.")
        grad_output_from_query({"grad_output": text})  # the page's own check: a 400 naming it
        changes["grad_output"] = text.strip()
    if "step" in changes and (not isinstance(changes["step"], int) or isinstance(changes["step"], bool)
                              or not 0 <= changes["step"] <= MAX_ANIMATION_STEPS):
        raise bad_input(f"step must be a whole number from 0 to {MAX_ANIMATION_STEPS}.")
    if "view" in changes and changes["view"] not in VIEWS:
        raise bad_input("view must be values or autograd.")
    if "practice" in changes and not isinstance(changes["practice"], bool):
        raise bad_input("practice must be true or false.")
    if "forward" in changes and changes["forward"] is not None and (
            not isinstance(changes["forward"], str) or not INPUT_NAME.fullmatch(changes["forward"])):
        raise bad_input("forward must be null (forward mode off) or the input its seed direction "
                        "moves, like x.")
    if "fold" in changes and not (isinstance(changes["fold"], bool) or changes["fold"] == "auto"):
        raise bad_input('fold must be true, false or "auto".')
    return changes


@bp.post("/class")
def begin():
    """201 {code, join, token} and the teacher's cookie; a body may set the first state."""
    changes = state_changes(json_body()) if request.get_data(cache=True).strip() else {}
    counters = services().clients.counters  # in Redis when shared: counted across processes
    if counters.increment(f"classes:{request.remote_addr}", 1, ttl=3600) > MAX_CLASSES_PER_ADDRESS_HOUR:
        raise ChainruleError("busy", f"Your network has started {MAX_CLASSES_PER_ADDRESS_HOUR} "
                             "classes in the last hour, the most it may; use one of them, or "
                             "start another later.", status=429)
    store, _ = _class()
    code, token = store.create()
    if changes:
        store.update(code, changes)
    join = f"{request.host_url}join/{code}"
    response = make_response(jsonify({"code": code, "join": join, "token": token}), 201)
    seconds = int(current_app.config.get("CLASS_SECONDS", CLASS_SECONDS))
    response.set_cookie(TEACHER_COOKIE, token, max_age=seconds, path=f"/class/{code}",
                        httponly=True, samesite="Strict", secure=request.is_secure)
    return response


@bp.get("/class/<code>/events")
def events(code: str):
    """text/event-stream: the state at once, then `event: state` per change."""
    store, hub = _class()
    state = store.state(_code(code))
    if hub.full(code):
        raise ChainruleError("busy", "This class has as many open screens as it can follow.", status=429)
    first = b"retry: 2000\n" + event_bytes(state)
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    if request.environ.get("chainrule.detach"):  # waitress: the socket goes to the hub
        request.environ["chainrule.stream"] = lambda sink: hub.attach(code, sink, state["seq"])
        return Response(iter([first]), mimetype="text/event-stream", headers=headers)
    sink = QueueSink()
    hub.attach(code, sink, state["seq"])
    return Response(sink.events(first), mimetype="text/event-stream", headers=headers)


@bp.post("/class/<code>/state")
def change(code: str):
    _teacher(_code(code))
    changes = state_changes(json_body())
    store, _ = _class()
    return jsonify(store.update(code, changes))


def _student() -> tuple[str, bool]:
    """This browser's anonymous student id (a random cookie), and whether it is new."""
    known = request.cookies.get(STUDENT_COOKIE) or ""
    return (known, False) if STUDENT_ID.fullmatch(known) else (secrets.token_urlsafe(18), True)


def _with_student(response, student: str, new: bool):
    if new:
        seconds = int(current_app.config.get("CLASS_SECONDS", CLASS_SECONDS))
        response.set_cookie(STUDENT_COOKIE, student, max_age=seconds, httponly=True, samesite="Lax",
                            secure=request.is_secure)
    return response


@bp.post("/class/<code>/answer")
def answer(code: str):
    """{"node": "nK", "value": number} → {"correct", "mistake", "hint"}."""
    store, _ = _class()
    state = store.state(_code(code))
    body = json_body()
    node, value = body.get("node"), body.get("value")
    if not isinstance(node, str) or not re.fullmatch(r"n\d{1,6}", node):
        raise bad_input("node must be the id of a node of the class's graph, like n1.")
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise bad_input("value must be the number typed, like 1.5.")
    if not state["f"]:
        raise bad_input("The lecturer has not shown a function yet.")
    student, new = _student()
    store.check_tries(code, student, node)   # before any work
    args = {"f": state["f"], **state["inputs"]}
    if state.get("grad_output"):  # the lecturer's seed: the gradients asked are its
        args["grad_output"] = state["grad_output"]
    if state.get("fold", "auto") != "auto":  # the lecturer's folding names the nodes asked
        args["fold"] = "1" if state["fold"] else "0"
    verdict = diagnose(page_trace(PageState(args)), node, float(value))
    store.record(code, student, node, "correct" if verdict["correct"] else verdict["mistake"])
    return _with_student(jsonify(verdict), student, new)


@bp.get("/class/<code>/answers")
def answers(code: str):
    _teacher(_code(code))
    store, _ = _class()
    return jsonify(store.answers(code))


@bp.get("/class/<code>/qr.svg")
def qr(code: str):
    """The join URL as a QR code to project (segno, made here; nothing from outside)."""
    import io

    import segno
    store, _ = _class()
    store.state(_code(code))
    out = io.BytesIO()
    segno.make(f"{request.host_url}join/{code}", error="m").save(
        out, kind="svg", scale=8, border=2, dark="#000", light="#fff", xmldecl=False,
        svgns=True, title=f"Join the class: {code}")
    response = Response(out.getvalue(), mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


@bp.get("/join/<code>")
def join(code: str):
    """The student's page: follows the lecturer live, steps on its own, answers practice."""
    store, _ = _class()
    state = store.state(_code(code))
    student, new = _student()
    page = make_response(render_template("join.html", code=code, state=state))
    return _with_student(page, student, new)
