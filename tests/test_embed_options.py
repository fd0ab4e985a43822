"""/embed's options (issue 18): step, autoplay, controls, code, theme; one 400 per bad value.

The step count is an oracle from plain PyTorch: each node of the autograd graph reached from
the output (AccumulateGrad for each leaf, one backward function per operation) is one
forward step and one backward step.
"""
from __future__ import annotations

import html
import re
from urllib.parse import quote

import pytest
import torch

FUNCTION = "f=" + quote("x1*x2 + sin(x1)") + "&x1=2&x2=3"


def torch_step_count() -> int:
    x1 = torch.tensor(2.0, requires_grad=True)
    x2 = torch.tensor(3.0, requires_grad=True)
    out = x1 * x2 + torch.sin(x1)
    seen, todo = set(), [out.grad_fn]
    while todo:
        node = todo.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        todo.extend(next_fn for next_fn, _ in node.next_functions)
    return 2 * len(seen)


STEPS = torch_step_count()  # 10


@pytest.mark.parametrize("query, message", [
    ("step=abc", f"step must be a whole number from 0 to {STEPS}."),
    ("step=-1", f"step must be a whole number from 0 to {STEPS}."),
    ("step=2.5", f"step must be a whole number from 0 to {STEPS}."),
    (f"step={STEPS + 1}", f"step must be a whole number from 0 to {STEPS}."),
    ("theme=blue", "theme must be light or dark."),
    ("theme=Dark", "theme must be light or dark."),
    ("autoplay=yes", "autoplay must be 0 or 1."),
    ("controls=2", "controls must be 0 or 1."),
    ("code=true", "code must be 0 or 1."),
    ("fit=all", "fit must be readable (node text stays legible, a wide graph scrolls) or whole "
                "(the whole graph in the frame)."),
])
def test_a_bad_option_is_one_clear_400(client, query, message):
    """Mutation: switch_param returning `text != "0"` for any text turns autoplay=yes into a 200."""
    response = client.get(f"/embed?{FUNCTION}&{query}")
    assert response.status_code == 400
    assert response.get_json() == {"error": {"kind": "input", "message": message}}


def _main(client, query: str) -> str:
    response = client.get(f"/embed?{FUNCTION}&{query}")
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_data(as_text=True)


def test_step_up_to_the_graphs_step_count_is_accepted(client):
    """The upper bound is the graph's own step count (torch oracle), not a fixed number.

    Mutation: `steps = MAX_STEPS` always in pages._embed_options makes step=STEPS+1 a 200."""
    page = _main(client, f"step={STEPS}")
    assert f'data-step="{STEPS}"' in page
    assert client.get(f"/embed?{FUNCTION}&step={STEPS + 1}").status_code == 400


def test_options_reach_the_page(client):
    """Mutation: dropping `{% if options.controls %}` around the player keeps the buttons (fails)."""
    default = _main(client, "")
    assert 'data-step="0"' in default and 'data-autoplay="0"' in default
    assert 'data-action="forward"' in default and "embed-code" not in default.split("<body")[1]
    assert 'data-theme="light"' in default  # an embed is light unless its author asks
    chosen = _main(client, "step=3&autoplay=1&controls=0&code=1&theme=dark")
    assert 'data-step="3"' in chosen and 'data-autoplay="1"' in chosen
    assert 'data-action="forward"' not in chosen  # controls=0: no buttons
    code = re.search(r'<pre class="embed-code"[^>]*><code>(.*?)</code></pre>', chosen, re.S)
    assert code and html.unescape(code.group(1)) == "x1*x2 + sin(x1)"
    assert 'data-theme="dark"' in chosen
    assert re.search(r'href="/static/css/dark\.css[^"]*" media="all"', chosen)


def test_the_page_follows_the_system_unless_theme_is_given(client):
    """Mutation: media="all" for every page forces dark on everyone (the first check fails)."""
    auto = client.get(f"/?{FUNCTION}").get_data(as_text=True)
    assert re.search(r'dark\.css[^"]*" media="\(prefers-color-scheme: dark\)"', auto)
    assert 'content="light dark"' in auto
    dark = client.get(f"/?{FUNCTION}&theme=dark").get_data(as_text=True)
    assert re.search(r'dark\.css[^"]*" media="all"', dark) and 'data-theme="dark"' in dark
    light = client.get(f"/?{FUNCTION}&theme=light").get_data(as_text=True)
    assert re.search(r'dark\.css[^"]*" media="not all"', light)
    assert client.get(f"/?{FUNCTION}&theme=sepia").status_code == 400


def test_the_embed_code_offers_a_titled_iframe_the_listener_and_the_image(client, app):
    """Mutation: dropping the <noscript> line from embed_snippet.snippet fails the image check."""
    page = client.get(f"/?{FUNCTION}").get_data(as_text=True)
    code = html.unescape(re.search(r'<textarea id="embed-code"[^>]*>(.*?)</textarea>', page, re.S).group(1))
    assert re.search(r'<iframe src="http://localhost/embed\?f=[^"]+" title="chainrule: the autograd '
                     r'graph of x1\*x2 \+ sin\(x1\)"', code)
    assert re.search(r'<noscript><img src="http://localhost/graph\.svg\?f=[^"]+" alt="[^"]+"[^>]*></noscript>', code)
    script = code.split("<script>")[1].split("</script>")[0]
    assert "lti.frameResize" in script and len(script.strip().splitlines()) <= 32
    with open(f"{app.static_folder}/js/embed-listener.js") as handle:
        assert script.strip() == handle.read().strip()


def test_unfold_in_an_embed_stays_in_the_embed(client):
    """The full page may not be framed (frame-ancestors 'none'), so an embed's Unfold and Fold
    again go to /embed, keeping its options (the review saw "refused to connect" in the
    iframe). Mutation: _embed_options not rewriting fold_urls."""
    import html
    import re
    from urllib.parse import quote
    loop = quote("y = x\nfor i in range(20):\n    y = y * 0.99 + 0.01\ny")
    embed = client.get(f"/embed?f={loop}&x=1&controls=0&code=1&fit=whole").get_data(as_text=True)
    unfold = html.unescape(re.search(r'href="([^"]*)" class="fold-link" id="unfold"', embed).group(1))
    assert unfold.startswith("/embed?") and "fold=0" in unfold and "controls=0" in unfold and "code=1" in unfold
    assert "fit=whole" in unfold  # mutation: drop "fit" from the kept options
    unfolded = client.get(unfold)
    assert unfolded.status_code == 200 and 'id="embed"' in unfolded.get_data(as_text=True)
    refold = html.unescape(re.search(r'href="([^"]*)" class="fold-link" id="refold"', unfolded.get_data(as_text=True)).group(1))
    assert refold.startswith("/embed?") and "fold=0" not in refold
