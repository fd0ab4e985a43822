"""The tree is the architecture diagram: imports flow web → sandbox ⇢ engine → language → leaves.

Read from the source with `ast` (every import, also those inside functions), so a lazy
import cannot hide a wrong direction. The web process is also started for real and asked
for a page and a trace, and must not have loaded torch or matplotlib.
"""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "webapp"
LEAVES = {"errors", "limits", "formatting", "cache", "timing", "deep_graphs", "memo", "services", "model", "typed_json"}
TOP = {"__init__", "__main__", "cli", "python_api", "own_tensors", "bounded", "production", "warm_gallery", "widget"}

# What each part may import of the package (itself always). drawing and lesson are plain
# data in, plain data out, so every side may read them; they read only leaves.
ALLOWED = {
    "leaf": set(),
    "language": {"leaf"},
    "lesson": {"leaf"},
    "drawing": {"leaf", "lesson"},
    "engine": {"leaf", "language", "lesson", "drawing", "sandbox.cpython"},
    "sandbox": {"leaf"},                       # the parent side of the boundary
    "sandbox.worker": {"leaf", "engine", "sandbox", "sandbox.cpython"},  # the child side
    # The one module that executes user text (as CPython), in a confined child only.
    "sandbox.cpython": {"leaf", "language"},
    "web": {"leaf", "sandbox", "drawing", "lesson"},
}
# Third-party modules a part must never import (the web process runs web, sandbox and drawing).
FORBIDDEN = {
    "drawing": {"torch", "flask"},
    "lesson": {"torch", "flask", "matplotlib", "graphviz"},
    "sandbox": {"torch", "matplotlib", "numpy"},
    "sandbox.cpython": {"flask", "matplotlib"},
    "web": {"torch", "matplotlib", "numpy"},
    "leaf": {"torch", "matplotlib", "graphviz"},
    "language": {"flask", "matplotlib", "graphviz"},
    "engine": {"flask"},
}
# Known exceptions, each with its reason; the list only shrinks.
EXCEPTIONS: set = set()


def part_of(module: str) -> str:
    """`webapp.engine.tracing` → "engine"; leaves → "leaf"; top-level entry points → "top"."""
    parts = module.split(".")[1:]
    if not parts or parts[0] in TOP:
        return "top"
    if parts[0] in LEAVES:
        return "leaf"
    if parts[:2] in (["sandbox", "worker"], ["sandbox", "cpython"]):
        return ".".join(parts[:2])
    return parts[0]


def imports_of(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module) for every import in the file, relative ones resolved."""
    module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    package = module.split(".")[:-1] if path.name != "__init__.py" else module.split(".")[:-1]
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
                # `from . import render` imports the module webapp.x.render
                found += [(node.lineno, f"{target}.{alias.name}") for alias in node.names]
            else:
                found.append((node.lineno, node.module))
    return found


def modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        yield ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__"), path


def violations() -> list[str]:
    wrong = []
    for module, path in modules():
        part = part_of(module)
        if part == "top":
            continue
        short = module.removeprefix("webapp.")
        for line, target in imports_of(path):
            if target.startswith("webapp"):
                other = part_of(target) if target != "webapp" else "top"
                if other == part or other in ALLOWED[part]:
                    continue
                if (short, other) in EXCEPTIONS:
                    continue
                wrong.append(f"{path.relative_to(ROOT)}:{line} ({part}) imports {target} ({other})")
            else:
                top = target.split(".")[0]
                if top in FORBIDDEN.get(part, set()) and (short, top) not in EXCEPTIONS:
                    wrong.append(f"{path.relative_to(ROOT)}:{line} ({part}) imports {top}")
    return wrong


def test_every_module_belongs_to_a_known_part():
    """Mutation: add webapp/helpers.py (a new top-level module) - it belongs to no part."""
    unknown = [m for m, _ in modules() if part_of(m) not in ALLOWED and part_of(m) != "top"]
    assert unknown == []


def test_imports_flow_one_way():
    """Mutation: `from ..engine.tracing import walk` in webapp/web/api.py, or
    `from ..drawing.render import format_number` back in engine/tracing.py's place of
    formatting (engine → drawing is allowed, so use `from ..web import query` in
    engine/jobs.py): each is listed here."""
    assert violations() == []


def test_the_checker_sees_a_wrong_import(tmp_path, monkeypatch):
    """The checker itself: a web module importing the engine is reported (resolves `..`)."""
    fake = tmp_path / "webapp" / "web"
    fake.mkdir(parents=True)
    (fake / "bad.py").write_text("def f():\n    from ..engine import tracing\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", tmp_path / "webapp")
    assert violations() == ["webapp/web/bad.py:2 (web) imports webapp.engine.tracing (engine)"]


SERVE = """
import json, sys
import webapp
app = webapp.create_app({"TESTING": True, "WORKERS": 1})
client = app.test_client()
page = client.get("/?source=x*x&x=3")
trace = client.post("/api/trace", json={"source": "y = x * x", "inputs": {"x": 3.0}})
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "matplotlib", "numpy"))
print(json.dumps({"page": page.status_code, "trace": trace.status_code,
                  "grad": trace.get_json().get("nodes", [{}])[0].get("grad"), "heavy": heavy}))
app.extensions["chainrule"].pool.close() if app.extensions["chainrule"].pool else None
"""


def test_the_web_process_loads_no_torch_and_no_matplotlib():
    """Serve a page and a trace (through the worker pool) in a fresh process; torch,
    numpy and matplotlib must stay out of it.

    Mutation: `import torch` at the top of webapp/web/api.py, or drawing `plots` in
    pages.py instead of the worker: "torch"/"matplotlib" appear in `heavy`."""
    done = subprocess.run([sys.executable, "-c", SERVE], capture_output=True, text=True,
                          timeout=240, cwd=ROOT, env={**__import__("os").environ,
                                                      "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr[-2000:]
    answer = __import__("json").loads(done.stdout.strip().splitlines()[-1])
    assert answer["page"] == 200 and answer["trace"] == 200
    assert answer["grad"] is not None  # the worker really ran the program
    assert answer["heavy"] == []


CLI = """
import json, sys
from webapp.cli import main
main(["render", sys.argv[1], "--at", "x=3", "-o", sys.argv[2]])
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "matplotlib", "numpy"))
print(json.dumps({"heavy": heavy}))
"""


def test_the_cli_renders_without_importing_torch_itself(tmp_path):
    """`chainrule render` runs the text in a worker: its own process needs no torch (1.3 s of
    a 5 s run). Mutation: `import torch` at the top of python_api.py."""
    (tmp_path / "f.py").write_text("sin(x) * x\n")
    done = subprocess.run([sys.executable, "-c", CLI, str(tmp_path / "f.py"), str(tmp_path / "f.svg")],
                          capture_output=True, text=True, timeout=240, cwd=ROOT,
                          env={**__import__("os").environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr[-2000:]
    assert __import__("json").loads(done.stdout.strip().splitlines()[-1])["heavy"] == []
    assert "<svg" in (tmp_path / "f.svg").read_text()


# Modules still to split; the set only shrinks (empty since the splits of issue 14).
OVERSIZE: set = set()


@pytest.mark.parametrize("module", [m for m, _ in modules() if m not in OVERSIZE])
def test_no_module_grows_past_an_idea(module):
    """A module is one idea (../shared/STYLE.md, habit 5), split where the code divides, not
    at a line count: issue 27 retired the 300-line cap, which split files to meet it. What
    stays is an alarm far above any one idea here (the largest, the R call translator, is
    about 360 lines) and a docstring saying what the idea is.
    Mutation: append 300 comment lines to any module; drop a module's docstring."""
    path = dict(modules())[module]
    lines = len(path.read_text().splitlines())
    assert lines <= 450, f"{module} has {lines} lines: is it still one idea?"
    assert ast.get_docstring(ast.parse(path.read_text())), f"{module} has no docstring"


def _numeric(node) -> bool:
    if isinstance(node, ast.Constant):
        return isinstance(node.value, (int, float)) and not isinstance(node.value, bool)
    return isinstance(node, ast.BinOp) and _numeric(node.left) and _numeric(node.right)


def test_every_cap_lives_in_limits_py():
    """A module-level `MAX_…` (or `…_PER_MINUTE`) number outside limits.py is a bound in the
    wrong place. Mutation: put `MAX_DRAWN_NODES = 2500` back in drawing/render.py."""
    stray = []
    for module, path in modules():
        if module == "webapp.limits":
            continue
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.Assign) and _numeric(node.value):
                for target in node.targets:
                    name = getattr(target, "id", "")
                    if name.startswith("MAX_") or name.endswith(("_PER_MINUTE", "_IN_FLIGHT")):
                        stray.append(f"{module}.{name}")
    assert stray == []


def test_the_readme_tree_names_every_package_and_module():
    """Mutation: add a package (webapp/newpart/__init__.py) or a module without a line in
    docs/architecture.md's layout: its name is missing here."""
    readme = (ROOT / "docs" / "architecture.md").read_text()
    tree = readme[readme.index("    webapp/\n"):]
    tree = tree[: tree.index("\n\n")]
    missing = []
    for module, path in modules():
        parts = module.split(".")
        if len(parts) == 2 and path.name != "__init__.py" and parts[1] != "__main__":
            if f"{parts[1]}.py" not in tree:
                missing.append(module)
        elif len(parts) >= 2 and path.name == "__init__.py" and f"{parts[1]}/" not in tree:
            missing.append(module)
        elif len(parts) == 3 and parts[2] not in tree:  # a package's modules, by name
            missing.append(module)
    assert missing == []


def private_imports(root: Path = ROOT / "webapp") -> list[str]:
    """`from chainrule's module import _name`: a name used across modules is public."""
    found = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            own = isinstance(node, ast.ImportFrom) and (node.level > 0 or (node.module or "").startswith("webapp"))
            if own:
                found += [f"{path.relative_to(ROOT)}: {alias.name}" for alias in node.names
                          if alias.name.startswith("_") and not alias.name.startswith("__")]
    return found


def test_no_module_imports_another_ones_private_name():
    """Mutation: import `_read_trace` from sandbox.gate in web/api.py: this lists it."""
    assert private_imports() == []
