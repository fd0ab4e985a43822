"""One parser per parameter, one message: the page, the API and the CLI say the same thing."""
from __future__ import annotations

import html

import pytest

from webapp.cli import main


@pytest.mark.parametrize("bad", ["abc", "nan", "inf"])
def test_step_is_refused_with_one_message_on_the_page_and_the_api(client, bad):
    """Mutation: `float(request.args.get("step") or 1e-3)` back in pages.check_partial (with its
    own "step must be a number." for a ValueError): the page's message differs, and nan/inf
    pass the page."""
    api = client.get(f"/api/check?f=x*x&x=1&step={bad}")
    assert api.status_code == 400
    message = api.get_json()["error"]["message"]
    assert message.startswith("step must be a finite number")
    page = client.get(f"/partials/check?f=x*x&x=1&step={bad}").get_data(as_text=True)
    assert f'<p class="error">{html.escape(message)}</p>' in page


def test_an_input_value_is_refused_alike_by_the_api_and_the_cli(client, tmp_path, capsys):
    """Mutation: `json.loads(value)` back in cli._inputs: NaN is then accepted by the CLI
    (json reads it) and the command fails later, or not at all, with another sentence."""
    api = client.get("/api/check?f=x*x&x=NaN")
    assert api.status_code == 400
    message = api.get_json()["error"]["message"]
    assert main(["render", "x * x", "--at", "x=NaN", "-o", str(tmp_path / "g.svg")]) == 1
    assert capsys.readouterr().err.strip().splitlines()[-1] == f"chainrule: error: {message}"
