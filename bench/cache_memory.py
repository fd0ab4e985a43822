"""The web process's memory after many distinct large graphs: svg_fill's template cache.

    .venv/bin/python -m bench.cache_memory            # as it is: bounded in bytes
    .venv/bin/python -m bench.cache_memory --entries  # as it was: lru_cache(maxsize=256)

Each graph's laid-out template is ~3.8 MB (a large graph, issue 26); 100 distinct ones
are filled, as 100 students' large graphs would be, and the resident memory is read
before and after (a fresh process each run).
"""
from __future__ import annotations

import functools
import gc
import sys

from webapp.drawing import svg_fill
from webapp.memo import cache_sizes

NODE = ('<g id="n{i}" class="node"><title>n{i}</title>'
        '<polygon fill="#fff" stroke="#000" points="{x},0 {x2},0 {x2},40 {x},40 {x},0"/>'
        '<text text-anchor="start" x="{x}" y="-20" font-family="Helvetica" font-size="14.00">'
        '##########</text>'
        '<text text-anchor="start" x="{x}" y="-6" font-family="Helvetica" font-size="14.00">'
        '##########</text></g>\n')


def large_template(graph: int, nodes: int = 11_000) -> bytes:
    """A dot-like SVG of `nodes` nodes (~3.8 MB), distinct for each `graph`."""
    body = "".join(NODE.format(i=i, x=i * 10 + graph, x2=i * 10 + graph + 80) for i in range(nodes))
    return f'<svg><!-- graph {graph} -->\n{body}</svg>'.encode()


def rss_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def main(graphs: int = 100) -> None:
    if "--entries" in sys.argv:  # the former cache, counting entries
        svg_fill.compile_template = functools.lru_cache(maxsize=256)(
            svg_fill.compile_template.__wrapped__)
    size = len(large_template(0))
    gc.collect()
    before = rss_mib()
    for graph in range(graphs):
        template = large_template(graph)
        svg_fill.fill_values(template, {f"n{i}": ("1.0", "grad 2.0") for i in range(0, 11_000, 7)})
        del template
    gc.collect()
    after = rss_mib()
    held = cache_sizes().get("webapp.drawing.svg_fill.compile_template")
    print(f"{graphs} graphs of {size / 2**20:.1f} MB: RSS {before:.0f} -> {after:.0f} MiB "
          f"(+{after - before:.0f}); template cache: {held if '--entries' not in sys.argv else 'lru_cache(256)'}")


if __name__ == "__main__":
    main()
