"""Issue 26: every cache is bounded in bytes, not entries, and reports its size.

svg_fill.compile_template's lru_cache(maxsize=256) held ~3.8 MB a large graph: 100 distinct
large graphs took the server from 76 to 892 MiB (bench/cache_memory.py measures it).
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

from bench.cache_memory import large_template
from webapp.drawing import svg_fill
from webapp.memo import BytesBoundedMemo, approximate_bytes, cache_sizes

PACKAGE = Path(__file__).resolve().parent.parent / "webapp"


def test_large_templates_are_kept_within_the_stated_bytes():
    """Mutations: compile_template under lru_cache(maxsize=256) again (no byte count);
    BytesBoundedMemo without its eviction loop (30 × ~13 MB kept)."""
    memo = svg_fill.compile_template
    memo.cache_clear()
    assert memo.max_bytes == 64 * 2**20
    for graph in range(30):
        filled = svg_fill.fill_values(large_template(graph, nodes=11_000), {"n1": ("1.5", None)})
        assert b'data-row="value">1.5</text>' in filled
    assert 0 < memo.bytes <= memo.max_bytes and len(memo) < 30
    memo.cache_clear()


def test_the_weight_is_close_to_what_an_entry_holds():
    """An entry's estimate is within a factor of two of its deep size (so the bound is
    real). Mutation: _template_bytes returns len(template) alone (5 times too light)."""
    template = large_template(1, nodes=2_000)
    compiled = svg_fill.compile_template.function(template)
    estimate = svg_fill._template_bytes((template,), compiled)
    assert 0.5 < estimate / approximate_bytes(((template,), compiled)) < 2


def test_a_memo_drops_the_least_recently_used_past_its_bound():
    """Mutation: no eviction (all five kept), or eviction from the newest end."""
    memo = BytesBoundedMemo(lambda n: "x" * n, max_bytes=1_000, size=lambda key, value: len(value))
    for n in (200, 201, 202):
        memo(n)
    memo(200)  # used again: the newest
    memo(203), memo(204)
    assert memo.bytes <= 1_000 and len(memo) == 4
    assert (201,) not in memo._entries and (200,) in memo._entries
    memo(5_000)  # over a quarter of the bound: computed, not kept
    assert (5_000,) not in memo._entries


def test_no_cache_counts_entries():
    """Every memoised function in webapp/ is byte-bounded; lru_cache remains only for
    values made once (maxsize=1). Mutation: svg_fill back to lru_cache(maxsize=256)."""
    counting = []
    for path in PACKAGE.rglob("*.py"):
        for match in re.finditer(r"lru_cache\((.*?)\)|functools\.cache\b", path.read_text()):
            if match.group(0).startswith("functools.cache") or match.group(1) != "maxsize=1":
                counting.append(f"{path.relative_to(PACKAGE)}: {match.group(0)}")
    assert counting == []


def test_cache_sizes_reports_every_cache(app, client):
    """The function /healthz's debug view reads. Mutation: cache_sizes ignores `app`."""
    client.post("/api/trace", json={"source": "x * 2", "inputs": {"x": 1.0}})
    client.get("/graph.svg?f=x*2&x=1")
    sizes = cache_sizes(app)
    for name in ("webapp.drawing.svg_fill.compile_template", "webapp.lesson.guards._syntax",
                 "webapp.drawing.dot_statements.quote", "web.assets.digest",
                 "app.answers", "app.templates", "app.images"):
        assert name in sizes, sorted(sizes)
    for name, size in sizes.items():
        assert 0 <= size["bytes"] <= size["max_bytes"], name
    assert sizes["app.answers"]["bytes"] > 0 and sizes["app.answers"]["max_bytes"] == 64 * 2**20


def test_a_parsed_program_weighs_more_than_its_text():
    """The parse caches weigh trees, not texts. Mutation: approximate_bytes skips objects'
    attributes (an ast node would weigh its shell alone)."""
    source = "\n".join(f"y{i} = x * {i} + sin(x)" for i in range(300))
    assert approximate_bytes(ast.parse(source)) > 20 * len(source)
