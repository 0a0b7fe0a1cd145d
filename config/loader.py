"""Load :class:`config.settings.Settings` from one YAML file.

Errors name the file, the line, the field and what was expected. Secrets are
taken only from environment variables written as ``${VAR}`` in the YAML.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from config.settings import SECRET_FIELDS, CrossReferenceError, Settings

ENV_PATTERN = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
CONFIG_ENV = "OPINIONWATCH_CONFIG"
DEFAULT_CONFIG = Path("opinionwatch.yaml")

Location = tuple[str | int, ...]


class ConfigError(Exception):
    """A configuration problem, with where it is and what was expected."""


def resolve_config_path(explicit: Path | None, environ: Mapping[str, str] | None = None) -> Path:
    environ = os.environ if environ is None else environ
    if explicit is not None:
        return explicit
    if environ.get(CONFIG_ENV):
        return Path(environ[CONFIG_ENV])
    return DEFAULT_CONFIG


def load_settings(path: Path, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Read, interpolate and validate ``path``; ``overrides`` replace top-level keys."""
    environ = os.environ if environ is None else environ
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: config file not found (pass --config FILE or set {CONFIG_ENV}; see config/example.yaml)"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read config file: {exc}") from None
    lines: dict[Location, int] = {}
    interpolated: set[Location] = set()
    try:
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{path}{where}: not valid YAML: {getattr(exc, 'problem', exc)}") from None
    data = _to_python(root, (), lines, interpolated, environ, path) if root is not None else {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path} line 1: expected a mapping of settings at the top level")
    _check_secrets(data, (), lines, interpolated, path)
    data.update(overrides)
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, lines, path)) from None
    return _anchor_paths(settings, path.parent, "data_dir" in overrides)


def _to_python(
    node: yaml.Node,
    location: Location,
    lines: dict[Location, int],
    interpolated: set[Location],
    environ: Mapping[str, str],
    path: Path,
) -> Any:
    lines[location] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in result:
                raise ConfigError(f"{path} line {key_node.start_mark.line + 1}: key {key!r} appears twice")
            result[key] = _to_python(value_node, (*location, key), lines, interpolated, environ, path)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [
            _to_python(item, (*location, i), lines, interpolated, environ, path)
            for i, item in enumerate(node.value)
        ]
    value = yaml.SafeLoader("").construct_object(node, deep=True)
    if isinstance(value, str) and "${" in value:
        interpolated.add(location)
        value = _interpolate(value, environ, f"{path} line {lines[location]}")
    return value


def _interpolate(value: str, environ: Mapping[str, str], where: str) -> str:
    def replace(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in environ:
            return environ[name]
        if default is not None:
            return default
        raise ConfigError(f"{where}: environment variable {name} is not set (referenced as ${{{name}}})")

    return ENV_PATTERN.sub(replace, value)


def _check_secrets(
    data: Any, location: Location, lines: dict[Location, int], interpolated: set[Location], path: Path
) -> None:
    if isinstance(data, dict):
        for key, value in data.items():
            here = (*location, key)
            if key in SECRET_FIELDS and value is not None and here not in interpolated:
                raise ConfigError(
                    f"{path} line {lines.get(here, 0)}, field '{_dotted(here)}': secrets come only from the "
                    f"environment; write `{key}: ${{SOME_VARIABLE}}` instead of the value"
                )
            _check_secrets(value, here, lines, interpolated, path)
    elif isinstance(data, list):
        for i, value in enumerate(data):
            _check_secrets(value, (*location, i), lines, interpolated, path)


def _describe(exc: ValidationError, lines: dict[Location, int], path: Path) -> str:
    problems = []
    for error in exc.errors():
        location = tuple(part for part in error["loc"] if part not in ("embedded", "elasticsearch"))
        cause = (error.get("ctx") or {}).get("error")
        if isinstance(cause, CrossReferenceError):
            location = cause.location
        line = _nearest_line(location, lines)
        field = _dotted(location) or "(top level)"
        got = error.get("input")
        shown = "" if isinstance(got, dict | list) or got is None else f" (got {got!r})"
        message = error["msg"].removeprefix("Value error, ")
        if got is None and error["type"] != "missing":
            message = "is empty: give it a value (or its settings on the lines below), or remove the key"
        problems.append(f"{path} line {line}, field '{field}': {message}{shown}")
    return "invalid configuration:\n  " + "\n  ".join(problems)


def _nearest_line(location: Location, lines: dict[Location, int]) -> int:
    for end in range(len(location), -1, -1):
        if location[:end] in lines:
            return lines[location[:end]]
    return 1


def _dotted(location: Location) -> str:
    text = ""
    for part in location:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _anchor_paths(settings: Settings, base: Path, data_dir_overridden: bool) -> Settings:
    data_dir = settings.data_dir
    if not data_dir.is_absolute() and not data_dir_overridden:
        data_dir = (base / data_dir).resolve()
    return settings.model_copy(update={"data_dir": data_dir})
