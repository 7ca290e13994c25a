"""The list puts first the name the ghost text on screen goes on with, where the statement has a
model of its own (two hosts of the bundled model here), and keeps its own order where it does not."""

import logging
from concurrent.futures import Future

from nib.model.completion.engine import EngineOptions
from nib.model.completion.request import Mode, Options, Request
from nib.model.completion.result import Candidate
from nib.model.listing.jedi import JediCompleter
from nib.model.listing.jedi_answers import JediAnswer, JediName
from nib.model.service.config import Config
from nib.model.service.hosts import Hosts, ModelKey
from nib.model.service.service import CompletionService

DOC = "file:///shop.py"


class _Jedi(JediCompleter):
    """jedi that knows `ledger`, `left` and `len` at a name, `append` and `apply` after `.`, at once."""

    def ask(self, text, cursor, path=None, at_name_start=True, background=False, environment=""):
        future: Future = Future()
        if text[:cursor].rstrip("abcdefghijklmnopqrstuvwxyz_").endswith("."):
            future.set_result(
                JediAnswer([JediName(n, "function", "function") for n in ("append", "apply")], "attribute")
            )
        else:
            future.set_result(
                JediAnswer([JediName(n, "statement", "statement") for n in ("ledger", "left", "len")], "name")
            )
        return future


async def _service(separate: bool) -> CompletionService:
    statement, listing = ModelKey("bundled", "cpu", 1), ModelKey("bundled", "cpu", 2 if separate else 1)
    config = Config(statement, listing, Options(), EngineOptions(), True, 5000, 5000)
    service = CompletionService(Hosts(), _Jedi(), config, lambda *args: None, logging.getLogger("test"))
    await service.ready()
    return service


def _show(service: CompletionService, text: str, ghost: str, doc: str = DOC) -> None:
    """The statement's model answered ghost at the end of text in doc (as if a ghost text were asked there)."""
    engine = service.model.serving.engine
    request = Request(text, len(text), Mode.STATEMENT, engine.own(service.config.options), doc=doc)
    engine.shown.add(request, Candidate(ghost, len(text), -0.1, "statement", ghost))


async def _labels(service: CompletionService, text: str, doc: str = DOC) -> list[str]:
    listing = await service.complete(doc, text, len(text), Mode.LIST)
    return [c.label for c in listing.candidates]


async def test_typed_through_the_ghost_texts_name_goes_first_and_a_name_nobody_listed_is_added():
    service = await _service(separate=True)
    above = "ledger = []\nleft = 1\nprint("
    alone = await _labels(service, above + "le", "file:///alone.py")
    assert alone == ["ledger", "left", "len", "left1", "left_", "lenid"]
    _show(service, above, "len(ledger))")
    assert await _labels(service, above + "le") == ["len", "ledger", "left", "left1", "left_", "lenid"]
    _show(service, above, "level)")  # a name neither jedi nor the list's model has
    assert await _labels(service, above + "le") == ["level"] + alone
    service.close()


async def test_after_a_dot_the_name_moves_up_only_if_jedi_lists_it():
    service = await _service(separate=True)
    above = "ledger = []\nledger."
    alone = await _labels(service, above + "ap", "file:///alone.py")
    assert sorted(alone) == ["append", "apply"]
    _show(service, above, "apply(1)")
    assert await _labels(service, above + "ap") == ["apply", "append"]
    _show(service, above, "appendleft(1)")
    assert await _labels(service, above + "ap") == alone
    service.close()


async def test_with_one_model_for_both_or_another_documents_ghost_text_the_list_keeps_its_order():
    service = await _service(separate=False)
    text = "ledger = []\nleft = 1\nprint("
    alone = await _labels(service, text + "le", "file:///alone.py")
    assert alone == ["ledger", "left", "len", "left1", "left_", "lenid", "left, b)"]  # its statement item last
    _show(service, text, "level)")
    assert await _labels(service, text + "le") == alone
    service.close()
    service = await _service(separate=True)
    alone = await _labels(service, text + "le", "file:///alone.py")
    _show(service, text, "level)", doc="file:///other.py")
    assert await _labels(service, text + "le") == alone
    service.close()
