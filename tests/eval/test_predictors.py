"""What `nib eval` measures is what the server serves: a predictor asks a completion service of
its own, and an engine that fails is an error, not the local model's statement measured in its place."""

import socket

import pytest

from nib.model.completion.local import LocalCompleter
from nib.model.errors import ModelError
from nib.model.eval.predictors import EnginePredictor, ListPredictor, ModelPredictor
from nib.model.listing.scope_names import read_names
from tests.fixtures import DEMO

CURSOR = 265  # `found.ap|` in the demo file


def test_a_local_model_s_line_and_list_through_its_service():
    predictor = ModelPredictor("bundled", threads=1)
    try:
        rest, score = predictor.line(DEMO.read_text(), CURSOR)
        labels = predictor.rank(DEMO.read_text(), CURSOR)
        assert predictor.service.model.serving.engine is predictor.engine  # one model, loaded by the service
    finally:
        predictor.close()
    assert rest == "pend(name)" and score < 0  # the statement `append(name)`, after the typed `ap`
    assert labels == ["append", "app", "app_config", "app_configs", "appdir"]


def test_an_engine_that_fails_is_an_error():
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    predictor = EnginePredictor(f"http://127.0.0.1:{port}/v1")
    try:
        with pytest.raises(ModelError, match="statements come from the local model"):
            predictor.line(DEMO.read_text(), CURSOR)
    finally:
        predictor.close()


def test_the_list_with_jedi_late_at_names_ranks_the_names_read_from_the_text():
    """As in a file just opened: at a name the list never gets jedi's answer, however fast jedi is,
    and ranks the names read from the text (not os's, which only jedi knows from the star import)."""
    document = "from os import *\n\n\ndef run(options):\n    x = ge"
    engine = LocalCompleter.load()
    orders = {}
    for late in (False, True):
        predictor = ListPredictor(engine, 5000, late_at_names=late)
        try:
            record = predictor.predict(document, len(document) - 2, len(document) - 1, "/bench/a.py", "a")
        finally:
            predictor.close()
        orders[late] = record["jedi_order"]
    read = read_names(document[:-1], len(document) - 1).names
    assert orders[True] == [n.name for n in read] and "getcwd" not in orders[True]
    assert "getcwd" in orders[False] and "getattr" in orders[False]
