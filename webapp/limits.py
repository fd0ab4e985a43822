"""The bounds every evaluation runs under, in one place."""
from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Limits:
    # What the parser accepts.
    max_source_chars: int = 20_000
    max_lines: int = 400
    max_line_chars: int = 1_000
    max_ast_nodes: int = 6_000
    max_ast_depth: int = 60
    max_string_chars: int = 80
    max_int_literal: int = 2**53
    # What the interpreter allows while running.
    max_loop_iterations: int = 200_000
    max_call_depth: int = 40
    max_sequence_len: int = 10_000
    max_int_bits: int = 128
    max_tensor_elements: int = 2_000_000
    max_total_elements: int = 100_000_000
    max_prints: int = 200
    # What the worker process gets from the operating system.
    deadline_seconds: float = 5.0
    cpu_seconds: int = 10
    address_space_bytes: int = 6 * 2**30
    # Values larger than this are summarised instead of listed in JSON.
    max_json_elements: int = 10_000

    def to_dict(self) -> dict:
        return asdict(self)


DEFAULT_LIMITS = Limits()

# Bounds on what a request may carry, checked in the web process before any worker sees it.
# Lists nest at most this deep (a tensor of more dimensions is never needed to learn autograd).
MAX_NESTING = 16
# Plot ranges stay where float32 sampling and the axis labels make sense.
MAX_RANGE = 1e12
LARGEST_INT = 2**63 - 1
# The largest answer a worker sends, in bytes of JSON; a larger one is refused in the worker,
# so the web process never parses and re-encodes tens of megabytes for one student.
MAX_ANSWER_BYTES = 4 * 2**20
# Gradient descent runs at most this many steps (each one a whole evaluation).
MAX_DESCENT_STEPS = 5000

# Every other cap, by where it bites (each module imports its own under the same name).
MAX_GRAPH_NODES = 3000  # nodes a trace may hold (the worker stops tracing past it)
MAX_FOLDED_NODES = 20_000  # a graph that will be folded (lesson/folding.py) may have this many
MAX_SAMPLES = 1000  # points of a 1-D plot
MAX_POINTWISE = 200  # points sampled one backward at a time (no batching possible)
# A plot made beside its graph in the graph's job (engine/jobs.py `also`) delays the graph:
# a typed function's takes 3-7 ms of CPU, one sampled point by point (a branch) 70-80 ms.
# Past this CPU, or this wall time on a loaded machine, its own request makes it instead.
ALSO_SECONDS = 0.25
ALSO_WALL_SECONDS = 1.5
MAX_GRID = 80  # points per side of a contour grid
MAX_POINTWISE_GRID = 24  # points per side of a grid sampled one backward at a time
MAX_RESULT_TEXT = 2000  # characters of a result's printed text
MAX_CHECKED = 24  # input entries checked by finite differences
MAX_JACOBIAN = 64  # output entries of a Jacobian (one backward each)
MAX_NODE_ELEMENTS = 1000  # elements a node's value lists before it is summarised
# A training loop of 500 steps: the first steps are the lesson, the last says where it went.
MAX_UPDATES_KEPT = 20  # optimizer.step() calls recorded in full (then the latest stands for the rest)
MAX_PARAMETERS_KEPT = 32  # parameters listed per step; a larger model's step says how many it left out
MAX_MODULES = 200  # modules boxed per model: a deep network's inner blocks beyond are not
DOT_TIMEOUT_SECONDS = 20  # seconds one `dot` outside the layout service may take
MAX_DRAWN_NODES = 2500  # nodes (boxes and op circles) a drawing may have
MAX_LAYOUT_COST = 6000  # drawing/layout_cost.py: past it `dot` would run past its deadline
AUTO_FOLD_COST = 2500  # fold=auto also folds a graph this costly to lay out (about 1 s)
MAX_FOLD_PERIOD = 64  # the longest loop body folding looks for, in nodes
MAX_TAPE_ROWS = 400  # evaluation-trace rows the page shows (the JSON keeps every row)
MAX_FRAME_PIXELS = 1600 * 1200  # pixels of one GIF frame
MAX_ANIMATION_STEPS = 120  # steps of an animation (GIF frames, step SVGs)
MAX_EXPORT_BYTES = 32 * 2**20  # bytes of one GIF or steps.zip the web process takes from its export process
EXPORT_MEMORY_BYTES = 2**30  # address space of an export process, and of each `dot` it starts
MAX_R_NESTING = 100  # nesting depth of an R expression
MAX_DIMENSIONS = 16  # dimensions of a tensor (numpy, which turns answers into JSON, stops at 64)
MAX_IN_FLIGHT = 3  # jobs one identity may have running under contention
NEWCOMER_IN_FLIGHT = 2  # the stricter cap of an address's shared newcomer bucket
MAX_COOL_DOWN = 300.0  # seconds, the longest cool-down after repeated limits
NEWCOMER_MAX_COOL_DOWN = 20.0  # seconds, the longest of an address's shared newcomer bucket
MINT_PER_MINUTE = 120  # fresh cookies per address per minute (a whole class arriving at once, twice over)
REMEMBERED_TIMEOUTS = 10_000  # DOT sources remembered as too slow to lay out
# A live class (web/class_store.py, web/class_stream.py, web/classroom.py; issue 30).
MAX_CLASS_STUDENTS = 500  # students who may answer in one class
MAX_CLASS_TRIES = 5  # answers one student may give for one node of a class
MAX_CLASSES = 2000  # classes one process (or one Redis) holds at once
# Classes one address may start per hour: a school's lecturers behind one NAT start a few;
# without it, one sender could fill MAX_CLASSES and lock every lecturer out for 12 hours.
MAX_CLASSES_PER_ADDRESS_HOUR = 20
MAX_CLASS_STREAMS = 600  # open event streams of one class: 500 students, second tabs, the lecturer
MAX_STREAM_BUFFERED = 256 * 1024  # bytes a stream may lag behind before it is closed (a stalled client)
MAX_CLASS_SOURCE = 20_000  # characters of a class's function
MAX_CLASS_INPUTS = 64  # inputs of a class's state


def default_span(values) -> tuple[float, float]:
    """A plot's default range: at least −4 to 4, and one beyond every input value (the web's
    plot requests, and the plot a graph's job makes beside it: engine/jobs.py)."""
    return min(-4.0, min(values) - 1), max(4.0, max(values) + 1)
