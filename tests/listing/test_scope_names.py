"""The names jedi would give at a name, read from the text while it is late (`read_names`)."""

from nib.model.listing.jedi_answers import JediAnswer, JediName
from nib.model.listing.scope_names import BUILTIN_KINDS, read_names

TEXT = """import os
from typing import Any


def checkout(cart, *, tax=0.2):
    total = 0
    for item in cart:
        total += item
    return t"""


def test_with_nothing_kept_the_builtins_the_modules_names_and_the_functions_in_jedis_order():
    answer = read_names(TEXT, len(TEXT))
    names = {n.name: n.kind for n in answer.names}
    own = {"os": "module", "Any": "class", "checkout": "function", "cart": "param", "tax": "param"}
    assert names == BUILTIN_KINDS | own | {"total": "statement", "item": "statement"}
    assert answer.position == "name"
    # the typed `t` first as typed, then alphabetical, `__` and `_` last (jedi's sort)
    order = [n.name for n in answer.names]
    assert order[:5] == ["tax", "total", "tuple", "type", "abs"] and order[-1].startswith("__")
    assert order.index("TabError") > order.index("type")  # not `t` as typed: with the rest
    assert {name: BUILTIN_KINDS.get(name) for name in ("copyright", "str", "len", "True", "__spec__")} == {
        "copyright": "statement",  # the site module's: jedi calls them variables
        "str": "class",
        "len": "function",
        "True": "keyword",
        "__spec__": None,  # not offered by jedi
    }
    assert {n.name: n.detail for n in answer.names if n.name in ("os", "cart")} == {"os": "module", "cart": "param"}


def test_jedis_names_kept_for_the_scope_are_completed_by_the_texts_and_keep_their_kinds():
    kept = JediAnswer([JediName("total", "instance", ""), JediName("print", "function", "")], "name")
    answer = read_names(TEXT, len(TEXT), kept)
    names = {n.name: n.kind for n in answer.names}
    assert names == {
        "total": "instance",  # jedi's kind, not the text's
        "print": "function",
        "os": "module",
        "Any": "class",
        "checkout": "function",
        "cart": "param",
        "tax": "param",
        "item": "statement",
    }  # no builtins but jedi's: its kept answer has them
    assert [n.name for n in answer.names] == ["tax", "total", "Any", "cart", "checkout", "item", "os", "print"]
