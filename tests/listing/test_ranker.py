"""The list while a name grows: narrowed from the last one, recomputed only where that could lose something."""

import sys
import time
from concurrent.futures import Future

from nib.model.completion.local import LocalCompleter
from nib.model.completion.request import Mode, Options, Request
from nib.model.completion.result import Candidate, Result, Timings
from nib.model.listing.candidates import STUCK_MS
from nib.model.listing.identifiers import IdentifierNgram
from nib.model.listing.jedi import JediCompleter
from nib.model.listing.jedi_answers import JediAnswer, JediName
from nib.model.listing.ranker import ListRanker
from nib.model.listing.scope_names import SCOPES_KEPT


class CountingEngine:
    """An engine whose list is fixed; it counts how often it is asked."""

    def __init__(self, candidates):
        self.candidates, self.calls = candidates, 0

    def list(self, request, names=None, names_only=False):
        self.calls += 1
        return Result([c for c in self.candidates if c.extends(request.text, request.cursor)], Timings())

    def last_statement(self, text, cursor, options):
        return None


def ranker() -> ListRanker:
    return ListRanker(jedi=JediCompleter(), identifiers=IdentifierNgram())  # never started: use_jedi=False


def test_a_growing_name_narrows_the_last_list_and_a_new_edit_recomputes():
    engine = CountingEngine(
        [
            Candidate("append", 3, -1.0, "token", "append"),
            Candidate("apply", 3, -2.0, "token", "apply"),
            Candidate("extend", 3, -0.5, "token", "extend"),
        ]
    )
    r = ranker()
    first = r.complete(engine, "xs.", 3, key="a", use_jedi=False)
    assert [c.label for c in first.candidates] == ["extend", "append", "apply"] and not first.narrowed
    second = r.complete(engine, "xs.ap", 5, key="a", use_jedi=False)
    assert (engine.calls, second.narrowed, second.position) == (1, True, ("attribute", True))
    assert [(c.label, c.start, c.text) for c in second.candidates] == [("append", 3, "append"), ("apply", 3, "apply")]
    assert r.complete(engine, "xs.app", 6, key="a", use_jedi=False).narrowed  # and again
    assert engine.calls == 1
    # nothing known extends `apx`: the model may have a new name for it, so it is asked
    assert not r.complete(engine, "xs.apx", 6, key="a", use_jedi=False).narrowed and engine.calls == 2
    # another document, a cursor that moved back, a changed text before the name: computed afresh
    r.complete(engine, "xs.", 3, key="a", use_jedi=False)
    assert not r.complete(engine, "xs.ap", 5, key="b", use_jedi=False).narrowed
    assert not r.complete(engine, "ys.ap", 5, key="a", use_jedi=False).narrowed
    assert not r.complete(engine, "xs.", 3, key="a", use_jedi=False).narrowed
    assert engine.calls == 6
    # the same request again (after a speculative list, say) is the same answer, not recomputed
    again = r.complete(engine, "xs.", 3, key="a", use_jedi=False)
    assert again.narrowed and [c.label for c in again.candidates] == ["extend", "append", "apply"]
    assert engine.calls == 6


def test_the_name_typed_whole_stays_in_the_narrowed_list():
    # Enter takes the list's first item: were `t` dropped once typed whole, Enter would write `type` for it
    engine = CountingEngine([Candidate("t", 0, -1.0, "name", "t"), Candidate("type", 0, -0.5, "name", "type")])
    r = ranker()
    r.complete(engine, "", 0, key="a", use_jedi=False)
    whole = r.complete(engine, "t", 1, key="a", use_jedi=False)
    assert whole.narrowed and sorted(c.label for c in whole.candidates) == ["t", "type"]
    assert [c.label for c in r.complete(engine, "ty", 2, key="a", use_jedi=False).candidates] == ["type"]
    assert engine.calls == 1
    # only the name typed whole left: nothing known extends it, so the model is asked for a new name
    assert not r.complete(engine, "type", 4, key="a", use_jedi=False).narrowed and engine.calls == 2


class FittingEngine(CountingEngine):
    """An engine whose fixed list holds each candidate that begins with what is typed, as jedi's names do."""

    def list(self, request, names=None, names_only=False):
        self.calls += 1
        return Result([c for c in self.candidates if c.fits(request.text, request.cursor)], Timings())


def test_the_name_typed_whole_is_offered_beside_names_that_go_on_and_never_alone():
    name, guess = Candidate("t", 0, -0.5, "name", "t"), Candidate("te", 0, -0.5, "token", "te")
    longer = [Candidate("type", 0, -1.0, "name", "type"), Candidate("tell", 0, -1.0, "token", "tell")]
    r = ranker()

    def labels(text, key, *candidates):
        listing = r.complete(FittingEngine(list(candidates)), text, len(text), key=key, use_jedi=False)
        return sorted(c.label for c in listing.candidates)

    assert labels("t", "a", name, *longer) == ["t", "tell", "type"]
    assert labels("t", "b", name) == []  # alone it would only take the editor's Enter from its new line
    assert labels("te", "c", guess, *longer) == ["tell"]  # the model's own guess typed whole: not offered


class FixedJedi(JediCompleter):
    """jedi whose every call is answered by the given future (answered, or never)."""

    def __init__(self, future):
        super().__init__(budget_ms=100)
        self.future = future

    def ask(self, text, cursor, path=None, at_name_start=True, background=False, environment=""):
        self.future.asked_at = time.monotonic()
        return self.future


def answered(*names, position="attribute") -> Future:
    future: Future = Future()
    future.set_result(JediAnswer([JediName(n, "function", "function") for n in names], position))
    return future


TEXT = "import os\nos.pa"


def test_a_list_asked_where_a_name_starts_at_the_documents_end_has_the_functions_locals_as_it_narrows():
    """`x = ` where the document ends (a list speculated there, before the name's first key): jedi
    answers in the function, so the first character's list, narrowed from that one, has the local
    `total` as jedi's name."""
    r = ListRanker(jedi=JediCompleter(budget_ms=30_000), identifiers=IdentifierNgram())
    engine, options = LocalCompleter.load(), Options(list_statement=False)
    text = "import os\n\n\ndef report(orders):\n    total = len(orders)\n    x = "
    try:
        r.complete(engine, text, len(text), options, key="a", name_jedi_ms=30_000)
        listing = r.complete(engine, text + "t", len(text) + 1, options, key="a", name_jedi_ms=30_000)
    finally:
        r.jedi.close()
    assert listing.narrowed and [(c.label, c.kind) for c in listing.candidates if c.label == "total"] == [
        ("total", "name")
    ]


def test_after_a_dot_jedis_names_are_the_whole_list_ranked_by_the_model():
    r = ListRanker(jedi=FixedJedi(answered("path", "pardir", "walk")), identifiers=IdentifierNgram())
    listing = r.complete(LocalCompleter.load(), TEXT, len(TEXT), Options(list_statement=False), key="a")
    assert sorted((c.kind, c.label, c.start) for c in listing.candidates) == [
        ("name", "pardir", 13),
        ("name", "path", 13),
    ]
    assert listing.complete and listing.timings.decode_list_ms == 0 and listing.timings.score_names_ms > 0


def test_after_a_dot_jedi_late_past_its_budget_gives_nothing_invented_and_keeps_jedis_call():
    never: Future = Future()
    r = ListRanker(jedi=FixedJedi(never), identifiers=IdentifierNgram())
    started = time.monotonic()
    listing = r.complete(LocalCompleter.load(), TEXT, len(TEXT), Options(), key="a", jedi_ms=100)
    assert listing.candidates == [] and listing.jedi is None and not listing.complete
    assert listing.timings.jedi_wait_ms > 0 and time.monotonic() - started >= 0.1
    assert not never.cancelled()  # a late answer is kept for the next keystroke at the same name


def test_after_a_dot_jedi_late_gives_the_names_the_file_uses_after_the_same_name_and_asks_again():
    """`os.` elsewhere in the file is followed by `path` and `walk`, `sys.` by `path` and `argv`:
    at `os.pa` with jedi late the list is `path` alone, incomplete (the next key asks jedi again)."""
    never: Future = Future()
    r = ListRanker(jedi=FixedJedi(never), identifiers=IdentifierNgram())
    text = "import os, sys\nos.walk(os.path.curdir)\nsys.path, sys.argv\nos.pa"
    listing = r.complete(LocalCompleter.load(), text, len(text), Options(list_statement=False), key="a", jedi_ms=100)
    assert [(c.label, c.kind, c.start) for c in listing.candidates] == [("path", "name", len(text) - 2)]
    assert (listing.jedi, listing.complete) == (None, False)
    # with the statement item wanted: the ghost text's if one was answered here, none decoded for it
    with_statement = r.complete(LocalCompleter.load(), text, len(text), Options(), key="b", jedi_ms=0)
    assert [(c.label, c.kind) for c in with_statement.candidates] == [("path", "name")]
    again = r.complete(
        LocalCompleter.load(), text + "t", len(text) + 1, Options(list_statement=False), key="a", jedi_ms=0
    )
    assert ([c.label for c in again.candidates], again.narrowed) == (["path"], False)


def test_in_an_import_jedi_late_gives_the_modules_that_exist_and_asks_again():
    """`import t` in a file just opened: the packages the file imports from, and the standard
    library's modules, that extend `t`; incomplete. After ` import `, a module's names: none."""
    never: Future = Future()
    r = ListRanker(jedi=FixedJedi(never), identifiers=IdentifierNgram())
    text = "import torch\nimport t"
    listing = r.complete(LocalCompleter.load(), text, len(text), Options(list_statement=False), key="a", jedi_ms=0)
    stdlib = ["tabnanny", "tarfile", "telnetlib", "tempfile", "termios", "textwrap", "this", "threading", "time"]
    stdlib += ["timeit", "tkinter", "token", "tokenize", "tomllib", "trace", "traceback", "tracemalloc", "tty"]
    stdlib += ["turtle", "turtledemo", "types", "typing"]
    expected = {m for m in stdlib if m in sys.stdlib_module_names} | {"torch"}
    assert {c.label for c in listing.candidates} == expected and {c.kind for c in listing.candidates} == {"name"}
    assert {(n.name, n.kind, n.detail) for n in listing.jedi.names} == {(m, "module", f"module {m}") for m in expected}
    assert (listing.stale, listing.complete) == (True, False)
    text = "from os import t"
    listing = r.complete(LocalCompleter.load(), text, len(text), Options(list_statement=False), key="b", jedi_ms=0)
    assert listing.candidates == []


def test_in_an_import_with_jedi_failed_or_off_the_modules_join_the_models_guesses_with_their_kind():
    failed: Future = Future()
    failed.set_exception(RuntimeError("jedi's worker process ended"))
    for jedi, use_jedi in ((FixedJedi(failed), True), (JediCompleter(), False)):
        r = ListRanker(jedi=jedi, identifiers=IdentifierNgram())
        text = "import jso"
        o = Options(list_statement=False)
        listing = r.complete(LocalCompleter.load(), text, len(text), o, key="a", use_jedi=use_jedi, jedi_ms=0)
        assert [(c.label, c.kind) for c in listing.candidates if c.kind == "name"] == [("json", "name")]
        assert [(n.name, n.kind) for n in listing.jedi.names] == [("json", "module")]
        assert (listing.stale, listing.complete) == (True, False)


def test_after_a_dot_where_jedi_knows_nothing_of_the_object_the_names_the_file_uses_after_it_join_the_guesses():
    r = ListRanker(jedi=FixedJedi(answered()), identifiers=IdentifierNgram())  # jedi: no names here
    text = "config = load()\nprint(config.verbose)\nconfig.ve"
    listing = r.complete(LocalCompleter.load(), text, len(text), Options(list_statement=False), key="a")
    assert (listing.candidates[0].label, listing.candidates[0].kind) == ("verbose", "name")
    assert {c.kind for c in listing.candidates} == {"name", "token"} and not listing.complete


def test_after_a_dot_jedi_failed_gives_the_models_own_guesses():
    failed: Future = Future()
    failed.set_exception(RuntimeError("jedi's worker process ended"))
    r = ListRanker(jedi=FixedJedi(failed), identifiers=IdentifierNgram())
    listing = r.complete(LocalCompleter.load(), TEXT, len(TEXT), Options(list_statement=False), key="a", jedi_ms=100)
    assert {c.kind for c in listing.candidates} == {"token"} and listing.jedi is None


def test_at_a_name_jedi_late_with_nothing_kept_takes_the_names_jedi_would_give_read_from_the_text():
    """A file just opened, jedi still parsing it: the builtins, the module's imports and the function's
    own names that extend what is typed, not another function's (`order`, `other`), which the file's
    counts would rank first. Stale: the next key asks jedi again."""
    r = ListRanker(jedi=FixedJedi(Future()), identifiers=IdentifierNgram())
    text = "import os\n\n\ndef show(order):\n    other = order\n\n\ndef run(options):\n    opened = 2\n    x = o"
    listing = r.complete(LocalCompleter.load(), text, len(text), Options(list_statement=False), key="a", name_jedi_ms=0)
    assert {c.kind for c in listing.candidates} == {"token", "name"} and listing.stale
    names = sorted(c.label for c in listing.candidates if c.kind == "name")
    assert names == ["object", "oct", "open", "opened", "options", "ord", "os"]
    kinds = {n.name: n.kind for n in listing.jedi.names if n.name in names}
    assert kinds == {"object": "class", "oct": "function", "open": "function", "opened": "statement"} | {
        "options": "param",
        "ord": "function",
        "os": "module",
    }


def test_where_a_new_name_may_be_bound_the_files_names_join_those_read_from_the_text():
    """At a statement's start the name may be a new variable, often one the file binds elsewhere
    (`progress`, another function's): the file's names that extend what is typed join there."""
    r = ListRanker(jedi=FixedJedi(Future()), identifiers=IdentifierNgram())
    text = "def show(order):\n    progress = order\n\n\ndef run(options):\n    p"
    listing = r.complete(LocalCompleter.load(), text, len(text), Options(list_statement=False), key="a", name_jedi_ms=0)
    assert sorted(c.label for c in listing.candidates if c.kind == "name") == ["pow", "print", "progress", "property"]


def test_at_a_name_a_jedi_answer_without_names_is_taken_as_late():
    """jedi's parser loses its way in some files (nothing at `return HTML(f` in one): its empty answer
    at a name is no answer, and the names read from the text stand in, asked again on the next key."""
    r = ListRanker(jedi=FixedJedi(answered(position="name")), identifiers=IdentifierNgram())
    text = "def show(html_text):\n    return HTML(h"
    listing = r.complete(LocalCompleter.load(), text, len(text), Options(list_statement=False), key="a", name_jedi_ms=0)
    assert listing.stale and [c.label for c in listing.candidates if c.kind == "name"][:1] == ["html_text"]
    assert sorted(c.label for c in listing.candidates if c.kind == "name") == [
        "hasattr",
        "hash",
        "help",
        "hex",
        "html_text",
    ]


def test_where_jedi_offers_no_names_on_purpose_its_empty_answer_stands():
    """A def's name, a def's or lambda's parameter, a name after `as`: jedi answers with no names
    there, on purpose, and the list is the model's own, not stale (it narrows as the name grows)."""
    engine, options = LocalCompleter.load(), Options(list_statement=False)
    for text in ("import os\nVALUE = 1\ndef f(a, b", "def fo", "with open(p) as f"):
        r = ListRanker(jedi=FixedJedi(answered(position="name")), identifiers=IdentifierNgram())
        listing = r.complete(engine, text, len(text), options, key="a", name_jedi_ms=0)
        assert not listing.stale and listing.jedi.names == [], text
        assert {c.kind for c in listing.candidates} <= {"token"}, text


def test_jedi_late_at_a_name_the_files_locals_join_beyond_the_models_window():
    """A local defined above the list's prompt window (jedi late: nothing of the scope known) is
    still offered, scored by the model: the file's own names that extend what is typed."""
    filler = "".join(f"value_{i} = value_{i - 1} + {i}\n" for i in range(1, 200))
    text = f"tool_name = 'grep'\ntools = []\n{filler}print(too"
    r = ListRanker(jedi=FixedJedi(Future()), identifiers=IdentifierNgram())
    options = Options(list_statement=False, context_tokens=64)  # the window: the last lines only
    listing = r.complete(LocalCompleter.load(), text, len(text), options, key="a", name_jedi_ms=0)
    assert sorted(c.label for c in listing.candidates if c.kind == "name") == ["tool_name", "tools"]


def test_jedi_late_at_a_name_takes_the_names_it_gave_last_in_the_same_function():
    """Late at a new place, the list ranks the names jedi gave at another place of the function
    (stale: the next keystroke computes again, with jedi's own answer)."""
    jedi = FixedJedi(answered("total_price", "tax_rate", "print", position="name"))
    r = ListRanker(jedi=jedi, identifiers=IdentifierNgram())
    engine, options = LocalCompleter.load(), Options(list_statement=False)
    here = "def checkout(cart):\n    x = t"
    assert not r.complete(engine, here, len(here), options, key="a", name_jedi_ms=0).stale
    jedi.future = Future()  # late from now on
    there = here + "\n    y = t"
    listing = r.complete(engine, there, len(there), options, key="a", name_jedi_ms=0)
    # completed from the text (the function, its parameter, the local assigned since), in jedi's order
    names = [n.name for n in listing.jedi.names]
    assert listing.stale and names == ["tax_rate", "total_price", "cart", "checkout", "print", "x"]
    # not the file's `t` of the line above: a name read here, not bound, is one in scope
    assert sorted(c.label for c in listing.candidates if c.kind == "name") == ["tax_rate", "total_price"]
    jedi.future = answered("total", "tax_rate", position="name")  # jedi has answered there now
    again = there + "o"
    listing = r.complete(engine, again, len(again), options, key="a", name_jedi_ms=0)
    assert not listing.stale and not listing.narrowed
    assert sorted(c.label for c in listing.candidates if c.kind == "name") == ["total"]


def test_jedi_late_at_a_name_the_stale_list_narrows_while_jedi_works_and_takes_its_answer_once_in():
    """Typing on into a name while jedi's call for it works: a new list would be as stale as the last,
    so the last is narrowed (no model), still stale (incomplete); once jedi has answered, the next key
    scores jedi's names into the list where it was computed (at `t`, not where it was narrowed to:
    the prompt backs off to another place as the name grows), no decode: the list that would have
    been made at `t` with jedi's answer in time, narrowed."""
    pending: Future = Future()
    r = ListRanker(jedi=FixedJedi(pending), identifiers=IdentifierNgram())
    engine, options = LocalCompleter.load(), Options(list_statement=False)
    decodes = []
    engine.list = lambda request, *a, **k: (
        decodes.append(request.cursor) or LocalCompleter.list(engine, request, *a, **k)
    )
    start = "def checkout(cart, total_price):\n    x = t"
    first = r.complete(engine, start, len(start), options, key="a", name_jedi_ms=0, jedi=pending)
    assert first.stale and not first.narrowed
    assert sorted(c.label for c in first.candidates if c.kind == "name") == ["total_price", "tuple", "type"]
    text = start
    for typed in "otal_":  # past the token `total`: the prompt at `total_` backs off elsewhere than at `t`
        text += typed
        grown = r.complete(engine, text, len(text), options, key="a", name_jedi_ms=0, jedi=pending)
        assert (grown.stale, grown.narrowed, grown.complete) == (True, True, False)
    assert [c.label for c in grown.candidates if c.kind == "name"] == ["total_price"]
    names = [JediName("total_price", "param", "param"), JediName("total_paid", "statement", "statement")]
    pending.set_result(JediAnswer(names, "name"))  # jedi answers now: one name the stale list lacked
    text += "p"
    again = r.complete(engine, text, len(text), options, key="a", name_jedi_ms=0, jedi=pending)
    assert (again.stale, again.narrowed, decodes) == (False, False, [len(start)])  # scored into, not decoded
    assert [(n.name, n.kind) for n in again.jedi.names] == [("total_price", "param"), ("total_paid", "statement")]
    # the same as a list made at `t` with jedi's answer in time, then narrowed to `total_p`
    in_time = ListRanker(jedi=FixedJedi(pending), identifiers=IdentifierNgram())
    in_time.complete(engine, start, len(start), options, key="a", name_jedi_ms=0, jedi=pending)
    made = in_time.complete(engine, text, len(text), options, key="a", name_jedi_ms=0, jedi=pending)
    assert made.narrowed and not made.stale
    assert [(c.label, c.kind, round(c.score, 6)) for c in again.candidates] == [
        (c.label, c.kind, round(c.score, 6)) for c in made.candidates
    ]
    assert {"total_price", "total_paid"} <= {c.label for c in again.candidates}


def test_asked_again_where_the_stale_list_was_narrowed_to_jedis_answer_in_is_narrowed_there_too():
    """A list narrowed from `t` to `to` while jedi worked, asked again at `to` once jedi has answered:
    jedi's names are scored in where the list was computed (at `t`), and the list is the one for `to`."""
    pending: Future = Future()
    r = ListRanker(jedi=FixedJedi(pending), identifiers=IdentifierNgram())
    engine, options = LocalCompleter.load(), Options(list_statement=False)
    text = "def checkout(cart, total_price):\n    x = t"
    assert r.complete(engine, text, len(text), options, key="a", name_jedi_ms=0, jedi=pending).stale
    text += "o"
    assert r.complete(engine, text, len(text), options, key="a", name_jedi_ms=0, jedi=pending).narrowed
    pending.set_result(JediAnswer([JediName("total_price", "param", "param"), JediName("tuple", "class", "")], "name"))
    again = r.complete(engine, text, len(text), options, key="a", name_jedi_ms=0, jedi=pending)
    assert not again.stale and [c.label for c in again.candidates if c.kind == "name"] == ["total_price"]
    assert all(c.text.startswith("to") for c in again.candidates)


def test_jedi_late_where_a_new_name_may_be_bound_the_files_names_the_stale_list_lacks_are_scored_into_it():
    """At a statement's start a new list adds the file's 20 most counted names that extend what is
    typed: `tally` (another function's, used once) is not among those for `t` (the `t0`... used
    twice), so for `ta` it is scored into the list for `t` (`table`), where that was made: no decode."""
    pending: Future = Future()
    r = ListRanker(jedi=FixedJedi(pending), identifiers=IdentifierNgram())
    engine, options = LocalCompleter.load(), Options(list_statement=False)
    decodes = []
    engine.list = lambda request, *a, **k: (
        decodes.append(request.cursor) or LocalCompleter.list(engine, request, *a, **k)
    )
    text = (
        "def g():\n"
        + "".join(f"    t{i} = t{i}\n" for i in range(25))
        + "    tally = 1\n\n\ndef f():\n    table = {}\n    t"
    )
    first = r.complete(engine, text, len(text), options, key="a", name_jedi_ms=0, jedi=pending)
    assert first.stale and "tally" not in {c.label for c in first.candidates}
    text += "a"
    grown = r.complete(engine, text, len(text), options, key="a", name_jedi_ms=0, jedi=pending)
    assert (grown.stale, grown.narrowed, len(decodes)) == (True, False, 1)  # scored into, not decoded
    assert sorted(c.label for c in grown.candidates if c.kind == "name") == ["table", "tally"]
    # scored where the list for `t` was made: as a list for `t` that had it from the start
    scored = engine.score_names(Request(text[:-1], len(text) - 1, Mode.LIST, options, doc="a"), ["tally"])
    assert [c.score for c in grown.unmixed if c.label == "tally"] == [c.score for c in scored.candidates]


def test_jedi_late_at_a_name_the_stale_list_is_made_anew_where_jedis_call_ended_or_looks_stuck():
    cancelled: Future = Future()
    cancelled.cancel()  # replaced by a newer call, say
    stuck: Future = Future()
    stuck.asked_at = time.monotonic() - STUCK_MS / 1e3 - 1  # type: ignore[attr-defined]
    engine, options = LocalCompleter.load(), Options(list_statement=False)
    for late in (cancelled, stuck):
        r = ListRanker(jedi=FixedJedi(Future()), identifiers=IdentifierNgram())
        text = "def checkout(cart, total_price):\n    x = t"
        assert r.complete(engine, text, len(text), options, key="a", name_jedi_ms=0).stale
        text += "o"
        grown = r.complete(engine, text, len(text), options, key="a", name_jedi_ms=0, jedi=late)
        assert (grown.stale, grown.narrowed) == (True, False)


def test_in_another_function_the_modules_names_from_the_opened_document():
    jedi = FixedJedi(answered("checkout", "refund", position="name"))
    r = ListRanker(jedi=jedi, identifiers=IdentifierNgram())
    r.open_names("a", "def checkout(cart):\n    pass\n")
    jedi.future = Future()  # late from now on
    text = "def checkout(cart):\n    pass\n\n\ndef refund(order):\n    x = c"
    listing = r.complete(LocalCompleter.load(), text, len(text), Options(list_statement=False), key="a", name_jedi_ms=0)
    names = [c.label for c in listing.candidates if c.kind == "name"]
    assert listing.stale and names == ["checkout"]  # the module's, not `cart`, another function's (stale)
    assert r.scopes_kept() == 1
    r.forget("a")
    assert r.scopes_kept() == 0 and r.scopes.at("a", text, len(text)) is None


def test_names_after_a_dot_are_never_kept_for_a_scope():
    r = ListRanker(jedi=FixedJedi(answered("path", "sep")), identifiers=IdentifierNgram())
    r.complete(LocalCompleter.load(), TEXT, len(TEXT), Options(list_statement=False), key="a")
    assert r.scopes_kept() == 0


def test_the_modules_names_outlast_the_scopes_kept_and_forget_drops_them():
    r = ListRanker(jedi=FixedJedi(answered("helper", position="name")), identifiers=IdentifierNgram())
    engine, options = LocalCompleter.load(), Options(list_statement=False)
    r.open_names("a", "import os\n")
    text = "import os\n"
    for n in range(SCOPES_KEPT + 3):  # a list in each of more functions than are kept
        text += f"\ndef f{n}():\n    x = h"
        r.complete(engine, text, len(text), options, key="a", name_jedi_ms=0)
    assert r.scopes_kept() == SCOPES_KEPT + 1  # the module's answer besides the last functions'
    assert r.in_scope("a", "import os\n\ndef new():\n    y = h", 29) is not None
    r.forget("a")
    assert r.scopes_kept() == 0


def test_an_indented_line_is_the_modules_level_only_under_a_line_that_opens_a_block_or_bracket():
    engine, options = LocalCompleter.load(), Options(list_statement=False)
    for text, kept in [
        ('x = """\nnot code\n"""\n    y = l', 0),  # under a string's last line: the scopes above are unknown
        ('if __name__ == "__main__":\n    m', 1),
        ("CONFIG = {\n    'a': fo", 1),
    ]:
        r = ListRanker(jedi=FixedJedi(answered("local_x", position="name")), identifiers=IdentifierNgram())
        r.complete(engine, text, len(text), options, key="a", name_jedi_ms=0)
        assert r.scopes_kept() == kept, text


def test_after_a_dot_a_jedi_stuck_past_its_time_gives_the_models_guesses(monkeypatch):
    stuck: Future = Future()
    r = ListRanker(jedi=FixedJedi(stuck), identifiers=IdentifierNgram())
    monkeypatch.setattr("nib.model.listing.candidates.STUCK_MS", 0)
    listing = r.complete(LocalCompleter.load(), TEXT, len(TEXT), Options(list_statement=False), key="a", jedi_ms=50)
    assert listing.candidates and {c.kind for c in listing.candidates} == {"token"}


def test_a_new_environment_drops_the_answers_kept_from_the_one_before():
    ranker = ListRanker(FixedJedi(Future()), IdentifierNgram())
    ranker.scopes.remember("doc", "x = a", 5, JediAnswer([JediName("a", "statement", "statement")], "name"))
    ranker.use_environment("")  # the same: kept
    assert ranker.scopes_kept() == 1
    ranker.use_environment("/home/me/project/.venv")
    assert (ranker.scopes_kept(), ranker.environment) == (0, "/home/me/project/.venv")


def test_the_models_keywords_that_cannot_start_there_are_dropped_and_jedis_stay():
    """`for` right after `[` is not Python: the model's guess is dropped there, kept where a statement
    starts; a keyword jedi offers (it knows the grammar) stays wherever it is."""
    guesses = [("for", -0.5), ("foo", -1.0), ("not", -2.0)]
    engine = CountingEngine([Candidate(label, 5, score, "token", label) for label, score in guesses])
    r = ranker()
    assert [c.label for c in r.complete(engine, "x = [", 5, key="a", use_jedi=False).candidates] == ["foo", "not"]
    engine = CountingEngine([Candidate(label, 4, score, "token", label) for label, score in guesses])
    assert [c.label for c in r.complete(engine, "    ", 4, key="b", use_jedi=False).candidates] == [
        "for",
        "foo",
        "not",
    ]
    r = ListRanker(jedi=FixedJedi(answered("for", "format", position="name")), identifiers=IdentifierNgram())
    listing = r.complete(LocalCompleter.load(), "x = [", 5, Options(list_statement=False), key="a")
    assert ("for", "name") in [(c.label, c.kind) for c in listing.candidates]


def test_a_keyword_jedi_gave_elsewhere_in_the_scope_does_not_keep_a_misplaced_one():
    """jedi late: its last answer in the function (at a statement's start, where it offers `for`) is
    not jedi's word on this place, so the model's `for` after `[` is still dropped."""
    jedi = FixedJedi(answered("for", "format", position="name"))
    r = ListRanker(jedi=jedi, identifiers=IdentifierNgram())
    engine, options = LocalCompleter.load(), Options(list_statement=False)
    here = "def f(items):\n    f"
    assert "for" in [c.label for c in r.complete(engine, here, len(here), options, key="a", name_jedi_ms=0).candidates]
    jedi.future = Future()  # late from now on: the names it gave last in the function are scored here
    there = here + "\n    x = [f"
    listing = r.complete(engine, there, len(there), options, key="a", name_jedi_ms=0)
    assert listing.stale and sorted(c.label for c in listing.candidates if c.kind == "name") == ["f", "format"]
