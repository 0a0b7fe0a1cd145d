"""Turn an E5S1 file plus its ``tokenizer.json`` into a standard sentence-transformers model folder.

The network is a post-LayerNorm BertModel (no RoBERTa position offset, erf GELU); sentence vectors
are the attention-masked mean of the last hidden states, L2-normalised; e5 needs the ``query: ``
and ``passage: `` prompts. No pooler is stored, so none is written.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import numpy as np

from nlp.e5s1 import E5S1File

Dtype = Literal["float16", "float32"]
PROMPTS = {"query": "query: ", "passage": "passage: "}
LAYER_TENSORS = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}
SPECIAL_TOKENS = {
    "bos_token": "<s>",
    "cls_token": "<s>",
    "eos_token": "</s>",
    "sep_token": "</s>",
    "pad_token": "<pad>",
    "unk_token": "<unk>",
    "mask_token": "<mask>",
}


class ConversionError(ValueError):
    """The two sources do not fit together; the message says how."""


def check_vocabulary(model: E5S1File, tokenizer_json: dict) -> None:
    """The tokenizer's unigram pieces and scores must be exactly the model file's."""
    vocab = tokenizer_json.get("model", {}).get("vocab")
    if tokenizer_json.get("model", {}).get("type") != "Unigram" or not isinstance(vocab, list):
        raise ConversionError("tokenizer.json is not a Unigram (SentencePiece) tokenizer")
    if len(vocab) != len(model.pieces):
        raise ConversionError(f"tokenizer.json has {len(vocab)} pieces, the model file {len(model.pieces)}")
    for index, ((piece, score), own_piece, own_score) in enumerate(
        zip(vocab, model.pieces, model.scores, strict=True)
    ):
        if piece != own_piece or abs(score - float(own_score)) > 1e-4:
            raise ConversionError(
                f"vocabulary differs at id {index}: tokenizer.json has {piece!r} ({score}), "
                f"the model file {own_piece!r} ({float(own_score)})"
            )
    if len(model.pieces) > model.header.vocab:
        raise ConversionError(f"{len(model.pieces)} pieces but only {model.header.vocab} embedding rows")


def bert_state_dict(model: E5S1File, dtype: Dtype) -> dict[str, np.ndarray]:
    """BertModel parameter names → arrays, dequantised and cast to ``dtype``."""
    h = model.header
    tensors = {
        "embeddings.word_embeddings.weight": model.tensor("emb.word", (h.vocab, h.hidden)),
        "embeddings.position_embeddings.weight": model.tensor("emb.pos", (h.max_positions, h.hidden)),
        "embeddings.token_type_embeddings.weight": model.tensor("emb.type", (h.type_vocab, h.hidden)),
        "embeddings.LayerNorm.weight": model.tensor("emb.ln.w", (h.hidden,)),
        "embeddings.LayerNorm.bias": model.tensor("emb.ln.b", (h.hidden,)),
    }
    shapes = {
        "q": (h.hidden, h.hidden),
        "k": (h.hidden, h.hidden),
        "v": (h.hidden, h.hidden),
        "ao": (h.hidden, h.hidden),
        "fi": (h.ffn, h.hidden),
        "fo": (h.hidden, h.ffn),
    }
    for layer in range(h.layers):
        for short, long in LAYER_TENSORS.items():
            prefix = f"encoder.layer.{layer}.{long}"
            if short in shapes:  # Linear: weight [out, in] as stored, and its bias
                tensors[f"{prefix}.weight"] = model.tensor(f"l{layer}.{short}.w", shapes[short])
                tensors[f"{prefix}.bias"] = model.tensor(f"l{layer}.{short}.b", (shapes[short][0],))
            else:
                tensors[f"{prefix}.weight"] = model.tensor(f"l{layer}.{short}.w", (h.hidden,))
                tensors[f"{prefix}.bias"] = model.tensor(f"l{layer}.{short}.b", (h.hidden,))
    expected = 5 + 16 * h.layers
    if len(model.tensors) != expected:
        raise ConversionError(
            f"the model file has {len(model.tensors)} tensors, a BertModel needs {expected}"
        )
    return {name: np.ascontiguousarray(array.astype(dtype)) for name, array in tensors.items()}


def bert_config(model: E5S1File) -> dict:
    h = model.header
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": h.vocab,
        "hidden_size": h.hidden,
        "num_hidden_layers": h.layers,
        "num_attention_heads": h.heads,
        "intermediate_size": h.ffn,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": h.max_positions,
        "type_vocab_size": h.type_vocab,
        "initializer_range": 0.02,
        "layer_norm_eps": h.eps,
        "pad_token_id": model.special_ids["pad"],
        "bos_token_id": model.special_ids["bos"],
        "eos_token_id": model.special_ids["eos"],
        "position_embedding_type": "absolute",
        "torch_dtype": "float32",  # float16 files are widened on load: CPU inference runs in float32
        "dtype": "float32",
    }


def write_model_folder(
    model: E5S1File, tokenizer_json: bytes, folder: Path, dtype: Dtype, extra: dict[str, str]
) -> None:
    """Write every file of the sentence-transformers folder into ``folder`` (which must exist)."""
    from safetensors.numpy import save_file

    h = model.header
    save_file(bert_state_dict(model, dtype), str(folder / "model.safetensors"), metadata={"format": "pt"})
    max_length = h.max_positions
    files: dict[str, object] = {
        "config.json": bert_config(model),
        "tokenizer_config.json": {
            # PreTrainedTokenizerFast uses tokenizer.json verbatim, normaliser included
            "tokenizer_class": "PreTrainedTokenizerFast",
            "model_max_length": max_length,
            "clean_up_tokenization_spaces": True,
            **SPECIAL_TOKENS,
        },
        "special_tokens_map.json": SPECIAL_TOKENS,
        "modules.json": [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ],
        "sentence_bert_config.json": {
            "max_seq_length": max_length,
            "do_lower_case": False,
            "model_kwargs": {"add_pooling_layer": False},  # e5 has no pooler: none stored, none built
        },
        "1_Pooling/config.json": {"word_embedding_dimension": h.hidden, "pooling_mode_mean_tokens": True},
        "config_sentence_transformers.json": {
            "prompts": PROMPTS,
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    }
    (folder / "1_Pooling").mkdir(exist_ok=True)
    (folder / "2_Normalize").mkdir(exist_ok=True)
    for name, content in files.items():
        (folder / name).write_text(json.dumps(content, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (folder / "tokenizer.json").write_bytes(tokenizer_json)
    for name, text in extra.items():
        (folder / name).write_text(text, encoding="utf-8")


Reference = Callable[[list[str], bool], np.ndarray]
"""Embeds texts as queries (True) or passages (False) with another engine, for the self-check."""


def self_check(folder: Path, reference: Reference, sentences: list[str]) -> float:
    """Lowest cosine between the folder's embeddings and ``reference``'s, over queries and passages."""
    from nlp.embed import load_sentence_transformer

    model = load_sentence_transformer(folder)
    lowest = 1.0
    for is_query in (False, True):
        ours = model.encode(
            sentences,
            prompt_name="query" if is_query else "passage",
            normalize_embeddings=True,
            convert_to_numpy=True,
        )
        theirs = np.asarray(reference(sentences, is_query), dtype=np.float32)
        theirs = theirs / np.linalg.norm(theirs, axis=1, keepdims=True)
        lowest = min(lowest, float(np.min(np.sum(ours * theirs, axis=1))))
    return lowest
