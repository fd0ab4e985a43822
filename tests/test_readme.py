"""Every code example in the README and in docs/ runs."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from . import seeds

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text()
PAGES = [README, *(page.read_text() for page in sorted((ROOT / "docs").glob("*.md")))]


def python_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, re.S)


def commands(text: str) -> list[str]:
    return [line for block in re.findall(r"```console\n(.*?)```", text, re.S)
            for line in block.strip().splitlines() if line.startswith("chainrule ")
            and not line.startswith("chainrule serve")]


PYTHON_BLOCKS = [block for page in PAGES for block in python_blocks(page)]
COMMANDS = [command for page in PAGES for command in commands(page)]


def test_readme_has_examples():
    assert len(python_blocks(README)) >= 2 and len(commands(README)) >= 4


@pytest.mark.parametrize("code", PYTHON_BLOCKS)
def test_python_example_runs(code, tmp_path):
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr[-800:]


@pytest.mark.parametrize("command", COMMANDS)
def test_command_example_runs(command, tmp_path):
    (tmp_path / "lesson.py").write_text(seeds.SEED001_QUADRATIC)
    args = [sys.executable, "-m", "webapp", *__import__("shlex").split(command)[1:]]
    result = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-800:]


def test_serve_example_has_help():
    result = subprocess.run([sys.executable, "-m", "webapp", "serve", "--help"], capture_output=True,
                            text=True, timeout=60)
    assert "--production" in result.stdout
