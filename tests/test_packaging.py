"""`pip install .` (not only editable) gives a working app: templates and static files included."""
from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent

pytestmark = pytest.mark.slow


def test_wheel_carries_templates_static_and_the_command(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(tmp_path), str(ROOT)], check=True, timeout=300)
    wheel = next(tmp_path.glob("chainrule-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    for needed in ("webapp/templates/index.html", "webapp/templates/_graph.html",
                   "webapp/static/js/player.js", "webapp/static/css/chainrule.css",
                   "webapp/static/vendor/htmx-2.0.11.min.js", "webapp/static/vendor/htmx-2.0.11.LICENSE",
                   "webapp/language/interpreter.py", "webapp/sandbox/worker.py", "webapp/engine/jobs.py",
                   "webapp/lesson/steps.py", "webapp/drawing/render.py", "webapp/web/pages.py"):
        assert needed in names, needed
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "chainrule = webapp.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_installed_layout_serves_the_page(tmp_path):
    """Unpacked like site-packages (templates inside the package), the page still renders."""
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(tmp_path), str(ROOT)], check=True, timeout=300)
    wheel = next(tmp_path.glob("chainrule-*.whl"))
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    code = ("import webapp, sys; app = webapp.create_app({'TESTING': True});"
            "assert app.template_folder.startswith(sys.argv[1]), app.template_folder;"
            "r = app.test_client().get('/static/js/player.js'); assert r.status_code == 200;"
            "print('ok')")
    result = subprocess.run([sys.executable, "-c", code, str(site)], cwd=tmp_path, capture_output=True,
                            text=True, env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"}, timeout=120)
    assert result.returncode == 0 and "ok" in result.stdout, result.stderr[-600:]
