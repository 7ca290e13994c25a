"""A vocabulary's bytes in one buffer read as the list of `bytes` it replaces."""

import pytest

from nib.model.net.pieces import Pieces

TOKENS = [b"pr", b"int", b"", b" return", "é".encode(), b"\n"]


def test_pieces_read_as_the_list_they_were_made_from():
    pieces = Pieces(iter(TOKENS))  # one at a time, as a tokenizer yields them
    assert len(pieces) == len(TOKENS)
    assert [pieces[i] for i in range(len(TOKENS))] == TOKENS
    assert list(pieces) == TOKENS
    assert pieces[:2] == [b"pr", b"int"] and pieces[3:] == TOKENS[3:] and pieces[::2] == TOKENS[::2]
    assert pieces[-1] == b"\n" and pieces[-6] == b"pr"
    assert b" return" in pieces and pieces.index(b"int") == 1


@pytest.mark.parametrize("i", [6, 100, -7])
def test_an_id_outside_the_vocabulary_is_an_index_error(i):
    with pytest.raises(IndexError):
        Pieces(TOKENS)[i]


def test_no_pieces():
    assert len(Pieces([])) == 0 and list(Pieces([])) == []


def test_numpy_ids_index_as_ints_do():
    import numpy as np

    pieces = Pieces(TOKENS)
    assert [pieces[i] for i in np.arange(len(TOKENS))] == TOKENS  # decoding indexes with numpy's ids
