"""jedi's last names at a name in each scope of each document: what a list takes while jedi is late.

The names valid at one place of a function are, but for a few locals, those valid at any other
place of it (`text/scopes.py` tells the scopes apart by indentation). The module's level is kept
besides, from the names jedi gave when the document was opened: valid in every scope. Before that
(a file just opened, jedi still parsing it), `read_names` reads them from the text.
"""

from __future__ import annotations

import builtins
import keyword
import threading
import types
from collections import OrderedDict

from nib.model.text.imported_modules import importable, module_start
from nib.model.text.lexeme import typed_name
from nib.model.text.local_kinds import local_kinds
from nib.model.text.module_names import module_names
from nib.model.text.scopes import at_module_level, enclosing_scopes

from .jedi_answers import JediAnswer, JediName

SCOPES_KEPT = 8  # per document: the scopes whose names jedi gave last (the module's level besides)
MODULE: tuple[str, ...] = ()  # the module's level, as enclosing_scopes says it
# jedi's kinds of the builtins (the server's own Python's: those of the project's differ by a few);
# what the site module adds (`copyright`, `exit`) jedi calls a variable, `True` a keyword
BUILTIN_KINDS = {
    name: "keyword"
    if keyword.iskeyword(name)
    else "class"
    if isinstance(value, type)
    else "function"
    if isinstance(value, types.BuiltinFunctionType)
    else "instance"
    if name in ("__name__", "__doc__", "__package__")
    else "statement"
    for name, value in vars(builtins).items()
    if name not in ("__spec__", "__loader__", "__debug__")  # not jedi's
}


def read_names(text: str, cursor: int, kept: JediAnswer | None = None) -> JediAnswer:
    """What jedi would answer at a name at cursor, read from the text: the builtins, the module's
    imports, functions and classes (`text/module_names.py`), the function's and the module's
    variables (`text/local_kinds.py`), in jedi's order: those that begin with the typed characters
    as typed first, then alphabetical, `__` and `_` last. kept: jedi's own names kept for the scope
    (`ScopeNames.at`), which the text's complete (the locals assigned since), with jedi's kinds.

    Example: [n.name for n in read_names("import os\\ndef f(a):\\n    ", 23).names if n.name[0].islower()][:3] == ["a", "abs", "aiter"]
    """
    kinds = (BUILTIN_KINDS if kept is None else {}) | module_names(text, cursor) | local_kinds(text, cursor)
    kinds |= {n.name: n.kind for n in kept.names} if kept is not None else {}
    typed = typed_name(text[text.rfind("\n", 0, cursor) + 1 : cursor])
    order = sorted(kinds, key=lambda n: (not n.startswith(typed), n.startswith("__"), n.startswith("_"), n.lower()))
    return JediAnswer([JediName(name, kinds[name], kinds[name]) for name in order], "name")  # detail: as jedi's


def read_modules(text: str, cursor: int) -> JediAnswer | None:
    """What jedi would answer at `import t` or `from t`, read from the text: the modules that extend
    what is typed (`text/imported_modules.py`); None elsewhere, and where nothing is typed.

    Example: [n.name for n in read_modules("import jso", 10).names] == ["json"]
    """
    line = text[text.rfind("\n", 0, cursor) + 1 : cursor]
    typed = typed_name(line)
    if not typed or not module_start(line):
        return None
    return JediAnswer([JediName(m, "module", f"module {m}") for m in importable(text, cursor, typed)], "import")


class ScopeNames:
    """Used at once by the inference thread, jedi's reader and the event loop: one lock."""

    def __init__(self) -> None:
        self._scopes: dict[str, OrderedDict[tuple[str, ...], JediAnswer]] = {}  # by document, then scope
        self._lock = threading.Lock()

    def opened(self, key: str) -> None:
        """A document opened: answers for it are kept from now on (`remember`'s opened)."""
        with self._lock:
            self._scopes.setdefault(key, OrderedDict())

    def at(self, key: str, text: str, cursor: int) -> JediAnswer | None:
        """jedi's last answer at a name in the cursor's scope in this document, else at the
        module's level; None when there is neither."""
        scope = enclosing_scopes(text, cursor)
        with self._lock:
            scopes = self._scopes.get(key)
            return None if scopes is None else scopes.get(scope) or scopes.get(MODULE)

    def answered_in(self, key: str, text: str, cursor: int) -> bool:
        """Whether jedi has answered at a name in the cursor's own scope in this document. At the
        module's level, the answer kept when the document was opened counts; in a function, only the
        module's is not enough (its locals are missing)."""
        scope = enclosing_scopes(text, cursor)
        with self._lock:
            return scope in self._scopes.get(key, {})

    def kept(self) -> int:
        """How many answers are kept, over every document."""
        with self._lock:
            return sum(len(scopes) for scopes in self._scopes.values())

    def remember(self, key: str, text: str, cursor: int, answer: JediAnswer, opened: bool = True) -> None:
        """jedi's answer at a name, kept for its scope. opened False: only for a document still open."""
        if answer.position != "name" or not answer.names:
            return  # after `.`, in an import, in a call's arguments: names of that place only
        scope = enclosing_scopes(text, cursor)
        if scope == MODULE and not at_module_level(text, cursor):
            return  # indented under a line that opens nothing (a string's last line, say): unsure
        with self._lock:
            scopes = self._scopes.setdefault(key, OrderedDict()) if opened else self._scopes.get(key)
            if scopes is None:
                return
            scopes[scope] = answer
            scopes.move_to_end(scope)
            while len(scopes) > SCOPES_KEPT + (MODULE in scopes):
                del scopes[next(s for s in scopes if s != MODULE)]  # the module's names stay: valid everywhere

    def forget(self, key: str | None = None) -> None:
        """key's answers dropped (None: every document's)."""
        with self._lock:
            if key is None:
                self._scopes = {}
            else:
                self._scopes.pop(key, None)
