"""nib's settings: one nested, typed object; each setting's limits and meaning beside its default.

Clients send them camelCase and nested (`initializationOptions`, or under the key
"nib" in `workspace/didChangeConfiguration`):

    {"list": {"size": 5}, "statement": {"maxTokens": 32}, "jedi": {"enable": true}, "model": {"path": ""}}

`parsing.py` reads that object (warnings for what it cannot use). The editors' mirrors
(VS Code's `contributes.configuration`, Neovim's defaults) are generated from these
classes by `nib settings --write` (`mirrors.py`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, is_dataclass

from nib.model.completion.engine import EngineOptions
from nib.model.completion.request import Options
from nib.model.listing.jedi import BUDGET_MS as JEDI_BUDGET_MS
from nib.model.service.exclude import SECRETS
from nib.model.service.project import ProjectOptions
from nib.model.text.stops import LINES

# The completion options' defaults are the settings' (one source: the model's own code, which
# `nib complete` and the evaluators use without settings).
OPTIONS, ENGINE, PROJECT = Options(), EngineOptions(), ProjectOptions()


def setting(
    default, doc: str, *, lo: int | None = None, hi: int | None = None, choices: tuple = (), machine: bool = False
):
    """A setting's default with its description and, for numbers, its range; for strings, its choices.

    machine: the setting sends code off the machine or chooses what runs (a model's files, an engine's
    URL or key), so it is the user's alone: the editors take it from the user's own settings, never
    from a workspace's (a cloned repository's `.vscode/settings.json` must not set it).
    """
    return field(
        default=default,
        metadata={"doc": doc, "range": (lo, hi) if lo is not None else None, "choices": choices, "machine": machine},
    )


def group(cls, doc: str, wire: str | None = None):
    return field(default_factory=cls, metadata={"doc": doc, "wire": wire})


@dataclass
class ListSettings:
    enable: bool = setting(True, "the model's items in the completion list")
    size: int = setting(
        OPTIONS.list_size, "the model's own lexemes in the list (each one more costs decoding time)", lo=1, hi=50
    )
    budget_ms: int = setting(
        OPTIONS.list_budget_ms,
        "time budget of the list's own lexemes, in ms; then what is found so far",
        lo=10,
        hi=10_000,
    )
    statement: bool = setting(
        OPTIONS.list_statement,
        "the rest of the statement also as one item of the list (when the list and the statement share a model)",
    )
    context_tokens: int = setting(
        OPTIONS.list_context_tokens,
        "prompt budget in tokens of the list's own model (list.model), shorter than the statement's so that "
        "the first list at a new place comes sooner, and never more than a model.contextTokens set; 0: as "
        "model.contextTokens",
        lo=0,
        hi=2048,
    )
    model: str = setting(
        "bundled",
        "the model that ranks the list, as model.path; empty: the statement's model. "
        "The bundled model meets the list's latency budget where gemma3-270m does not; a list you ask for "
        "where nothing is typed (Ctrl+Space) is ranked by the statement's model when that runs here",
        machine=True,
    )


@dataclass
class StatementSettings:
    enable: bool = setting(True, "the rest of the statement as inline ghost text")
    max_tokens: int = setting(OPTIONS.statement_max_tokens, "tokens in a statement", lo=1, hi=256)
    budget_ms: int = setting(
        OPTIONS.statement_budget_ms,
        "time budget of a statement, in ms, from its request to its answer (typed through, the rest comes)",
        lo=10,
        hi=10_000,
    )
    lines: str = setting(
        OPTIONS.statement_lines,
        "where ghost text may span lines: auto (the rest of the statement, continued inside brackets; on an "
        "empty line, a statement that opens a block also with its body), single (one line), multi (a statement "
        "that opens a block, anywhere, with its body)",
        choices=LINES,
    )
    trigger: str = setting(
        "auto",
        "auto: ghost text as you type; manual: only when asked (Neovim: keymaps.trigger, <M-\\>; VS Code: "
        "Alt+\\, editor.action.inlineSuggest.trigger), and nothing is computed for it before",
        choices=("auto", "manual"),
    )
    debounce_ms: int = setting(0, "wait this long for more typing before ghost text is computed, in ms", lo=0, hi=2000)
    min_confidence: int = setting(
        OPTIONS.statement_min_confidence,
        "show of a statement what the model gives at least this probability, in percent: "
        "up to the piece that would take it under, without a name half written (0: every "
        "statement whole; -1: the model's own: 0 for the bundled model, 20 for gemma3-270m)",
        lo=-1,
        hi=100,
    )


@dataclass
class JediSettings:
    enable: bool = setting(True, "jedi's valid names in the list, ranked by the model and the file's identifiers")
    budget_ms: int = setting(
        JEDI_BUDGET_MS,
        "how long a list after `.` or in an import, or one you ask for where nothing is typed (Ctrl+Space), "
        "waits for jedi, in ms; over it, after `.` the list holds only the names the file uses after the same "
        "expression and `.` (often none), at `import t` the modules that exist (the standard library's, those the "
        "file imports from), and the next keystroke has jedi's names (the model "
        "invents nothing; a jedi that failed: the model's guesses)",
        lo=10,
        hi=5000,
    )
    name_budget_ms: int = setting(
        30,
        "how long the list waits for jedi at a name elsewhere as you type, in ms, counted from "
        "when jedi was first asked there (where the name starts, often before it is "
        "typed); a late answer comes with a later keystroke",
        lo=0,
        hi=5000,
    )
    environment: str = setting(
        "",
        "the absolute path of a virtual environment (or its bin/python) whose installed packages jedi "
        "reads, so that the list knows your project's dependencies; read as files, never run; only your "
        "own settings choose it; empty: the packages installed beside nib",
        machine=True,
    )


@dataclass
class ModelSettings:
    path: str = setting(
        "",
        "a model directory, the name of an imported model (`nib model list`), or `bundled`; "
        "empty: $NIB_MODEL if set, else the best imported model whose statement fits the budget on "
        "this machine (`nib model calibrate`; `nib info` says which and why), else the bundled model",
        machine=True,
    )
    device: str = setting(
        "cpu",
        "cpu (ONNX Runtime), or cuda / auto (torch over a checkpoint beside the model)",
        choices=("cpu", "cuda", "auto"),
        machine=True,
    )
    threads: int = setting(0, "inference threads; 0: up to 4", lo=0, hi=64)
    context_tokens: int = setting(
        OPTIONS.context_tokens,
        "prompt budget in tokens; 0: the model's own (448 for the bundled model, trained on 512, and for gemma3-270m)",
        lo=0,
        hi=2048,
    )
    healing: str = setting(
        OPTIONS.healing,
        "off | prefix | exact: heal a cursor that splits a token (exact: Phan et al.)",
        choices=("off", "prefix", "exact"),
    )


@dataclass
class ContextSettings:
    project: bool = setting(
        PROJECT.project,
        "project context in the statement's prompt: the signatures and docstrings of what the file imports "
        "from the workspace's other files (read and parsed, never imported or run; nothing outside the "
        "workspace folders), the lines of a file beside it most like those before the cursor, and, with "
        "context.recent, chunks of the files you opened and edited",
    )
    project_tokens: int = setting(
        PROJECT.project_tokens,
        "the most tokens of project context, before the file's own window (model.contextTokens)",
        lo=0,
        hi=2048,
    )
    recent: bool = setting(PROJECT.recent, "chunks of the files you opened and edited in the project context")
    recent_chunks: int = setting(
        PROJECT.recent_chunks,
        "chunks of 64 lines kept of what you opened and edited (the oldest go first)",
        lo=1,
        hi=256,
    )


@dataclass
class EngineSettings:
    api: str = setting(
        "local",
        "where the statement comes from: local (model.path, in this process) or openai (an "
        "OpenAI-compatible completions server: llama.cpp, vLLM, TGI, Ollama); the list stays local",
        choices=("local", "openai"),
        machine=True,
    )
    url: str = setting("", "the engine's base URL, e.g. http://127.0.0.1:8080/v1", machine=True)
    model: str = setting("", "the model name sent to the engine; empty: the engine's default", machine=True)
    api_key_env: str = setting(
        "",
        "the environment variable of nib's process that holds the engine's API key "
        "(the key itself is never logged or sent anywhere else)",
        machine=True,
    )
    timeout_ms: int = setting(
        ENGINE.timeout_ms,
        "a statement the engine has not finished in this time comes from the local model instead, in ms",
        lo=10,
        hi=60_000,
        machine=True,
    )
    healing: str = setting(
        ENGINE.healing,
        "how the engine is made to start with the word the cursor splits: grammar "
        "(GBNF: llama.cpp), regex (structured outputs: vLLM), off",
        choices=("grammar", "regex", "off"),
        machine=True,
    )
    suffix: bool = setting(
        ENGINE.suffix,
        "send the text after the cursor as `suffix` (fill-in-the-middle; only for an engine and model that take it)",
        machine=True,
    )


@dataclass
class StatsSettings:
    enable: bool = setting(
        True,
        "count, on this machine only, the ghost texts and lists shown and accepted, and how much of what was "
        "accepted is still there a minute later (`nib stats`: counts, never code or names)",
    )


@dataclass
class LogSettings:
    level: str = setting("info", "this session's log level", choices=("debug", "info", "warning", "error"))


@dataclass
class Settings:
    enable: bool = setting(True, "answer completion requests at all")
    max_document_chars: int = setting(2_000_000, "larger documents get no completions", lo=1000, hi=100_000_000)
    exclude: tuple[str, ...] = setting(
        SECRETS,
        "files nib neither completes in nor reads: globs, a pattern without `/` matches the file's name, one with "
        "`/` the end of its path (`**` spans folders; case ignored). The default: files that hold secrets; a list "
        "of yours replaces it (keep its patterns in it). Yours alone: a workspace cannot narrow it",
        machine=True,
    )
    listing: ListSettings = group(ListSettings, "the completion list", wire="list")
    statement: StatementSettings = group(StatementSettings, "the statement: inline ghost text")
    jedi: JediSettings = group(JediSettings, "jedi's names in the list")
    model: ModelSettings = group(ModelSettings, "the model and how it runs")
    context: ContextSettings = group(ContextSettings, "what the prompt shows of the project besides the file")
    engine: EngineSettings = group(EngineSettings, "an inference engine over HTTP for the statement")
    stats: StatsSettings = group(StatsSettings, "acceptance counted on this machine")
    log: LogSettings = group(LogSettings, "logging")

    def options(self) -> Options:
        """What the engine needs of these settings (Options' fields are named group_field)."""
        return Options(
            context_tokens=self.model.context_tokens,
            healing=self.model.healing,
            list_size=self.listing.size,
            list_budget_ms=self.listing.budget_ms,
            list_statement=self.listing.statement,
            list_context_tokens=self.listing.context_tokens,
            statement_max_tokens=self.statement.max_tokens,
            statement_budget_ms=self.statement.budget_ms,
            statement_lines=self.statement.lines,
            statement_min_confidence=self.statement.min_confidence,
            project_tokens=self.context.project_tokens if self.context.project else 0,
        )

    def project(self) -> ProjectOptions:
        c = self.context
        return ProjectOptions(c.project, c.project_tokens, c.recent, c.recent_chunks)

    def engine_options(self) -> EngineOptions:
        e = self.engine
        return EngineOptions(timeout_ms=e.timeout_ms, healing=e.healing, suffix=e.suffix)


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(w.title() for w in rest)


def wire(f) -> str:
    """A field's name on the wire: camelCase, or the group's own (`listing` is "list")."""
    return f.metadata.get("wire") or camel(f.name)


def leaves(cls=Settings, path: tuple[str, ...] = ()):
    """Every setting as (wire path, dataclass field), depth first in declaration order.

    Example: [(path, f.name) for path, f in leaves()][0] == (("enable",), "enable")
    """
    for f in fields(cls):
        if is_dataclass(f.type if isinstance(f.type, type) else f.default_factory):
            yield from leaves(f.default_factory, path + (wire(f),))
        else:
            yield path + (wire(f),), f


def machine_paths() -> list[str]:
    """The dotted wire names of the settings that are the user's alone (`setting(machine=True)`).

    Example: "engine.url" in machine_paths() and "list.size" not in machine_paths()
    """
    return [".".join(path) for path, f in leaves() if f.metadata["machine"]]
