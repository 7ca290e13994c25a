"""Reading a client's settings object (camelCase, nested) into `settings.Settings`.

An unknown key or a value of the wrong type or range is a warning and the default; it never
fails a request. Only the wire names are read (`list`, `apiKeyEnv`), never the Python ones
(`listing`, `api_key_env`): an editor passes on keys it does not know, also from a workspace's
settings file, and checks only the wire names of the settings that are the user's alone.
nib 0.1's flat names (`listSize`, `staticMs`, ...) and replaced settings (`statement.blockBody`)
are still accepted, with a deprecation warning, until nib 0.3; those of a user-only setting
(`modelPath`, `device`) no longer are, for the same reason.
"""

from __future__ import annotations

import dataclasses
from dataclasses import fields, is_dataclass

from nib.model.service.exclude import invalid

from .settings import Settings, wire

# nib 0.1's flat names -> their place now; accepted with a warning until nib 0.3.
DEPRECATED = {
    "list": ("list", "enable"),
    "statement": ("statement", "enable"),
    "statementInList": ("list", "statement"),
    "static": ("jedi", "enable"),
    "staticMs": ("jedi", "budgetMs"),
    "healing": ("model", "healing"),
    "maxTokens": ("statement", "maxTokens"),
    "statementMs": ("statement", "budgetMs"),
    "listMs": ("list", "budgetMs"),
    "listSize": ("list", "size"),
    "contextTokens": ("model", "contextTokens"),
    "blockBody": ("statement", "blockBody"),
    "debounceMs": ("statement", "debounceMs"),
    "threads": ("model", "threads"),
    "logLevel": ("log", "level"),
}
# nib 0.1's flat names of settings that are the user's alone (`setting(machine=True)`): not read.
REMOVED = {"modelPath": "model.path", "device": "model.device"}
# Settings replaced by one whose values differ: old wire path -> (new wire path, old value -> new value).
CONVERTED = {("statement", "blockBody"): (("statement", "lines"), lambda on: "multi" if on else "auto")}


def parse(raw, base: Settings | None = None) -> tuple[Settings, list[str]]:
    """Settings from a client's object over base, and a warning for each key that was not usable.

    Example: parse({"statement": {"maxTokens": "x"}}) ==
             (Settings(), ["nib: setting statement.maxTokens must be an integer, got 'x'; using the default 32"])
    """
    settings = (
        dataclasses.replace(
            base,
            **{
                f.name: dataclasses.replace(getattr(base, f.name))
                for f in fields(Settings)
                if is_dataclass(getattr(base, f.name))
            },
        )
        if base
        else Settings()
    )
    warnings: list[str] = []
    if raw is None:
        return settings, warnings
    if not isinstance(raw, dict):
        return settings, [f"nib: settings must be an object, got {type(raw).__name__}; using defaults"]
    for key, value in raw.items():
        if key in REMOVED:
            warnings.append(f"nib: setting {key} is no longer read: set {REMOVED[key]} in your user settings")
        elif key in DEPRECATED and not isinstance(value, dict):
            path = DEPRECATED[key]
            if path not in CONVERTED:  # a converted one warns with its new value
                warnings.append(f"nib: setting {key} is deprecated (until nib 0.3): use {'.'.join(path)}")
            _set(settings, path, value, warnings)
        else:
            _apply(settings, (key,), value, warnings)
    return settings, warnings


def _apply(target, path: tuple[str, ...], value, warnings: list[str]) -> None:
    """Set the setting at path (a group takes an object of its settings) on target, or warn."""
    if path in CONVERTED:
        new, convert = CONVERTED[path]
        if not isinstance(value, bool):
            warnings.append(f"nib: setting {'.'.join(path)} must be true or false, got {value!r}; ignored")
            return
        old, path, value = ".".join(path), new, convert(value)
        warnings.append(f"nib: setting {old} is deprecated (until nib 0.3): use {'.'.join(new)} = {value!r}")
    f = _field(type(target), path[-1])
    if f is None:
        warnings.append(f"nib: unknown setting {'.'.join(path)!r} ignored")
        return
    current = getattr(target, f.name)
    if is_dataclass(current):
        if not isinstance(value, dict):
            warnings.append(f"nib: setting {'.'.join(path)} must be an object, got {value!r}; ignored")
            return
        for key, inner in value.items():
            _apply(current, path + (key,), inner, warnings)
        return
    default = getattr(type(target)(), f.name)
    problem = _check(f, value, default)
    if problem:
        shown = list(default) if isinstance(default, tuple) else default  # as the client wrote it: JSON
        warnings.append(f"nib: setting {'.'.join(path)} {problem}; using the default {shown!r}")
        value = default
    setattr(target, f.name, tuple(value) if isinstance(default, tuple) else value)


def _set(settings: Settings, path: tuple[str, ...], value, warnings: list[str]) -> None:
    _apply(getattr(settings, _field(Settings, path[0]).name), path, value, warnings)


def _field(cls, name: str):
    return next((f for f in fields(cls) if wire(f) == name), None)


def _check(f, value, default) -> str | None:
    kind = type(default)
    if kind is bool:
        if not isinstance(value, bool):
            return f"must be true or false, got {value!r}"
    elif kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            return f"must be an integer, got {value!r}"
        bounds = f.metadata.get("range")
        if bounds is not None and not bounds[0] <= value <= bounds[1]:
            return f"must be between {bounds[0]} and {bounds[1]}, got {value}"
    elif kind is tuple:
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) and v for v in value):
            return f"must be a list of non-empty strings, got {value!r}"
        bad = next(((v, invalid(v)) for v in value if invalid(v)), None)
        if bad:
            return f"has {bad[0]!r}, which is not a glob ({bad[1]})"
    elif kind is str:
        if not isinstance(value, str):
            return f"must be a string, got {value!r}"
        choices = f.metadata.get("choices")
        if choices and value not in choices:
            return f"must be one of {', '.join(choices)}, got {value!r}"
    return None
