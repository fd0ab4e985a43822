"""Time and size of the course-author exports (GIF, step SVGs, tape tables); prints a table.

    PYTHONPATH=. python bench/exports_bench.py
"""
from __future__ import annotations

import time
from urllib.parse import quote

from webapp import create_app

CASES = [
    ("seed 001 snippet", "x1 = torch.tensor(2.0, requires_grad=True)\nx2 = torch.tensor(2.0, requires_grad=True)\n"
     "x3 = x1.square(); x5 = x3 * 0.2\nx4 = x2.square(); x6 = x4 * 0.2\nx7 = x5 + x6 - 5", {}),
    ("Baydin", "log(x1) + x1*x2 - sin(x2)", {"x1": 2, "x2": 5}),
    ("loop x20", "y = x\nfor i in range(20):\n    y = y * 0.9 + torch.sin(y)\ny", {"x": 0.3}),
    # unfolded (8 repetitions): 49 boxes in a row, 66 frames of about 3,900 × 470 px
    ("loop x8, sin", "y = x\nfor i in range(8):\n    y = sin(y) * 0.999 + x * 0.001\ny", {"x": 1}),
]


def main() -> None:
    client = create_app({"TESTING": True}).test_client()
    print(f"{'function':<18} {'route':<11} {'ms (cold)':>10} {'ms (warm)':>10} {'bytes':>9}")
    for title, source, inputs in CASES:
        query = "f=" + quote(source) + "".join(f"&{k}={v}" for k, v in inputs.items())
        for route in ("/graph.gif", "/steps.zip", "/tape.tex"):
            times = []
            for _ in range(2):
                start = time.perf_counter()
                response = client.get(f"{route}?{query}")
                times.append((time.perf_counter() - start) * 1000)
            print(f"{title:<18} {route:<11} {times[0]:>10.0f} {times[1]:>10.0f} {len(response.data):>9,}"
                  f"{'' if response.status_code == 200 else '  ' + str(response.status_code)}")


if __name__ == "__main__":
    main()
