from __future__ import annotations

import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import typer
from typer.testing import CliRunner

from opinionwatch.cli import app

REPO = Path(__file__).resolve().parents[1]
RUNNER = CliRunner()
COMMANDS = sorted(command.name or command.callback.__name__ for command in app.registered_commands)  # type: ignore[union-attr]


def _subcommands(group: typer.Typer, prefix: str) -> list[str]:
    found = [f"{prefix} {command.name}" for command in group.registered_commands]
    for inner in group.registered_groups:
        found += _subcommands(inner.typer_instance, f"{prefix} {inner.name}")  # type: ignore[arg-type]
    return found


SUBCOMMANDS = sorted(
    name
    for group in app.registered_groups
    for name in _subcommands(group.typer_instance, str(group.name))  # type: ignore[arg-type]
)


def test_commands_are_the_documented_ones() -> None:
    assert COMMANDS == [
        "check-config", "crawl", "demo", "digest", "feedback", "hash-password", "newsworld", "run", "search",
        "status", "web",
    ]  # fmt: skip
    assert SUBCOMMANDS == [
        "alerts ack",
        "alerts backtest",
        "alerts list",
        "alerts resolve",
        "alerts show",
        "index init",
        "index migrate",
        "index retry",
        "index status",
        "models build",
        "models list",
        "models train sentiment",
        "topics fit",
        "topics show",
    ]


@pytest.mark.parametrize("command", COMMANDS + SUBCOMMANDS)
def test_every_command_has_help_and_is_documented_in_the_readme(command: str) -> None:
    result = RUNNER.invoke(app, [*command.split(), "--help"])
    assert result.exit_code == 0 and "Usage" in result.output
    readme = (REPO / "README.md").read_text("utf-8")
    assert re.search(rf"`opinionwatch {command}\b", readme), (
        f"README does not document `opinionwatch {command}`"
    )


def test_bad_config_exits_non_zero_with_a_clear_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("sources:\n  - name: x\n    url: nope\n", encoding="utf-8")
    result = RUNNER.invoke(app, ["check-config", "--config", str(bad)])
    assert result.exit_code == 1
    assert "line 3, field 'sources[0].url'" in result.output and "Traceback" not in result.output


def test_unknown_source_and_bad_query_are_errors(tmp_path: Path) -> None:
    config = tmp_path / "ok.yaml"
    config.write_text(
        f"data_dir: {tmp_path / 'data'}\nsources:\n  - name: a\n    url: https://e.com/f\n", "utf-8"
    )
    result = RUNNER.invoke(app, ["run", "--once", "--config", str(config), "--source", "zzz"])
    assert result.exit_code == 1 and "unknown sources ['zzz']" in result.output
    result = RUNNER.invoke(app, ["search", "(unclosed", "--config", str(config)])
    assert result.exit_code == 1 and "missing ')'" in result.output
    result = RUNNER.invoke(app, ["search", "x", "--since", "yesterday", "--config", str(config)])
    assert result.exit_code == 1 and "7d" in result.output


def test_check_config_summarises(tmp_path: Path) -> None:
    result = RUNNER.invoke(app, ["check-config", "--config", str(REPO / "config" / "demo.yaml")])
    assert result.exit_code == 0 and '"novamart"' in result.output and '"embedded"' in result.output


def test_newsworld_serves_until_sigterm_and_exits_0() -> None:
    command = [sys.executable, "-m", "opinionwatch.cli", "newsworld"]
    served = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        assert served.stdout is not None
        first = served.stdout.readline()  # printed once the server listens
        url = re.search(r"http://127\.0\.0\.1:\d+", first)
        assert first.startswith("export ") and url, first
        assert httpx.get(url.group(0) + "/", timeout=30).status_code < 500
        served.send_signal(signal.SIGTERM)
        assert served.wait(timeout=30) == 0
    finally:
        if served.poll() is None:
            served.kill()
