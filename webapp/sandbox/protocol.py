"""The pipe between the web process and a worker: JSON framed by a 4-byte length, never pickles.

Both sides import this module; it imports neither torch nor the engine.
"""
from __future__ import annotations

import json
import struct
import sys
import traceback

from ..limits import MAX_ANSWER_BYTES

HEADER = struct.Struct(">I")


def read_message(stream) -> dict | None:
    frame = read_frame(stream)
    return None if frame is None else json.loads(frame[HEADER.size:])


def read_frame(stream) -> bytes | None:
    """One whole framed message (its header too), or None at the end of the stream; a
    message cut short raises ValueError."""
    header = _read_exactly(stream, HEADER.size)
    if len(header) < HEADER.size:
        return None
    (length,) = HEADER.unpack(header)
    if length > 4 * MAX_ANSWER_BYTES:
        raise ValueError("message too large")
    body = _read_exactly(stream, length)
    if len(body) < length:
        raise ValueError("message cut short")
    return header + body


def _read_exactly(stream, size: int) -> bytes:
    """`size` bytes, or fewer at the end of the stream. The parent reads its workers' pipes
    unbuffered (a buffer could swallow the next message where select cannot see it), and
    an unbuffered read may return less than asked."""
    data = stream.read(size) or b""
    if len(data) == size or not data:
        return data
    buffer = bytearray(data)
    while len(buffer) < size:
        more = stream.read(size - len(buffer))
        if not more:
            break
        buffer += more
    return bytes(buffer)


def encode_message(message: dict) -> bytes:
    """Framed JSON; raises ValueError for NaN or Infinity, which JSON cannot carry."""
    data = json.dumps(message, allow_nan=False).encode()
    return HEADER.pack(len(data)) + data


def write_message(stream, message: dict) -> None:
    stream.write(encode_message(message))
    stream.flush()


TOO_LARGE = {"error": {"kind": "limit", "message": "The answer would be larger than "
                       f"{MAX_ANSWER_BYTES // 2**20} MB; print or return fewer values."}}
INTERNAL = {"error": {"kind": "internal",
                      "message": "chainrule failed on this function; this is a bug."}}


def answer_bytes(answer: dict) -> bytes:
    """The framed answer, or a refusal when it is too large or cannot be encoded (a bug)."""
    try:
        data = encode_message(answer)
    except (ValueError, TypeError, RecursionError):
        log_bug()
        return encode_message(INTERNAL)
    return data if len(data) <= MAX_ANSWER_BYTES else encode_message(TOO_LARGE)


def log_bug() -> None:
    """Print the traceback where stderr can be written; never let the printing kill us.

    stderr may be a file while RLIMIT_FSIZE is 0 (`nohup ... > log`): the write then fails.
    """
    try:
        traceback.print_exc()
        sys.stderr.flush()
    except BaseException:  # noqa: BLE001 - the log is best effort, the worker must live
        pass
