"""The settings schema (``config.settings``), its YAML loader (``config.loader``) and the shipped configs."""

from __future__ import annotations

import re
from pathlib import Path

DEMO_CONFIG = Path(__file__).parent / "demo.yaml"
"""Watches the local news world; ``opinionwatch demo`` runs on it."""


def demo_config_text(data_dir: str | Path) -> str:
    """``config/demo.yaml`` with its data in ``data_dir`` (a relative one is taken from the copy's folder)."""
    return re.sub(r"(?m)^data_dir:.*$", f"data_dir: {data_dir}", DEMO_CONFIG.read_text("utf-8"))
