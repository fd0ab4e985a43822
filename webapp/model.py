"""The trace: what one run of a program becomes, from the worker to the page.

This file is the documentation of the data. The worker builds a `Trace` (engine/), the lesson
fills in its names, tape, sentences, guards and steps (lesson/annotate.py, lesson/steps.py),
and it becomes JSON once (`Trace.to_json`, engine/jobs.job_trace), down the pipe; the web
process reads it back once through `Trace.from_json`, which checks every field (typed_json.py). Field order is JSON
order (the API keeps it: `app.json.sort_keys = False`). A field whose default is `ABSENT` may
be left out of the JSON; `None` is JSON's null, a value of its own.

`python -m webapp.model --schema` writes docs/trace.schema.json from these classes.
"""
from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from .typed_json import (ABSENT, JSON, Model, Number, TraceError, Value, doc, optional,  # noqa: F401
                         plan_of, schema_of)

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "docs" / "trace.schema.json"


@dataclass(slots=True, kw_only=True)
class Summary(Model):
    """What a tensor too large to list is: its smallest, largest and mean entries."""

    min: Number = doc("the smallest entry")
    max: Number = doc("the largest entry")
    mean: Number = doc("the mean of the entries")


@dataclass(slots=True, kw_only=True)
class Folded(Model):
    """On a box that stands for a repeated node (lesson/folding.py): which real nodes it is."""

    count: int = doc("how many repetitions the box stands for")
    members: list[str] = doc(
        "the real node ids it stands for, in forward order; the box's own id is the last")


@dataclass(slots=True, kw_only=True)
class Node(Model):
    """One value of the graph: an input or leaf, a constant, or what one PyTorch op computed.

    JSON order follows how the engine fills a node: a node computed by an op (`op` set) lists
    `symbol … named` before its numbers; an input, leaf or constant lists its numbers first.
    """

    id: str = doc(
        "`nK`, numbered in forward order: the same source gives the same ids, and the SVG's node elements "
        "carry them")
    kind: Literal["input", "leaf", "constant", "op", "output"] = doc(
        "input: a free name of the source; leaf: a tensor the program made with requires_grad; constant: a "
        "number or tensor needing no gradient; op: computed; output: where the pass shown starts")
    label: str = doc("the program's name for it, a constant's number, or the op's symbol")
    op: str | None = doc(
        "the grad_fn's class (`MulBackward0`, a user's `MyReLUBackward`); null for inputs, leaves and "
        "constants")
    symbol: str = optional("the op's short sign: `×`, `sin`, `^2` (nodes with an `op`)")
    line: int | None = doc("the source line that computed it")
    col: int | None = doc("the column, from 1")
    origin: str | None = doc("the user function whose return value it was")
    named: bool = optional("whether the program assigned it to a name (nodes with an `op`)")
    derivative: bool = optional(
        "true: recorded by a backward pass with create_graph=True, part of a derivative")
    module: str = optional("the innermost named module whose forward computed it (`net.0`; CPython runs)")
    outputs: int = optional(
        "how many tensors the op returned (split, unbind): then `value` and `grad` list one per output")
    value: Value = doc("PyTorch's value, copied when it was computed")
    grad: Value = doc("the gradient the engine passed into it in the pass shown (null: none arrived)")
    accumulated: Value = optional("an input's or leaf's `.grad` when the program ended")
    shape: list[int] = doc("the tensor's shape; [] for a scalar; [outputs, …] when `outputs` is set")
    after_pass: Value = optional(
        "a leaf's `.grad` right after the program's last backward pass, before later lines changed it")
    summary: Summary = optional("min, max and mean of a value too large to list")
    grad_summary: Summary = optional("the same for its gradient")
    tangent: Value = optional(
        "its directional derivative, from PyTorch's forward-mode AD (a request with `tangent`)")
    folded: Folded = optional("set on a box standing for a repeated node (a folded trace)")
    name: str = optional(
        "what a student reads for it: the program's variable (y₁, y₂ when reassigned) or v1, v2, …")

    # JSON order follows who filled the node: an op, or the builder's leaf and constant code
    JSON_FORMS = {"op": ("id", "kind", "label", "op", "symbol", "line", "col", "origin", "named",
                         "derivative", "module", "outputs", "value", "grad", "shape", "summary",
                         "grad_summary", "tangent", "folded", "name"),
                  "value": ("id", "kind", "label", "op", "value", "grad", "accumulated", "shape",
                            "line", "col", "origin", "after_pass", "summary", "grad_summary",
                            "folded", "tangent", "name")}

    def to_json(self) -> dict:
        return plan_of(Node).forms["op" if self.op is not None else "value"](self)


@dataclass(slots=True, kw_only=True)
class Edge(Model):
    """An arrow from an operand to the node that used it, with what the backward pass sent back."""

    source: str = doc("the operand's node id")
    target: str = doc("the id of the node that used it")
    local_grad: Value = doc(
        "∂target/∂source: the target's backward applied to ones (see `local_kind`); null for a constant")
    grad: Value = doc("the gradient this edge carried back to its source in the pass shown")
    input: int = doc("the operand's place among the target op's operands, from 0")
    local_kind: Literal["derivative", "vjp"] = optional(
        "derivative: `local_grad` is ∂out/∂in entry by entry; vjp: the vector-Jacobian product with ones "
        "(matmul, sums, broadcasting)")
    vjp: bool = optional('local_kind == "vjp"')
    carried: bool = optional("folded: the edge takes the source box's value into the next repetition")
    source_value: Value = optional("a carried edge's value, as the repetition it left had it")
    source_shape: list[int] = optional("that value's shape")
    source_repetition: int = optional("which repetition of the source box it left, from 1")
    entry: bool = optional("folded: the edge feeds only the first repetition of its target box")
    target_grad: Value = optional("an entry edge's target gradient, the first repetition's")


@dataclass(slots=True, kw_only=True)
class AutogradNode(Model):
    """A node of PyTorch's own graph, as torchviz draws it."""

    id: str = doc("the trace node's id (`n7`), or derived from it: `n7-acc`, `n7-saved0`, `out`, `out2`")
    kind: Literal["variable", "function", "saved", "tensor"] = doc(
        "variable: a leaf; function: a grad_fn or AccumulateGrad; saved: a custom Function's saved tensor; "
        "tensor: an output")
    label: str = doc("the grad_fn's class, AccumulateGrad, or the tensor's name")
    shape: list[int] = optional("a tensor's shape")


@dataclass(slots=True, kw_only=True)
class AutogradEdge(Model):
    """An arrow of PyTorch's own graph."""

    source: str = doc("an AutogradNode id")
    target: str = doc("an AutogradNode id")


@dataclass(slots=True, kw_only=True)
class AutogradView(Model):
    """PyTorch's own graph of grad_fns (the `view=autograd` drawing)."""

    nodes: list[AutogradNode] = doc("its nodes")
    edges: list[AutogradEdge] = doc("its arrows")


@dataclass(slots=True, kw_only=True)
class Output(Model):
    """The program's output: the value the pass shown starts from."""

    value: JSON = doc("its numbers (a tensor), or the plain value when it is not a tensor")
    shape: list[int] | None = doc("a tensor's shape; null when it is not a tensor")
    dtype: str = optional("a tensor's dtype: float32, int64, bool")
    summary: Summary = optional("min, max and mean of a tensor too large to list")
    tangent: Value = optional("its directional derivative (a request with `tangent`)")


@dataclass(slots=True, kw_only=True)
class Leaf(Model):
    """A tensor that asks for its gradient: an input, or a leaf the program made."""

    value: Value = doc("its value when the program ended")
    shape: list[int] = doc("its shape")
    dtype: str = doc("its dtype")
    summary: Summary = optional("min, max and mean of a value too large to list")
    grad: Value = doc("what the pass shown delivered to it")
    accumulated: Value = doc("its `.grad` when the program ended")


@dataclass(slots=True, kw_only=True)
class Result(Model):
    """The value of the program's last line, whatever it is."""

    kind: str = doc("tensor, number, bool, none, tuple, list, string, or a class name in lower case")
    value: JSON = doc('its data (`"<object>"` for what is not plain data)')
    line: int | None = doc("the line")
    text: str = doc("how the program's language prints it: repr, or R torch's print for R")
    shape: list[int] = optional("a tensor's shape")


@dataclass(slots=True, kw_only=True)
class Print(Model):
    """A line the program printed."""

    line: int | None = doc("the line of the print() call")
    text: str = doc("what it printed")


@dataclass(slots=True, kw_only=True)
class Parameter(Model):
    """One parameter an optimizer.step() changed, as PyTorch left it."""

    name: str | None = doc("its name (`net.0.weight`), when the program has one")
    shape: list[int] = doc("its shape")
    before: Value | Summary = doc("before the step (a tensor over 1,000 entries: its summary)")
    grad: Value | Summary = doc("its .grad at the step")
    after: Value | Summary = doc("after the step")
    before_text: str = optional("`before` as the page writes it")
    grad_text: str = optional("`grad` as the page writes it")
    after_text: str = optional("`after` as the page writes it")


@dataclass(slots=True, kw_only=True)
class Update(Model):
    """One optimizer.step() (CPython runs): it changes parameters under no_grad, outside the graph."""

    step: int = doc("which step, from 1")
    line: int | None = doc("the line of the call")
    optimizer: str = doc("the optimiser's class: SGD, Adam, …")
    settings: dict[str, JSON] = doc("the first parameter group's settings (lr, momentum, betas, …)")
    parameters_total: int = doc("how many parameters it changed")
    parameters: list[Parameter] = doc("up to 32 of them")
    settings_text: str = optional("the settings a student reads, as one line")
    text: str = optional("the sentence the page shows for the step")


@dataclass(slots=True, kw_only=True)
class FoldRun(Model):
    """One repeated run folded into boxes."""

    count: int = doc("how many repetitions")
    period: int = doc("nodes per repetition (the boxes it became)")
    nodes: int = doc("count × period")
    lines: list[int] = doc("the source lines of its nodes")
    boxes: list[str] = doc("the box ids")


@dataclass(slots=True, kw_only=True)
class Fold(Model):
    """What folding did (a folded trace only)."""

    runs: list[FoldRun] = doc("each run folded")
    nodes: int = doc("nodes before folding")
    shown: int = doc("nodes after folding")
    forward: list[str] = doc("the real node of each forward step (`Trace.forward` names its box)")
    backward: list[str] = doc("the real node of each backward step")
    layout_cost: int = optional(
        "fold=auto: what the unfolded drawing would cost graphviz (drawing/layout_cost.py)")


@dataclass(slots=True, kw_only=True)
class TapeRow(Model):
    """One row of the evaluation trace (Baydin et al.'s primal and adjoint table)."""

    id: str = doc("the node's id")
    name: str = doc("the node's name")
    expr: str = doc("its operation with names: `v3 = v1 · v2`, `x1 = 2`, `0.2 (a constant)`")
    line: int | None = doc("its source line")
    value: Value = doc("its value")
    adjoint: Value = doc("its gradient in the pass shown")
    shape: list[int] = doc("its shape")
    tangent: Value = optional("its tangent (forward mode)")
    adjoint_sum: str = optional("how its adjoint adds up when it feeds several nodes")


@dataclass(slots=True, kw_only=True)
class Explain(Model):
    """The sentence for each step: the page, embeds, the GIF and the notebook show the same."""

    forward: dict[str, str] = doc("node id → what the forward pass computed there")
    backward: dict[str, str] = doc("node id → how its gradient was assembled")
    tangent: dict[str, str] = optional("node id → how its tangent was made (forward mode)")


@dataclass(slots=True, kw_only=True)
class Guard(Model):
    """A classic autograd mistake the program makes, noted beside its line."""

    line: int | None = doc("the line")
    kind: str = doc("which mistake: grad-before-backward, non-leaf-grad, accumulate, …")
    message: str = doc("one sentence for the student")


@dataclass(slots=True, kw_only=True)
class Step(Model):
    """One step of the animation: built once in the worker, read by the page, embed, GIF and CLI."""

    phase: Literal["forward", "backward"] = doc("which pass")
    node: str = doc("the node id shown (a box, when folded); the caption is explain[phase][node]")
    repetition: int = optional("for a folded box: which of its repetitions this step is, from 1")


@dataclass(slots=True, kw_only=True)
class Practice(Model):
    """On a practice page's copy of the trace only (lesson/practice.py)."""

    asked: list[str] = doc("the nodes whose gradients were taken out, for the student to find")
    derivatives: bool = optional(
        "true: one scalar output, backward from 1, so gradients are derivatives (∂y/∂v); false: "
        "adjoints (v̄), after any other seed")


@dataclass(slots=True, kw_only=True)
class Trace(Model):
    """The answer of POST /api/trace: one run of a program, its graph and its lesson."""

    inputs: list[str] = doc("the free names of the source, each given a value by the request")
    output: Output = doc("the program's output")
    leaves: dict[str, Leaf] = doc("name → each tensor that asks for its gradient")
    prints: list[Print | str] = doc("each printed line in order (an R program's: the text alone)")
    result: Result = doc("the value of the last line")
    modules: dict[str, str] = optional("each named module's path → its class (CPython runs)")
    updates: list[Update] = optional("each optimizer.step() (the first 20 and the last)")
    updates_total: int = optional("how many steps there were, when some were left out")
    nodes: list[Node] = doc("the graph's nodes, in forward order")
    edges: list[Edge] = doc("the graph's arrows, by target then operand")
    forward: list[str] = doc("node ids in the order the forward pass computed them")
    backward: list[str] = doc("node ids in the order PyTorch's engine reached them (hooks on grad_fn)")
    autograd: AutogradView | None = doc("PyTorch's own view of the graph; null when no pass ran")
    fold: Fold = optional("what folding did, when it did")
    extra_pass: bool = optional("true: chainrule ran the pass shown itself, after the program's own")
    tape: list[TapeRow] = optional(
        "the evaluation trace, one row per node in forward order (with the lesson)")
    explain: Explain = optional("the sentence for each step (with the lesson)")
    guards: list[Guard] = optional("the mistakes the program makes (with the lesson)")
    steps: list[Step] = optional("the animation's steps")
    language: Literal["r"] = optional("set for an R source")
    python: str = optional("the Python an R source became")
    practice: Practice = optional("on a practice page's copy only")


@dataclass(slots=True, kw_only=True)
class Graph(Model):
    """The graph part of a trace, as the engine builds and folds it; `Trace` carries its fields."""

    nodes: list[Node] = doc("the nodes, in forward order")
    edges: list[Edge] = doc("the arrows, by target then operand")
    forward: list[str] = doc("node ids in forward order")
    backward: list[str] = doc("node ids in the engine's backward order")
    autograd: AutogradView | None = doc("PyTorch's own view")
    fold: Fold = optional("what folding did, when it did")

    def parts(self) -> dict:
        """The fields a Trace takes from the graph (`fold` only when it folded)."""
        parts = {"nodes": self.nodes, "edges": self.edges, "forward": self.forward,
                 "backward": self.backward, "autograd": self.autograd}
        if self.fold is not ABSENT:
            parts["fold"] = self.fold
        return parts


# the types Trace is made of, in the order the schema lists them
TYPES = (Trace, Node, Edge, Step, Output, Leaf, Result, Print, Update, Parameter, Summary, Folded,
         Fold, FoldRun, AutogradView, AutogradNode, AutogradEdge, TapeRow, Explain, Guard, Practice)


def schema() -> dict:
    """The JSON Schema of a trace, from the classes above."""
    return schema_of(Trace, TYPES, "https://chainrule.invalid/trace.schema.json")


def schema_text() -> str:
    """docs/trace.schema.json as it should read."""
    return json.dumps(schema(), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    """`python -m webapp.model --schema`: write docs/trace.schema.json from the model."""
    if argv != ["--schema"]:
        print("usage: python -m webapp.model --schema", file=sys.stderr)
        return 2
    SCHEMA_PATH.write_text(schema_text())
    print(f"wrote {SCHEMA_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
