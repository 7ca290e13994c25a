"""jedi's last names at a name in each scope of each document: what a list takes while jedi is late.

The names valid at one place of a function are, but for a few locals, those valid at any other
place of it (`text/scopes.py` tells the scopes apart by indentation). The module's level is kept
besides, from the names jedi gave when the document was opened: valid in every scope.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from nib.model.text.scopes import at_module_level, enclosing_scopes

from .jedi import JediAnswer

SCOPES_KEPT = 8  # per document: the scopes whose names jedi gave last (the module's level besides)
MODULE: tuple[str, ...] = ()  # the module's level, as enclosing_scopes says it


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
