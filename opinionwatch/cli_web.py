"""``opinionwatch web`` (the search page), ``hash-password`` and ``feedback`` (what users reported)."""

from __future__ import annotations

import getpass
import json
import os
import secrets
import sys
from datetime import timedelta
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from config.loader import CONFIG_ENV, resolve_config_path
from opinionwatch.commandline import ConfigOption, command_settings, failures
from opinionwatch.web.auth import SECRET_VARIABLE, hash_password
from opinionwatch.web.state import WebState
from opinionwatch.wiring import Services

console = Console()


def web(
    config: ConfigOption = None,
    address: Annotated[
        str | None, typer.Option(help="HOST:PORT to serve on (default: `web.address` of the config).")
    ] = None,
    workers: Annotated[
        int | None, typer.Option(min=1, help="Processes serving together (default: `web.workers`).")
    ] = None,
) -> None:
    """Serve the search page and its JSON API (several may run beside one `opinionwatch run`)."""
    import uvicorn

    from opinionwatch.web.app import create_app

    with failures():
        path = resolve_config_path(config).resolve()
        settings = command_settings(path)
        host, port = (address or settings.web.address).rsplit(":", 1)
        processes = workers or settings.web.workers
        if not settings.web.users:
            console.print("[yellow]no `web.users` in the config: nobody can log in[/yellow]")
        serving: dict[str, Any] = {
            "host": host, "port": int(port), "log_level": "warning", "proxy_headers": True,
            "forwarded_allow_ips": ",".join(settings.web.trusted_proxies),
        }  # fmt: skip
        with Services(settings) as services:
            app = create_app(services)  # opens the index: what is wrong is said here, once
            console.print(f"search page on http://{host}:{port}/ (API spec: /api/openapi.json)")
            if processes == 1:
                uvicorn.run(app, **serving)
                return
        os.environ[CONFIG_ENV] = str(path)  # each worker process loads the same config
        os.environ.setdefault(SECRET_VARIABLE, secrets.token_urlsafe(32))  # and signs with one key
        uvicorn.run("opinionwatch.web.app:app_from_config", factory=True, workers=processes, **serving)


def hash_password_command() -> None:
    """Print the argon2 hash of a password (read from standard input, or asked for) for `web.users`."""
    password = sys.stdin.readline().rstrip("\n") if not sys.stdin.isatty() else getpass.getpass("password: ")
    if not password:
        raise typer.BadParameter("an empty password")
    print(hash_password(password))


def feedback(
    config: ConfigOption = None,
    days: Annotated[int, typer.Option(help="Feedback of the last DAYS days.")] = 30,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for programs.")] = False,
) -> None:
    """What users reported on items from the search page (not relevant, wrong sentiment, ...), per
    watchlist, so that its exclusions and the sentiment model can learn from it."""
    with failures():
        settings = command_settings(config)
        with Services(settings) as services:
            state = WebState(settings.data_dir / "web.sqlite")
            found = state.feedback(services.clock.now() - timedelta(days=days))
            state.close()
        rows = [
            {
                "when": f.created.isoformat(timespec="minutes"), "user": f.user, "kind": f.kind,
                "item_id": f.item_id, "title": f.item.get("title", ""), "url": f.item.get("url", ""),
                "watchlists": f.item.get("watchlists", []), "sentiment": f.item.get("sentiment", ""),
                "matched": f.item.get("matched", []), "note": f.note,
            }
            for f in found
        ]  # fmt: skip
        if as_json:
            print(json.dumps(rows, ensure_ascii=False, indent=2))
            return
        table = Table("when", "kind", "user", "title", "watchlists", "sentiment", "note")
        for row in rows:
            table.add_row(row["when"], row["kind"], row["user"], row["title"], ", ".join(row["watchlists"]),
                          row["sentiment"], row["note"])  # fmt: skip
        console.print(table if rows else f"no feedback in the last {days} days")
