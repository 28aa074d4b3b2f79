"""`eekg federation`: explain, query, errors as one line."""

from __future__ import annotations

from click.testing import CliRunner

from api.cli import main


def test_query_explain_and_errors(tmp_path, oxigraph_url):
    config = tmp_path / "federation.toml"
    config.write_text(f'[[source]]\nname = "oxigraph"\nurl = "{oxigraph_url}"\n')
    runner = CliRunner()
    query = "SELECT (COUNT(*) AS ?n) { ?f a <http://example.org/Field> }"
    explained = runner.invoke(main, ["federation", "query", "--config", str(config), "--explain", query])
    assert explained.exit_code == 0 and "# scope 1, oxigraph, about 60 triples\nCONSTRUCT {" in explained.output
    answered = runner.invoke(main, ["federation", "query", "--config", str(config), "--format", "csv", query])
    assert answered.exit_code == 0 and answered.output.splitlines()[:2] == ["n", "60"]
    unknown = runner.invoke(main, ["federation", "query", "--config", str(config), "--source", "nope", query])
    assert unknown.exit_code == 1 and "No source is named 'nope'" in unknown.output and "Traceback" not in unknown.output
