"""completionItem/resolve: the item an editor focuses in its list, with what jedi says of its name.

VS Code resolves the item it focuses, whether its details are open or not, and cancels the request
when the focus moves or a key brings a new list. So nib waits PAUSE_MS first (a key typed meanwhile
costs nothing), then jedi's worker finds the name again where the item starts, in the document
of the last list as it is now, and gives its first signature (the item's detail, `nib · def
area(w, h=2)`) and its docstring (the item's documentation, plain text). Only names jedi listed
(their kinds, `convert.KINDS`) are looked up, where the document gets lists: the model's guesses,
keywords, literals and the statement come back as they were, and so does a name jedi has nothing
on, or not within RESOLVE_MS. The worker takes it as a background call (`JediCompleter.describe`,
which keeps the last answers): it waits behind a list's call waiting for the worker, and a
list's newer call does not drop it (only a newer background call does).
"""

from __future__ import annotations

import asyncio

import attrs
from lsprotocol import types

from nib.model.completion.request import Mode
from nib.model.listing.jedi_answers import Description

from .paths import file_path
from .session import NibServer

K = types.CompletionItemKind
DESCRIBED = (K.Module, K.Class, K.Variable, K.Function, K.Property)
# Two keystrokes at a person's pace (8 a second, 125 ms apart): while the user types, VS Code cancels
# the resolve before it costs jedi's worker anything, and the worker stays free for the next key's list.
PAUSE_MS = 250
RESOLVE_MS = 1000  # jedi's worker may finish a list's call first, and load a module's stubs


async def resolve(ls: NibServer, item: types.CompletionItem) -> types.CompletionItem:
    uri, edit = ls.listed, item.text_edit
    if uri is None or item.kind not in DESCRIBED or not isinstance(edit, types.TextEdit):
        return item
    await asyncio.sleep(PAUSE_MS / 1e3)
    doc = ls.should_complete(uri, Mode.LIST)
    if doc is None or not ls.settings.jedi.enable:
        return item
    start = doc.offset(edit.range.start.line, edit.range.start.character, ls.encoding)
    asked = asyncio.wrap_future(ls.service.ranker.describe(doc.text, start, item.label, file_path(uri)))
    try:
        await asyncio.wait([asked], timeout=RESOLVE_MS / 1e3)
    finally:
        if not asked.done():
            asked.cancel()
    error = None if asked.cancelled() else asked.exception()
    found = None if asked.cancelled() or error is not None else asked.result()
    if not isinstance(found, Description) or not (found.signature or found.doc):
        why = "jedi failed" if error else "jedi's worker busy or late" if found is None else "jedi has none"
        if found is None:  # rare (VS Code cancels a resolve while one types): said, without the name
            ls.log.info("an item's details: none, %s", why)
        ls.log.debug("no details of %r: %s", item.label, error or why)  # jedi's error may quote a line
        return item
    keyword = {K.Class: "class ", K.Function: "def "}.get(K(item.kind), "")  # as Python writes the signature
    return attrs.evolve(
        item,
        detail=f"nib · {keyword}{found.signature}" if found.signature else item.detail,
        documentation=types.MarkupContent(types.MarkupKind.PlainText, found.doc) if found.doc else item.documentation,
    )
