"""The export process: one GIF or steps.zip drawn from a trace, in a process of its own.

The web process (sandbox/exporter.py) starts `python -m webapp.drawing.export_process
MEMORY CPU`, writes `{"kind": "gif" | "zip", "trace", "theme"}` as JSON to its stdin and
reads the file from its stdout. Before reading anything, this process caps its own
address space and CPU seconds, and the `dot` processes it starts inherit both caps, so
whatever a trace asks for costs this process, never the web process, and ends with it.

Exit status: 0 and the file on stdout; 2 and a refusal (API.md's shape) on stderr; 3 when
memory ran out.
"""
from __future__ import annotations

import json
import resource
import sys
import threading
import time

from ..errors import ChainruleError, limit
from . import handouts
from .layout import DotProcess

REFUSED, OUT_OF_MEMORY = 2, 3


class OwnDots:
    """This process's own running `dot`s (two per format at most: handouts draws two
    frames at a time), each drawing under what is left of `seconds`."""

    def __init__(self, seconds: float):
        self.deadline = time.monotonic() + seconds
        self.idle: dict[str, list[DotProcess]] = {"svg": [], "png": []}
        self.started: list[DotProcess] = []
        self.lock = threading.Lock()

    def draw(self, source: str, fmt: str) -> bytes:
        with self.lock:
            dot = self.idle[fmt].pop() if self.idle[fmt] else None
        if dot is None:
            dot = DotProcess(fmt)
            with self.lock:
                self.started.append(dot)
        try:
            answer = dot.draw(source.encode(), self.deadline)
        except ChainruleError:  # `dot` itself ran out of the memory or time it was given
            raise limit("graphviz could not draw a frame of this export within an export's "
                        "share of memory and time.") from None
        if answer is None:
            raise limit("Drawing this export took too long, so it was stopped.")
        with self.lock:
            self.idle[fmt].append(dot)
        return answer

    def close(self) -> None:
        for dot in self.started:
            dot.close()


def main(argv: list[str]) -> int:
    memory, cpu_seconds = int(argv[0]), int(argv[1])
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))
    dots = OwnDots(float(cpu_seconds))
    try:
        job = json.load(sys.stdin.buffer)
        if job["kind"] == "gif":
            handouts.write_gif(job["trace"], sys.stdout.buffer, job["theme"], dots.draw)
        else:
            sys.stdout.buffer.write(handouts.steps_zip(job["trace"], job["theme"], dots.draw))
        sys.stdout.buffer.flush()
        return 0
    except ChainruleError as error:
        sys.stderr.write(json.dumps(error.to_dict()))
        return REFUSED
    except MemoryError:
        return OUT_OF_MEMORY
    finally:
        dots.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
