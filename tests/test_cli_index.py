"""``opinionwatch index …`` against the real Elasticsearch node and an embedded index."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from typer.testing import CliRunner

from index.embedded import EmbeddedIndex
from opinionwatch.cli import app
from tests.conftest import fresh_elasticsearch_index
from tests.test_index import DOCS

RUNNER = CliRunner()


def config(tmp_path: Path, url: str, prefix: str) -> Path:
    path = tmp_path / "es.yaml"
    path.write_text(
        f"data_dir: {tmp_path / 'data'}\nindex:\n  backend: elasticsearch\n  url: {url}\n"
        f"  index_prefix: {prefix}\n  replicas: 0\n",
        encoding="utf-8",
    )
    return path


def run(*args: str) -> dict[str, object] | str:
    result = RUNNER.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    try:
        return dict(json.loads(result.output))
    except json.JSONDecodeError:
        return result.output


def test_init_migrate_status_recreate_retry(tmp_path: Path, elasticsearch_url: str) -> None:
    prefix = f"cli-{uuid.uuid4().hex[:8]}"
    path = config(tmp_path, elasticsearch_url, prefix)
    with fresh_elasticsearch_index(elasticsearch_url, tmp_path, prefix):  # removes what the commands create
        check_index_commands(tmp_path, path)


def check_index_commands(tmp_path: Path, path: Path) -> None:
    embedded = EmbeddedIndex(tmp_path / "embedded")
    embedded.upsert(DOCS)
    embedded.close()
    assert "ready" in str(run("index", "init", "--config", str(path)))
    copied = run("index", "migrate", "--config", str(path), "--from-embedded", str(tmp_path / "embedded"))
    assert f"copied {len(DOCS)} documents; Elasticsearch now holds {len(DOCS)}" in str(copied)
    status = run("index", "status", "--config", str(path))
    assert isinstance(status, dict) and sum(status["indices"].values()) == len(DOCS)  # type: ignore[attr-defined]
    assert status["outbox"] == 0 and status["dead_letters"] == 0
    assert run("index", "migrate", "--config", str(path), "--recreate") == {
        "indexed": len(DOCS),
        "dead": 0,
        "pending": 0,
    }
    assert run("index", "retry", "--config", str(path)) == {"indexed": 0, "dead": 0, "pending": 0}
    found = RUNNER.invoke(app, ["search", "苹果", "--config", str(path), "--json"])
    assert json.loads(found.output)["total"] == 1


def test_index_commands_need_elasticsearch_where_they_say_so(tmp_path: Path) -> None:
    path = tmp_path / "embedded.yaml"
    path.write_text(f"data_dir: {tmp_path / 'data'}\n", encoding="utf-8")
    assert "embedded index ready" in str(run("index", "init", "--config", str(path)))
    assert run("index", "status", "--config", str(path))["documents"] == 0  # type: ignore[index]
    result = RUNNER.invoke(app, ["index", "retry", "--config", str(path)])
    assert result.exit_code == 1 and "index.backend: elasticsearch" in result.output


def test_unreachable_cluster_is_a_clear_error(tmp_path: Path) -> None:
    path = config(tmp_path, "http://127.0.0.1:9", "x")
    result = RUNNER.invoke(app, ["search", "x", "--config", str(path)])
    assert result.exit_code == 1 and "error:" in result.output and "Traceback" not in result.output
