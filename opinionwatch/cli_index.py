"""``opinionwatch index …``: set up, inspect, repair and migrate the search index."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from config.settings import ElasticsearchSettings, Settings
from index.elastic import ElasticsearchIndex
from index.embedded import EmbeddedIndex
from opinionwatch.commandline import ConfigOption, command_settings, failures

index_app = typer.Typer(
    help="Set up, inspect, repair and migrate the search index.", no_args_is_help=True, rich_markup_mode=None
)
console = Console()


def _elastic(settings: Settings) -> ElasticsearchIndex:
    if not isinstance(settings.index, ElasticsearchSettings):
        raise ValueError("this needs `index.backend: elasticsearch` in the config")
    return ElasticsearchIndex(settings.index, settings.data_dir)


@index_app.command("init")
def init(config: ConfigOption = None) -> None:
    """Create the index (embedded folder, or Elasticsearch template and alias)."""
    with failures():
        settings = command_settings(config)
        if isinstance(settings.index, ElasticsearchSettings):
            elastic = _elastic(settings)
            elastic.init()
            console.print(
                f"template and alias {elastic.alias} ready; monthly indices {elastic.alias}-YYYY.MM"
            )
            elastic.close()
        else:
            EmbeddedIndex(settings.index_dir).close()
            console.print(f"embedded index ready at {settings.index_dir}")


@index_app.command("status")
def status(config: ConfigOption = None) -> None:
    """Documents per index, the outbox and the dead letters (Elasticsearch) or the document count."""
    with failures():
        settings = command_settings(config)
        if isinstance(settings.index, ElasticsearchSettings):
            elastic = _elastic(settings)
            report = elastic.status()
            report["dead_letter_reasons"] = [
                {"id": i, "reason": reason[:300], "failed_at": when}
                for i, reason, when in elastic.dead_letters()[:20]
            ]
            elastic.close()
        else:
            embedded = EmbeddedIndex(settings.index_dir)
            report = {"backend": "embedded", "path": str(settings.index_dir), "documents": embedded.count()}
            embedded.close()
        console.print_json(json.dumps(report))


@index_app.command("retry")
def retry(config: ConfigOption = None) -> None:
    """Deliver the outbox and replay the dead letters (Elasticsearch)."""
    with failures():
        elastic = _elastic(command_settings(config))
        console.print_json(json.dumps(elastic.retry()))
        elastic.close()


@index_app.command("migrate")
def migrate(
    config: ConfigOption = None,
    from_embedded: Annotated[
        Path | None, typer.Option(help="Copy this embedded index folder into Elasticsearch.")
    ] = None,
    recreate: Annotated[
        bool, typer.Option(help="Rebuild the Elasticsearch indices (after a mapping change).")
    ] = False,
) -> None:
    """Copy the embedded index into Elasticsearch, or recreate the indices, without _reindex."""
    with failures():
        settings = command_settings(config)
        elastic = _elastic(settings)
        if recreate:
            console.print_json(json.dumps(elastic.recreate()))
        else:
            source = EmbeddedIndex(from_embedded or settings.data_dir / "index")
            batch = []
            copied = 0
            for doc in source.export():
                batch.append(doc)
                if len(batch) == 1000:
                    elastic.upsert(batch)
                    copied, batch = copied + len(batch), []
            elastic.upsert(batch)
            copied += len(batch)
            console.print(f"copied {copied} documents; Elasticsearch now holds {elastic.count()}")
            source.close()
        elastic.close()
