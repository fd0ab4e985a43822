"""A class's event streams: every open stream of a class hears each change, with no thread
per stream.

The `Hub` keeps, per class code, the sinks of its open streams; a change (from this
process's store, or from Redis's pub/sub) is formatted once and appended to each sink. Two
kinds of sink:

- `ChannelSink`, under `chainrule serve --production` (waitress): the request is answered
  by an app thread like any other (headers and the current state, chunked), then
  `StreamTask` leaves the socket open and hands it to the hub instead of ending the
  response. From then on the stream is bytes appended to waitress's output buffer, sent by
  its asynchronous loop: an open stream costs a socket and a few KiB, not a thread, so the
  32 app threads stay free for pages, images and the API.
- `QueueSink`, under any other WSGI server (the development server, the test client): a
  generator waits on a queue, a thread per stream, which is fine for one lecturer testing.

A heartbeat comment every HEARTBEAT_SECONDS keeps proxies and waitress's idle timeout from
closing a quiet stream, finds closed sockets, and closes the streams of ended classes. When
Redis's subscription was lost, each change announced meanwhile was heard by no process:
once subscribed again, the streams catch up from the store (a class it could not read then,
at the next heartbeat).
"""
from __future__ import annotations

import json
import queue
import threading
import time

from waitress.channel import HTTPChannel
from waitress.task import WSGITask

from ..errors import ChainruleError
from ..limits import MAX_CLASS_STREAMS, MAX_STREAM_BUFFERED

HEARTBEAT_SECONDS = 15.0


def event_bytes(state: dict) -> bytes:
    return b"event: state\ndata: " + json.dumps(state).encode() + b"\n\n"


class QueueSink:
    """A stream read by a generator on its own thread (any WSGI server)."""

    def __init__(self):
        self.queue: queue.Queue = queue.Queue(maxsize=64)
        self.closed = False

    def send(self, data: bytes) -> bool:
        try:
            self.queue.put_nowait(data)
        except queue.Full:  # the reader stopped reading
            self.closed = True
        return not self.closed

    def close(self) -> None:
        self.closed = True
        try:
            self.queue.put_nowait(None)  # wakes the reader; a full queue's reader sees `closed`
        except queue.Full:
            pass

    def events(self, first: bytes):
        """The generator a streaming response iterates: the first event, then each change."""
        try:
            yield first
            while not self.closed:
                try:
                    data = self.queue.get(timeout=HEARTBEAT_SECONDS)
                except queue.Empty:
                    data = b": keep-alive\n\n"
                if data is None:
                    return
                yield data
        finally:
            self.closed = True


class ChannelSink:
    """A stream written straight into a waitress channel's output buffer, as chunks."""

    def __init__(self, channel):
        self.channel = channel

    def send(self, data: bytes) -> bool:
        channel = self.channel
        if not channel.connected:
            return False
        chunk = b"%x\r\n%s\r\n" % (len(data), data)
        with channel.outbuf_lock:
            if channel.total_outbufs_len > MAX_STREAM_BUFFERED:
                channel.will_close = True
                return False
            channel.outbufs[-1].append(chunk)
            channel.current_outbuf_count += len(chunk)
            channel.total_outbufs_len += len(chunk)
        return True

    def close(self) -> None:
        self.send(b"0\r\n\r\n")  # the end of the chunked response, then the socket
        self.channel.close_when_flushed = True
        self.wake()

    def wake(self) -> None:
        self.channel.server.pull_trigger()


class Hub:
    """Open streams by class code; `publish(code, state)` reaches each of them."""

    def __init__(self, store):
        self.store = store
        self.sinks: dict[str, set] = {}
        self.seqs: dict[str, int] = {}   # per class with open streams: the last seq published
        self.stale: set[str] = set()     # classes a catch-up could not read
        self.lock = threading.Lock()
        self.beating = False
        store.listen(self.publish)
        store.on_subscribed(self.catch_up)
        # Now, not at the first stream: a change published before the subscription is
        # active would never reach this process's students.
        store.start()

    def count(self, code: str | None = None) -> int:
        with self.lock:
            return len(self.sinks.get(code, ())) if code else sum(len(s) for s in self.sinks.values())

    def full(self, code: str) -> bool:
        with self.lock:
            return len(self.sinks.get(code, ())) >= MAX_CLASS_STREAMS

    def attach(self, code: str, sink, seq: int) -> None:
        """Add a stream that was sent the state `seq`; a change made since is sent now."""
        with self.lock:
            self.sinks.setdefault(code, set()).add(sink)
            self.seqs.setdefault(code, seq)  # the first stream's: no other can miss a change
            started, self.beating = self.beating, True
        if not started:  # the first stream: the heartbeat, not before (a test's app keeps none)
            threading.Thread(target=self._heartbeat, daemon=True, name="chainrule-class-heartbeat").start()
        try:
            state = self.store.state(code)
        except Exception:  # noqa: BLE001 - an ended class, or Redis away: the heartbeat decides
            return
        if state["seq"] > seq:
            self._send(code, [sink], event_bytes(state))

    def publish(self, code: str, state: dict) -> bool:
        """Send a state to the class's streams, unless they were sent it or a later one."""
        with self.lock:
            sinks = list(self.sinks.get(code, ()))
            if not sinks or state["seq"] <= self.seqs.get(code, 0):
                return False
            self.seqs[code] = state["seq"]
        self._send(code, sinks, event_bytes(state))
        return True

    def _state(self, code: str):
        """The class's state from the store; False when it ended; None when the store cannot
        say now (Redis away)."""
        try:
            return self.store.state(code)
        except ChainruleError as error:
            return False if error.status == 404 else None
        except Exception:  # noqa: BLE001 - keep the streams while the store cannot say
            return None

    def catch_up(self) -> None:
        """Every open class's state from the store, to its streams when newer than the last
        they were sent: after a lost subscription, the changes announced meanwhile. A class
        the store cannot say now (Redis still away) is tried again at the next heartbeat."""
        with self.lock:
            codes = list(self.sinks)
        for code in codes:
            state = self._state(code)
            with self.lock:
                (self.stale.add if state is None else self.stale.discard)(code)
            if state:
                self.publish(code, state)

    def _send(self, code: str, sinks, data: bytes) -> None:
        gone = [sink for sink in sinks if not sink.send(data)]
        woken = set()
        for sink in sinks:  # one wake-up of waitress's loop per server, not per stream
            server = getattr(getattr(sink, "channel", None), "server", None)
            if server is not None and id(server) not in woken:
                woken.add(id(server))
                sink.wake()
        if gone:
            self._drop(code, gone)

    def _drop(self, code: str, sinks) -> None:
        with self.lock:
            held = self.sinks.get(code, set())
            held.difference_update(sinks)
            if not held:
                self.sinks.pop(code, None)
                self.seqs.pop(code, None)

    def close_class(self, code: str) -> None:
        with self.lock:
            sinks = self.sinks.pop(code, set())
            self.seqs.pop(code, None)
        for sink in sinks:
            sink.close()

    def _heartbeat(self) -> None:
        while True:
            time.sleep(HEARTBEAT_SECONDS)
            self.beat()

    def beat(self) -> None:
        """Close the streams of ended classes; send a class a catch-up could not read its
        state, when newer than the last its streams were sent; else a keep-alive."""
        with self.lock:
            codes = list(self.sinks)
            stale, self.stale = self.stale, set()
        for code in codes:
            state = self._state(code)
            if state is False:
                self.close_class(code)
                continue
            if code in stale:
                if state is None:
                    with self.lock:
                        self.stale.add(code)   # still unread: next time
                elif self.publish(code, state):
                    continue
            with self.lock:
                sinks = list(self.sinks.get(code, ()))
            self._send(code, sinks, b": keep-alive\n\n")


class StreamTask(WSGITask):
    """waitress's task, except that a response the app marked as an event stream is not
    ended: its socket goes to the hub (environ["chainrule.stream"], set by the view)."""

    def get_environment(self):
        environ = super().get_environment()
        environ["chainrule.detach"] = True
        return environ

    def finish(self):
        attach = self.environ.get("chainrule.stream") if self.environ else None
        if attach and self.chunked_response and self.channel.connected:
            # waitress would end a chunked response and close; the stream lives on instead
            # (its "Connection: close" stays true: the stream ends with the socket).
            self.close_on_finish = False
            self.channel.streaming = True
            attach(ChannelSink(self.channel))
            return
        super().finish()


class StreamingChannel(HTTPChannel):
    """waitress's channel with StreamTask; once its response became a stream, whatever the
    client sends more is ignored (an EventSource sends nothing; a second request on this
    socket would interleave with the stream)."""

    task_class = StreamTask
    streaming = False

    def received(self, data):
        if self.streaming:
            return True
        return super().received(data)
