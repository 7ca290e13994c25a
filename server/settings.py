"""nib's settings: one typed object with documented defaults.

Clients send them camelCase (`initializationOptions` or, under the key "nib",
`workspace/didChangeConfiguration`). An unknown key or a value of the wrong
type is reported as a warning and replaced by its default; it never fails a
request. The VS Code `contributes.configuration` and the Neovim `setup()` table
mirror these fields one to one.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, fields

from nib.model.engine import Options


@dataclass
class Settings:
    enable: bool = True  # answer completion requests at all
    list: bool = True  # offer model items in the completion list
    statement: bool = True  # offer the rest of the statement as inline ghost text
    statement_in_list: bool = True  # also offer the statement as one item of the list
    static: bool = True  # jedi's valid names in the list, ranked by the model and the identifier cache
    static_ms: int = 200  # jedi's time budget per list; over it, the model's own items alone
    healing: str = "exact"  # off | prefix | exact: heal a cursor that splits a token (exact: Phan et al.)
    max_tokens: int = 32  # tokens in a statement completion
    statement_ms: int = 250  # time budget of a statement completion, in ms
    list_ms: int = 300  # time budget of the list's model items, in ms (then what is found so far)
    list_size: int = 5  # model items in the completion list (each more costs beam steps)
    context_tokens: int = 448  # prompt budget in tokens (the bundled model was trained on 512)
    block_body: bool = False  # a statement that opens a block may continue into its body
    debounce_ms: int = 0  # wait this long for more typing before inline completion runs
    model_path: str = ""  # a model directory; empty: the bundled model
    device: str = "cpu"  # cpu (ONNX Runtime) | cuda | auto (torch; needs a checkpoint)
    threads: int = 0  # inference threads; 0: up to 4
    log_level: str = "info"  # debug | info | warning | error
    max_document_chars: int = 2_000_000  # larger documents get no completions

    def options(self) -> Options:
        return Options(
            context_tokens=self.context_tokens, list_size=self.list_size, statement_tokens=self.max_tokens,
            statement_ms=self.statement_ms, list_ms=self.list_ms, healing=self.healing, block_body=self.block_body,
            statement_in_list=self.statement_in_list,
        )


CHOICES = {
    "healing": ("off", "prefix", "exact"),
    "device": ("cpu", "cuda", "auto"),
    "log_level": ("debug", "info", "warning", "error"),
}
LIMITS = {"max_tokens": (1, 256), "statement_ms": (10, 10_000), "list_ms": (10, 10_000), "list_size": (1, 50),
          "context_tokens": (16, 2048), "debounce_ms": (0, 2000), "static_ms": (10, 5000), "threads": (0, 64),
          "max_document_chars": (1000, 100_000_000)}


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(w.title() for w in rest)


_BY_WIRE = {camel(f.name): f for f in fields(Settings)}


def parse(raw, base: Settings | None = None) -> tuple[Settings, list[str]]:
    """Settings from a client's dict, and a warning for each key that was not usable.

    Example: parse({"maxTokens": "x"}) -> (Settings(), ["nib: setting maxTokens ..."])
    """
    settings = dataclasses.replace(base) if base else Settings()
    warnings: list[str] = []
    if raw is None:
        return settings, warnings
    if not isinstance(raw, dict):
        return settings, [f"nib: settings must be an object, got {type(raw).__name__}; using defaults"]
    for key, value in raw.items():
        f = _BY_WIRE.get(key) or next((g for g in fields(Settings) if g.name == key), None)
        if f is None:
            warnings.append(f"nib: unknown setting {key!r} ignored")
            continue
        default = getattr(Settings(), f.name)
        problem = _check(f.name, value, default)
        if problem:
            warnings.append(f"nib: setting {camel(f.name)} {problem}; using the default {default!r}")
            value = default
        setattr(settings, f.name, value)
    return settings, warnings


def _check(name: str, value, default) -> str | None:
    kind = type(default)
    if kind is bool:
        if not isinstance(value, bool):
            return f"must be true or false, got {value!r}"
    elif kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            return f"must be an integer, got {value!r}"
        lo, hi = LIMITS.get(name, (None, None))
        if lo is not None and not lo <= value <= hi:
            return f"must be between {lo} and {hi}, got {value}"
    elif kind is str:
        if not isinstance(value, str):
            return f"must be a string, got {value!r}"
        if name in CHOICES and value not in CHOICES[name]:
            return f"must be one of {', '.join(CHOICES[name])}, got {value!r}"
    return None
