"""Modules boxed as torchview boxes them, and `optimizer.step()` shown as the update it is.

The oracle runs each program as plain Python in another process. There, a module's ops
are found from the graph alone: the grad_fns reachable from its forward's output and not
from its inputs (its last call, the one the drawing shows), less those of the modules
inside it; and each optimiser's `step` is wrapped at the class, copying the parameters
before and after. chainrule finds the first from a stack of running modules at the time
each op ran, and the second from PyTorch's global step hooks.

Mutations seen failing: runner.where_and_module reading the outermost module, not
the innermost (`[0]`); the recorder stamping no module; module_boxes.members
leaving parameters out of their module's box; watched_steps taking "before" after the
step; updates._plain_sgd ignoring momentum (step 1 of momentum SGD then claims the
plain rule: its buffer is the first gradient, so the numbers alone agree).
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import Counter

import pytest

NET = """import torch
from torch import nn
torch.manual_seed(0)
class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(3, 3)
    def forward(self, h):
        return torch.tanh(self.lin(h)) + h
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(2, 3)
        self.block = Block()
        self.out = nn.Linear(3, 1)
    def forward(self, x):
        return self.out(self.block(torch.relu(self.hidden(x))))
model = Net()
opt = torch.optim.{optimizer}
X = torch.tensor([[1.0, 2.0], [0.5, -1.0], [0.0, 1.5]])
Y = torch.tensor([[1.0], [0.0], [2.0]])
for step in range(3):
    opt.zero_grad()
    loss = ((model(X) - Y) ** 2).mean()
    loss.backward()
    opt.step()
loss
"""
OPTIMIZERS = {"sgd": "SGD(model.parameters(), lr=0.1)",
              "momentum": "SGD(model.parameters(), lr=0.05, momentum=0.9)",
              "adam": "Adam(model.parameters(), lr=0.01)"}

ORACLE = r"""
import json, random, sys
import torch
from torch import nn
calls = {}
def seen(module, args, output):
    inputs = [a.grad_fn for a in args if isinstance(a, torch.Tensor) and a.grad_fn is not None]
    calls[id(module)] = (output.grad_fn, inputs)
nn.modules.module.register_module_forward_hook(seen)
steps = []
for cls in (torch.optim.SGD, torch.optim.Adam):
    def wrap(original):
        def step(self, *a, **k):
            params = [p for g in self.param_groups for p in g["params"]]
            before = [(p.detach().clone().tolist(), p.grad.detach().clone().tolist()) for p in params]
            result = original(self, *a, **k)
            steps.append([(b, g, p.detach().tolist()) for (b, g), p in zip(before, params)])
            return result
        return step
    cls.step = wrap(cls.step)
torch.random.default_generator.manual_seed(0)
random.seed(0)
names = {"__name__": "__main__"}
exec(sys.stdin.read(), names)
def below(fn, stop):
    found, stack = set(), [fn]
    while stack:
        f = stack.pop()
        if f is None or f in found or f in stop:
            continue
        found.add(f)
        stack.extend(n for n, _ in f.next_functions)
    return found
def above(fns):
    found = set()
    for f in fns:
        found |= below(f, set())
    return found
model = names["model"]
paths = {id(m): ("model." + p if p else "model") for p, m in model.named_modules()}
inside = {}
for key, (out, inputs) in calls.items():
    if key in paths:
        inside[paths[key]] = {f for f in below(out, above(inputs))
                              if type(f).__name__ != "AccumulateGrad"}
ops = {}
for path, fns in inside.items():
    own = set(fns)
    for other, more in inside.items():
        if other.startswith(path + "."):
            own -= more
    ops[path] = sorted(type(f).__name__ for f in own)
print(json.dumps({"ops": ops, "steps": steps}))
"""


def oracle(source: str) -> dict:
    done = subprocess.run([sys.executable, "-c", ORACLE], input=source, capture_output=True,
                          text=True, timeout=300, env={**os.environ, "PYTHONHASHSEED": "0"})
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.splitlines()[-1])


@pytest.fixture(scope="module", params=sorted(OPTIMIZERS))
def ran(request, client):
    source = NET.replace("{optimizer}", OPTIMIZERS[request.param])
    response = client.post("/api/trace", json={"source": source, "inputs": {}})
    assert response.status_code == 200, response.get_json()
    return request.param, source, response.get_json(), oracle(source)


@pytest.fixture(scope="module")
def client(app):
    return app.test_client()


def close(got, want) -> bool:
    if isinstance(want, list):
        return isinstance(got, list) and len(got) == len(want) and all(map(close, got, want))
    return abs(float(got) - float(want)) <= 1e-5 * max(1.0, abs(float(want)))


def test_each_op_is_stamped_with_the_innermost_module_whose_forward_made_it(ran):
    _, _, trace, truth = ran
    stamped = {}
    for node in trace["nodes"]:
        if node["kind"] in ("op", "output") and node.get("module"):
            stamped.setdefault(node["module"], []).append(node["op"])
    assert {path: sorted(ops) for path, ops in stamped.items()} == \
        {path: ops for path, ops in truth["ops"].items() if ops}
    assert trace["modules"] == {"model": "Net", "model.hidden": "Linear", "model.block": "Block",
                                "model.block.lin": "Linear", "model.out": "Linear"}
    loss_ops = Counter(n["op"] for n in trace["nodes"] if n["kind"] in ("op", "output")
                       and not n.get("module"))
    assert loss_ops == Counter({"SubBackward0": 1, "PowBackward0": 1, "MeanBackward0": 1})


def test_every_step_is_recorded_with_pytorchs_numbers(ran):
    _, _, trace, truth = ran
    assert [u["step"] for u in trace["updates"]] == [1, 2, 3]
    for update, want in zip(trace["updates"], truth["steps"]):
        assert update["line"] == 26
        assert [p["name"] for p in update["parameters"]] == [
            "model.hidden.weight", "model.hidden.bias", "model.block.lin.weight",
            "model.block.lin.bias", "model.out.weight", "model.out.bias"]
        for parameter, (before, grad, after) in zip(update["parameters"], want):
            assert close(parameter["before"], before)
            assert close(parameter["grad"], grad)
            assert close(parameter["after"], after)


def test_each_step_says_the_update_truly(ran):
    kind, _, trace, _ = ran
    text = trace["updates"][0]["text"]
    assert text.startswith("Line 26: optimizer.step() (") and "6 parameters in place" in text
    if kind == "sgd":
        rule = re.search(r"became (\S+) − 0\.1 × \(?(\S+?)\)? = (\S+)\.$", text)
        assert rule, text
        before, grad, after = (float(t.replace("−", "-")) for t in rule.groups())
        assert abs(before - 0.1 * grad - after) <= 1e-3 * max(1.0, abs(after))
        first = trace["updates"][0]["parameters"][0]
        assert abs(first["after"][0][0] - after) <= 1e-3 * max(1.0, abs(after))
    else:
        assert "p ← p −" not in text  # the plain-SGD rule is not what these did
        assert ("momentum buffer" in text) if kind == "momentum" else ("running averages" in text)
        assert re.search(r"went from \S+ to \S+ \(its \.grad was \S+\)\.$", text), text


def test_the_drawing_boxes_each_module_around_its_ops_and_parameters(ran, client):
    kind, source, trace, _ = ran
    if kind != "sgd":
        pytest.skip("one drawing is enough")
    dot = client.get("/graph.dot", query_string={"f": source}).get_data(as_text=True)
    boxes = {}
    for match in re.finditer(r"subgraph (cluster_m\d+) \{\n\t*label=\"?([^\n\"]+)\"?\n", dot):
        boxes[match.group(2)] = match.start()
    assert set(boxes) == {"model (Net)", "model.hidden (Linear)", "model.block (Block)",
                          "model.block.lin (Linear)", "model.out (Linear)"}
    by_name = {n.get("name") or n["label"]: n["id"] for n in trace["nodes"]}
    hidden = dot[boxes["model.hidden (Linear)"]:]
    hidden = hidden[:hidden.index("}")]
    assert f"\t{by_name['model.hidden.weight']}\n" in hidden  # the parameter sits in its box
    addmm = next(n["id"] for n in trace["nodes"] if n.get("module") == "model.hidden"
                 and n["op"] == "AddmmBackward0")
    assert f"\t{addmm}\n" in hidden and f"\t\"{addmm}-op\"\n" in hidden
    svg = client.get("/graph.svg", query_string={"f": source}).get_data(as_text=True)
    assert svg.count('class="cluster cr&#45;module"') == 5
    assert ">model.block.lin (Linear)</text>" in svg


def test_a_program_without_modules_draws_as_before(client):
    dot = client.get("/graph.dot", query_string={"f": "x*sin(x)", "x": "1"}).get_data(as_text=True)
    assert "cluster_m" not in dot


def test_the_page_lists_the_steps_with_their_numbers(ran, client):
    kind, source, trace, _ = ran
    if kind != "adam":
        pytest.skip("one page is enough")
    html = client.get("/", query_string={"f": source}).get_data(as_text=True)
    assert 'aria-label="Optimizer steps"' in html
    assert "optimizer.step() (Adam) changed 6 parameters" in html
    assert "Settings: lr 0.01, betas (0.9, 0.999), eps 1e−08." in html
    assert html.count("<tr><th scope=\"row\"><code>model.hidden.weight</code>") == 3


def test_a_long_training_loop_keeps_the_first_steps_and_the_last(client):
    source = NET.replace("{optimizer}", OPTIMIZERS["sgd"]).replace("range(3)", "range(30)")
    trace = client.post("/api/trace", json={"source": source, "inputs": {}}).get_json()
    assert [u["step"] for u in trace["updates"]] == [*range(1, 21), 30]
    assert trace["updates_total"] == 30
    html = client.get("/", query_string={"f": source}).get_data(as_text=True)
    assert "the first 20 and the last of 30" in html
