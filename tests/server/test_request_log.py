"""The log line of an answered request: where it was asked, and where its time went."""

import logging

from lsprotocol import types

from nib.model.completion.request import Mode
from nib.model.completion.result import Result, Timings
from nib.model.listing.ranker import Listing
from nib.server.request_log import log_answer


def test_the_log_line_says_where_a_list_was_asked_and_each_requests_steps(caplog):
    log, uri = logging.getLogger("nib.test"), "file:///w/app.py"
    timings = Timings(queue_ms=0.5, prefill_ms=12.0, jedi_wait_ms=80.0, prompt_tokens=170)
    with caplog.at_level(logging.INFO, logger="nib.test"):
        log_answer(log, Mode.LIST, uri, types.Position(3, 9), Listing([], timings, None, ("attribute", False)))
        log_answer(log, Mode.LIST, uri, types.Position(4, 2), Listing([], Timings(), None, ("name", True)))
        log_answer(log, Mode.STATEMENT, uri, types.Position(4, 2), Result([], Timings(decode_statement_ms=9.0)))
    assert caplog.messages == [
        "list app.py:3:9 at an attribute 92.5 ms (queue 0.5, prefill 12.0, jedi wait 80.0; 170 prompt tokens, "
        "0 of project context, 0 decoding passes) 0 items",
        "list app.py:4:2 at a typed name 0.0 ms (queue 0.0, typed through; 0 prompt tokens, 0 of project context, "
        "0 decoding passes) 0 items",
        "statement app.py:4:2 9.0 ms (queue 0.0, decode statement 9.0; 0 prompt tokens, 0 of project context, "
        "0 decoding passes) 0 items",
    ]
