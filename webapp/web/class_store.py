"""A live class's state and answers: in this process, or in Redis for several processes.

A class is a code (8 characters, ~40 bits from `secrets`, never listed), the hash of its
teacher's token, the state every student follows (`f`, `inputs`, `grad_output`, `step`,
`view`, `practice`, `forward`, `fold`, and `seq`, raised by each change) and, per node, each
student's first verdict.
A class ends CLASS_SECONDS after it began: then its state, answers and listeners go.

`LocalStore` keeps classes in a dict; `RedisStore` (CHAINRULE_CACHE_URL) keeps them under
`chainrule:class:<code>…` with Redis's own expiry and announces each change on one pub/sub
channel, so a student streaming from one process follows a lecturer posting to another; a
lost subscription is made again, and the open streams then catch up from the store.
While Redis does not answer (`RedisLink`), a class begun then lives in this process alone,
and a class Redis holds is refused with a 503 that says so (never a 500).
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import random
import secrets
import threading
import time

from ..errors import ChainruleError
from ..limits import MAX_CLASS_STUDENTS, MAX_CLASS_TRIES, MAX_CLASSES

CLASS_SECONDS = 12 * 3600
ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read aloud and typed on phones
CODE_LENGTH = 8         # 31**8 ≈ 2**39.6
CHANNEL = "chainrule:class:events"
FIELDS = ("f", "inputs", "grad_output", "step", "view", "practice", "forward", "fold")
RESUBSCRIBE_SECONDS = (0.2, 5.0)   # the pause before subscribing again: the first, the longest


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def valid_code(code: str) -> bool:
    return len(code) == CODE_LENGTH and all(c in ALPHABET for c in code)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def first_state() -> dict:
    return {"f": "", "inputs": {}, "grad_output": "", "step": 0, "view": "values", "practice": False,
            "forward": None, "fold": "auto", "seq": 1}


def not_found() -> ChainruleError:
    return ChainruleError("input", "There is no class with this code (it may have ended).", status=404)


def class_full() -> ChainruleError:
    return ChainruleError("busy", f"This class is full: at most {MAX_CLASS_STUDENTS} students.", status=429)


def too_many_tries() -> ChainruleError:
    return ChainruleError("limit", f"At most {MAX_CLASS_TRIES} answers per step; the lecturer will "
                          "move on soon.", status=429)


def tally(verdicts) -> dict:
    """The lecturer's view from (node, verdict) pairs, a verdict "correct" or a mistake kind."""
    nodes: dict = {}
    for node, verdict in verdicts:
        row = nodes.setdefault(node, {"answers": 0, "correct": 0, "mistakes": {}})
        row["answers"] += 1
        if verdict == "correct":
            row["correct"] += 1
        else:
            row["mistakes"][verdict] = row["mistakes"].get(verdict, 0) + 1
    return {"nodes": nodes}


class Room:
    """One class in this process."""

    def __init__(self, token_hash: str, ends: float):
        self.token_hash, self.ends = token_hash, ends
        self.state = first_state()
        self.students: set[str] = set()
        self.first: dict[tuple[str, str], str] = {}   # (node, student) -> first verdict
        self.tries: dict[tuple[str, str], int] = {}


class LocalStore:
    """Classes in this process; `listen(callback)` hears every change as callback(code, state)."""

    def __init__(self, seconds: float = CLASS_SECONDS, clock=time.monotonic):
        self.seconds, self.clock = seconds, clock
        self.rooms: dict[str, Room] = {}
        self.lock = threading.Lock()
        self.listeners: list = []

    def listen(self, callback) -> None:
        self.listeners.append(callback)

    def on_subscribed(self, callback) -> None:
        """Never called: every change of an in-process class is heard, none is missed."""

    def start(self) -> None:
        """Nothing to hear: every change of an in-process class is made here."""

    def _announce(self, code: str, state: dict) -> None:
        for callback in self.listeners:
            callback(code, state)

    def _sweep(self) -> None:
        """Drop ended classes (the lock held): their memory goes with them."""
        now = self.clock()
        for code in [c for c, r in self.rooms.items() if r.ends <= now]:
            del self.rooms[code]

    def _room(self, code: str) -> Room:
        room = self.rooms.get(code)
        if room is None or room.ends <= self.clock():
            raise not_found()
        return room

    def create(self) -> tuple[str, str]:
        token = secrets.token_urlsafe(24)
        with self.lock:
            self._sweep()
            if len(self.rooms) >= MAX_CLASSES:
                raise ChainruleError("busy", "This server holds as many classes as it can; "
                                     "try again later.", status=429)
            code = new_code()
            while code in self.rooms:
                code = new_code()
            self.rooms[code] = Room(_digest(token), self.clock() + self.seconds)
        return code, token

    def state(self, code: str) -> dict:
        with self.lock:
            return dict(self._room(code).state)

    def is_teacher(self, code: str, token: str | None) -> bool:
        with self.lock:
            room = self._room(code)
        return bool(token) and hmac.compare_digest(room.token_hash, _digest(token))

    def update(self, code: str, changes: dict) -> dict:
        with self.lock:
            room = self._room(code)
            room.state = {**room.state, **changes, "seq": room.state["seq"] + 1}
            state = dict(room.state)
        self._announce(code, state)
        return state

    @staticmethod
    def _refuse(room: Room, student: str, node: str) -> None:
        """The bounds: a new student in a full class, or a student's answers for a node spent."""
        if student not in room.students and len(room.students) >= MAX_CLASS_STUDENTS:
            raise class_full()
        if room.tries.get((node, student), 0) >= MAX_CLASS_TRIES:
            raise too_many_tries()

    def record(self, code: str, student: str, node: str, verdict: str) -> None:
        with self.lock:
            room = self._room(code)
            self._refuse(room, student, node)  # again: two answers may have raced
            key = (node, student)
            room.students.add(student)
            room.tries[key] = room.tries.get(key, 0) + 1
            room.first.setdefault(key, verdict)

    def check_tries(self, code: str, student: str, node: str) -> None:
        """Refuse before any work when this student has used up this node's answers."""
        with self.lock:
            self._refuse(self._room(code), student, node)

    def answers(self, code: str) -> dict:
        with self.lock:
            room = self._room(code)
            return tally((node, verdict) for (node, _), verdict in room.first.items())

    def live(self, code: str) -> bool:
        with self.lock:
            room = self.rooms.get(code)
            return room is not None and room.ends > self.clock()


# One atomic change in Redis: merge the fields, raise seq, keep the expiry, announce.
_UPDATE = """
local raw = redis.call('GET', KEYS[1])
if not raw then return false end
local room = cjson.decode(raw)
local changes = cjson.decode(ARGV[1])
for k, v in pairs(changes) do room.state[k] = v end
room.state.seq = room.state.seq + 1
redis.call('SET', KEYS[1], cjson.encode(room), 'KEEPTTL')
local state = cjson.encode(room.state)
redis.call('PUBLISH', ARGV[2], cjson.encode({code = ARGV[3], origin = ARGV[4], state = room.state}))
return state
"""

# One answer: refuse past the bounds, else count the try and keep the first verdict.
_RECORD = """
local students, tries, first = KEYS[1], KEYS[2], KEYS[3]
local ttl = tonumber(ARGV[5])
if redis.call('SISMEMBER', students, ARGV[1]) == 0 and redis.call('SCARD', students) >= tonumber(ARGV[4]) then
  return 'full'
end
local field = ARGV[2] .. '|' .. ARGV[1]
if tonumber(redis.call('HGET', tries, field) or '0') >= tonumber(ARGV[6]) then return 'tries' end
if ARGV[7] == '1' then return 'ok' end
redis.call('SADD', students, ARGV[1])
redis.call('HINCRBY', tries, field, 1)
redis.call('HSETNX', first, field, ARGV[3])
for _, key in ipairs({students, tries, first}) do redis.call('PEXPIRE', key, ttl) end
return 'ok'
"""


class RedisStore:
    """LocalStore's methods on Redis; this process's LocalStore while Redis does not answer."""

    def __init__(self, link, url: str, seconds: float = CLASS_SECONDS):
        self.link, self.url, self.seconds = link, url, seconds
        self.local = LocalStore(seconds)
        self.origin = secrets.token_hex(8)   # this process, so it skips its own announcements
        self.listeners: list = []
        self.local.listen(lambda code, state: self._announce(code, state))
        self._update = link.client.register_script(_UPDATE)
        self._record = link.client.register_script(_RECORD)
        self.listening = None
        self.subscribed: list = []

    @staticmethod
    def _key(code: str, part: str = "") -> str:
        return f"chainrule:class:{code}" + (f":{part}" if part else "")

    def listen(self, callback) -> None:
        self.listeners.append(callback)

    def on_subscribed(self, callback) -> None:
        """callback() each time the subscription is (again) active: changes announced while it
        was not were heard by no one here, so the listener reads the store's state again."""
        self.subscribed.append(callback)

    def start(self) -> None:
        """Subscribe to the other processes' changes (a thread, for as long as the process lives)."""
        if self.listening is None:
            self.listening = threading.Thread(target=self._subscribe, daemon=True,
                                              name="chainrule-class-events")
            self.listening.start()

    def _announce(self, code: str, state: dict) -> None:
        for callback in self.listeners:
            callback(code, state)

    def _subscribe(self) -> None:
        """Hear the other processes' changes. When the subscription is lost (Redis restarted,
        the connection killed), subscribe again after a pause that doubles up to 5 s (never a
        busy loop; this thread's alone, never the web loop's); each time it is active again,
        the `on_subscribed` callbacks catch the open streams up from the store."""
        import redis
        first, most = RESUBSCRIBE_SECONDS
        pause = first
        while True:
            pubsub = None
            try:
                client = redis.Redis.from_url(self.url, socket_connect_timeout=0.5, socket_timeout=None,
                                              socket_keepalive=True, health_check_interval=30)
                pubsub = client.pubsub()
                pubsub.subscribe(CHANNEL)
                for message in pubsub.listen():
                    # "subscribe" comes first and again when redis-py reconnected on its own.
                    if message["type"] == "subscribe":
                        pause = first
                        self._subscribed()
                    elif message["type"] == "message":
                        self._heard(message["data"])
            except (redis.RedisError, OSError):
                pass
            finally:
                if pubsub is not None:
                    try:
                        pubsub.close()
                    except (redis.RedisError, OSError):
                        pass
            time.sleep(pause * random.uniform(0.5, 1.0))  # spread: every process lost it at once
            pause = min(pause * 2, most)

    def _heard(self, data) -> None:
        try:
            event = json.loads(data)
            code, state, origin = event["code"], _plain(event["state"]), event.get("origin")
        except (ValueError, KeyError, TypeError, AttributeError):
            return   # not one of ours
        if origin != self.origin:
            self._announce(code, state)

    def _subscribed(self) -> None:
        # Redis just answered SUBSCRIBE: the link need not wait out its RETRY_SECONDS before
        # the catch-up reads the classes (else they would wait for the next heartbeat).
        self.link.down_until = 0.0
        for callback in self.subscribed:
            callback()

    def _fallback(self, code: str, method: str, *args):
        """Redis is away: a class of this process answers; one Redis holds is a 503 that says so."""
        if self.local.live(code):
            return getattr(self.local, method)(code, *args)
        raise ChainruleError("busy", "The server's shared store did not answer, so this class "
                             "cannot be reached; try again in a few seconds.", status=503)

    def _read(self, code: str) -> dict | None:
        raw = self.link.call(lambda c: c.get(self._key(code)), lambda: False)
        if raw is False:
            return None
        if raw is None:
            if self.local.live(code):
                return None   # begun here while Redis was away
            raise not_found()
        return json.loads(raw)

    def create(self) -> tuple[str, str]:
        token = secrets.token_urlsafe(24)
        code = new_code()
        room = {"token": _digest(token), "state": first_state()}
        made = self.link.call(lambda c: c.set(self._key(code), json.dumps(room), nx=True,
                                              px=int(self.seconds * 1000)), lambda: None)
        if made is None:   # Redis away: the class lives in this process
            return self.local.create()
        return (code, token) if made else self.create()

    def state(self, code: str) -> dict:
        room = self._read(code)
        return _plain(room["state"]) if room else self._fallback(code, "state")

    def is_teacher(self, code: str, token: str | None) -> bool:
        room = self._read(code)
        if room is None:
            return self._fallback(code, "is_teacher", token)
        return bool(token) and hmac.compare_digest(room["token"], _digest(token))

    def update(self, code: str, changes: dict) -> dict:
        if self.local.live(code):
            return self.local.update(code, changes)
        raw = self.link.call(lambda c: self._update(keys=[self._key(code)], args=[
            json.dumps(changes), CHANNEL, code, self.origin]), lambda: False)
        if raw is False:
            return self._fallback(code, "update", changes)
        if raw is None:
            raise not_found()
        state = _plain(json.loads(raw))
        self._announce(code, state)
        return state

    def _answer(self, code: str, student: str, node: str, verdict: str, dry: bool):
        keys = [self._key(code, part) for part in ("students", "tries", "first")]
        return self.link.call(lambda c: self._record(keys=keys, args=[
            student, node, verdict, MAX_CLASS_STUDENTS, int(self.seconds * 1000), MAX_CLASS_TRIES,
            "1" if dry else "0"]), lambda: False)

    def _verdict(self, outcome) -> None:
        if outcome in (b"full", "full"):
            raise class_full()
        if outcome in (b"tries", "tries"):
            raise too_many_tries()

    def check_tries(self, code: str, student: str, node: str) -> None:
        if self.local.live(code):
            return self.local.check_tries(code, student, node)
        self.state(code)  # 404 for an unknown code
        outcome = self._answer(code, student, node, "", True)
        if outcome is False:
            return self._fallback(code, "check_tries", student, node)
        self._verdict(outcome)

    def record(self, code: str, student: str, node: str, verdict: str) -> None:
        if self.local.live(code):
            return self.local.record(code, student, node, verdict)
        outcome = self._answer(code, student, node, verdict, False)
        if outcome is False:
            return self._fallback(code, "record", student, node, verdict)
        self._verdict(outcome)

    def answers(self, code: str) -> dict:
        if self.local.live(code):
            return self.local.answers(code)
        self.state(code)
        first = self.link.call(lambda c: c.hgetall(self._key(code, "first")), lambda: False)
        if first is False:
            return self._fallback(code, "answers")
        return tally((field.decode().split("|", 1)[0], verdict.decode())
                     for field, verdict in first.items())

    def live(self, code: str) -> bool:
        try:
            self.state(code)
            return True
        except ChainruleError as error:
            return error.status != 404


def _plain(state: dict) -> dict:
    """Lua's cjson writes an empty object as []: inputs stay an object."""
    if state.get("inputs") == []:
        state["inputs"] = {}
    return state


def make_store(app, link=None):
    """The app's class store: in Redis when the app's services use Redis, else in-process."""
    seconds = float(app.config.get("CLASS_SECONDS", CLASS_SECONDS))
    if link is None:
        return LocalStore(seconds)
    url = app.config.get("CACHE_URL") or os.environ.get("CHAINRULE_CACHE_URL")
    return RedisStore(link, url, seconds)
