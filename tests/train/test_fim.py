"""Continued training with fill-in-the-middle at toy scale: the cuts and the prompts laid out as the
server lays them out, the adapters merged to the same function, greedy exactness without
decoding, and a few steps on a tiny random Qwen2 that learn."""

import random

import numpy as np
import pytest
import torch
from fixtures import tiny_qwen2

from nib.model.completion.prompt import Tokens, infill, infill_line, split_line
from nib.model.errors import ModelError
from nib.model.net.tokenizer import _bytes_to_unicode
from nib.model.pretrained.convert import vocabulary_order
from nib.model.runtime import adapter
from nib.model.train import fim, lora

TEXT = "import os\n\n\ndef area(w, h):\n    return w * h\n\n\nprint(area(3, 4))\nprint(area(5, 6))\n"
SPECIAL = ["<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>", "<|endoftext|>"]


class Chars:
    """A tokenizer of one id per character (ids 4..127), the four control tokens 0..3, and one
    token it never writes, "()" (128): a "(" at the cursor may be its start, so healing backs it off."""

    all_special_ids = [0, 1, 2, 3]
    unk_token_id = None

    def __len__(self):
        return 129

    def convert_tokens_to_ids(self, names):
        return [SPECIAL.index(n) for n in names]

    def convert_ids_to_tokens(self, ids):
        alphabet = _bytes_to_unicode()
        return [SPECIAL[i] if i < 4 else "()" if i == 128 else alphabet[i - 4] for i in ids]

    def __call__(self, texts, add_special_tokens, split_special_tokens):
        assert (add_special_tokens, split_special_tokens) == (False, True)  # control tokens in a file are text
        return {"input_ids": [[4 + min(ord(c), 123) for c in t] for t in texts]}

    def decode(self, ids):
        return "".join(chr(i - 4) for i in ids)


def test_a_cut_is_the_rest_of_a_line_or_a_span_inside_it_and_the_suffix_as_the_server_cuts_it():
    for seed in range(50):
        c = fim.cut(TEXT, random.Random(seed), span=False)
        assert c is not None and c.prefix + c.middle + c.suffix[: TEXT.count("\n")] in TEXT
        assert TEXT.startswith(c.prefix) and TEXT[len(c.prefix) :].startswith(c.middle)
        assert "\n" not in c.middle and c.suffix.startswith("\n")
        s = fim.cut(TEXT, random.Random(seed), span=True)
        if s is not None:
            assert TEXT[len(s.prefix) :].startswith(s.middle + s.suffix.split("\n")[0])
            assert s.middle and not s.suffix.startswith("\n")
    c = fim.cut(TEXT, random.Random(9), span=False)
    assert (c.prefix[-7:], c.middle, c.suffix) == ("\nprint(", "area(3, 4))", "\nprint(area(5, 6))\n")


def test_the_example_is_the_servers_psm_prompt_then_the_middle_and_its_end():
    tokens = fim.Tokens.of(Chars())
    c = fim.Cut("x = f(", "a, b", ")\ny = 2")
    (e,) = fim.fim_examples([c], tokens, random.Random(0))
    # healed as the server heals: "(" may be the start of "()", so the middle starts with it
    enc = Chars()(["x = f", c.suffix, "(a, b"], False, True)["input_ids"]
    head = infill(enc[0], enc[1], (0, 1, 2), "psm")
    assert e == fim.Example(head + enc[2] + [3], len(head), stop=True)
    (off,) = fim.off_examples([c], tokens)
    assert off == fim.Example(enc[0] + enc[2], len(enc[0]))
    assert tokens.healed(enc[0], "y") == (enc[0], "y")  # "f" starts no longer token: nothing backed off
    # the served model's pruned head cannot write "()": the server does not back "(" off, nor does training
    pruned = fim.Tokens.of(Chars(), vocabulary_order(list(range(128)), 129), 128)
    assert pruned.healed(enc[0] + Chars()(["("], False, True)["input_ids"][0], "a") == (enc[0] + [4 + ord("(")], "a")


def test_the_line_example_is_the_servers_line_prompt_healed_after_the_middles_marker():
    tokens = fim.Tokens.of(Chars())
    c = fim.Cut("def g():\n    x = f(", "a, b", ")\n    return x")
    (e,) = fim.fim_examples([c], tokens, random.Random(0), ("line",))
    enc = Chars()(["def g():\n", "    x = f", c.suffix, "(a, b"], False, True)["input_ids"]
    head = infill_line(Tokens(enc[0], [0] * len(enc[0])), Tokens(enc[1], [0] * len(enc[1])), enc[2], (0, 1, 2)).ids
    assert e == fim.Example(head + enc[3] + [3], len(head), stop=True)  # "(" backed off into the middle
    blank = fim.Cut("x = f(", "a, b", "\n")  # nothing after the cut: as the server asks, no FIM
    assert fim.fim_examples([blank, c], tokens, random.Random(0), ("line",))[1] == e
    assert fim.fim_examples([blank], tokens, random.Random(0), ("line",)) == fim.fim_examples(
        [blank], tokens, random.Random(0), ("psm",)
    )


def test_the_line_examples_middle_starts_where_the_servers_does():
    """Past a 256-character mark of the file, the server's middle holds the lines since the mark
    (`prompt.middle_start`), not the cut's line alone: the example is laid out the same."""
    tokens = fim.Tokens.of(Chars())
    prefix = "def g():\n    y = 1\n    x = f("
    c = fim.Cut(prefix, "a, b", ")\n    return x", 250 + len(prefix))  # the mark, 256, inside "def g():"
    (e,) = fim.line_examples([c], tokens, random.Random(0))
    enc = Chars()(["def g():\n", "    y = 1\n    x = f", c.suffix, "(a, b"], False, True)["input_ids"]
    head = infill_line(Tokens(enc[0], [0] * len(enc[0])), Tokens(enc[1], [0] * len(enc[1])), enc[2], (0, 1, 2)).ids
    assert e == fim.Example(head + enc[3] + [3], len(head), stop=True)

    class Bpe:  # the server's split of the same context, before healing takes the "(" into the middle
        bos, eot = None, 3

        def encode(self, text):
            return Chars()([text], False, True)["input_ids"][0]

    above, line = split_line(fim._context(c), Bpe(), 400)
    assert (above.ids, line.ids) == (enc[0], Bpe().encode("    y = 1\n    x = f("))
    (first,) = fim.line_examples([fim.Cut(prefix, c.middle, c.suffix, len(prefix))], tokens, random.Random(0))
    assert Chars().decode(first.ids[first.ids.index(2) + 1 : first.start]) == "    x = f"  # no mark: the line


def test_what_the_server_would_show_exactly():
    """The greedy middle as shown: its last token may also end the line, and its end marker may be
    any control token or a line break (the server cuts there); nothing else may differ."""
    token_bytes = [b"", b"", b"", b"", b"x", b")", b")\n", b"\n", b" y", b")\n\n"]
    middle = fim.Example([9, 9, 4, 5, 3], 2, stop=True)  # "x)" then <|endoftext|>
    cases = {
        (4, 5, 3): True,
        (4, 6, 3): True,
        (4, 5, 0): True,
        (4, 5, 7): True,
        (4, 9, 3): True,
        (4, 5, 8): False,
        (8, 5, 3): False,
        (4, 8, 3): False,
    }
    for guess, shown in cases.items():
        assert fim._shown_exactly(middle, list(guess), token_bytes) is shown, guess
    off = fim.Example([9, 9, 4, 5], 2)
    assert (fim._shown_exactly(off, [4, 6], token_bytes), fim._shown_exactly(off, [4, 6], None)) == (True, False)


def tiny():
    # a head able to express what the adapters learn (it is not adapted)
    return tiny_qwen2(128, 2, initializer_range=0.3)


def test_merged_adapters_compute_what_the_attached_ones_did(tmp_path):
    model = tiny()
    ids = torch.tensor([[5, 9, 17, 33, 2]])
    adapters = lora.attach(model, rank=4, alpha=8.0)
    assert len(adapters) == 2 * 7
    with torch.no_grad():
        for a in adapters.values():
            a.b.normal_(0, 0.05)
        adapted = model(ids).logits
    lora.save(adapters, tmp_path / "a.npz", {"model": "tiny"})
    assert adapter.meta(tmp_path / "a.npz") == {"rank": 4, "alpha": 8.0, "model": "tiny"}
    plain = tiny()
    before = plain(ids).logits
    assert adapter.merge(plain, tmp_path / "a.npz") == 14
    after = plain(ids).logits
    assert not torch.allclose(before, after, atol=1e-3)
    np.testing.assert_allclose(after.detach().numpy(), adapted.detach().numpy(), atol=1e-2)  # fp16 in the file


def test_greedy_exactness_is_every_reference_token_the_argmax():
    model = tiny()
    ids = [5, 6]
    with torch.no_grad():
        while len(ids) < 5:  # greedy decoding
            ids.append(model(torch.tensor([ids])).logits[0, -1].argmax().item())
    e = fim.Example([*ids[:4], 9 if ids[4] != 9 else 10], 2)
    assert fim.measure(model, [e], "cpu")["exact"] == 0.0  # its last token is not the greedy one
    ended = fim.Example(e.ids, 2, stop=True)
    assert fim.measure(model, [ended], "cpu")["exact"] == 0.0  # nor is the end marker
    token_bytes = [b"a"] * 128
    token_bytes[ids[4]] = b"\n"  # the greedy token there is a line break: the server cuts the middle there
    assert fim.measure(model, [ended], "cpu", token_bytes)["exact"] == 1.0
    per, right, counts = fim.loss(model, [e, fim.Example([5, 6, 7], 0)], "cpu")
    assert counts == [3, 2] and per.shape == right.shape == (5,)


def test_a_few_steps_learn_to_fill_in_the_toy_middles():
    model = tiny()
    tokens = fim.Tokens.of(Chars())
    examples = fim.mixed([TEXT] * 4, tokens, 200, seed=0)
    # FIM examples (ending in <|endoftext|>) in both layouts: <|fim_prefix|> or <|fim_suffix|> first
    assert {e.ids[0] for e in examples if e.ids[-1] == 3} == {0, 1}
    before = fim.measure(model, examples, "cpu")
    adapters = lora.attach(model, rank=8, alpha=16.0)
    params = [p for a in adapters.values() for p in (a.a, a.b)]
    model.train()
    report = fim.train(model, params, examples, "cpu", seconds=60, max_tokens=400, lr=3e-2, say=lambda _: None)
    model.eval()
    after = fim.measure(model, examples, "cpu")
    assert report["steps"] == len(fim.batches(examples, 400, random.Random(1))) and after["loss"] < before["loss"] - 1.0


def test_only_the_layouts_asked_for_are_trained():
    examples = fim.mixed([TEXT] * 4, fim.Tokens.of(Chars()), 60, seed=0, layouts=("spm",))
    assert {e.ids[0] for e in examples if e.ids[-1] == 3} == {1}  # every FIM example starts <|fim_suffix|>


def test_a_model_without_fim_tokens_is_a_clear_error():
    class NoFim(Chars):
        unk_token_id = 99

        def convert_tokens_to_ids(self, names):
            return [99 for _ in names]

    with pytest.raises(ModelError, match="the model has no fill-in-the-middle tokens"):
        fim.Tokens.of(NoFim())


def test_an_unknown_token_that_is_a_control_token_is_no_missing_fim_token():
    class EotUnknown(Chars):  # as transformers 5.17 reads Qwen's GGUF
        unk_token_id = 3

    assert fim.Tokens.of(EotUnknown()).fim == (0, 1, 2)


def test_an_adapter_trained_for_one_layout_says_so_in_its_meta():
    from nib.model.pretrained.finetune import _about

    report = {"corpus": "c0ffee", "train": {"steps": 3}}
    one, all_three = _about("qwen2.5-coder-0.5b", report, ("line",)), _about("qwen2.5-coder-0.5b", report, fim.LAYOUTS)
    assert one == {"model": "qwen2.5-coder-0.5b", "corpus": "c0ffee", "layouts": ["line"], "train": {"steps": 3}} | {
        "defaults": {"fim": "line"}
    }
    assert "defaults" not in all_three and all_three["layouts"] == ["psm", "spm", "line"]


def test_a_batch_holds_at_most_a_quarter_of_its_tokens_in_loss_positions():
    short = [fim.Example(list(range(4, 20)), 1) for _ in range(100)]  # 15 loss positions each
    sizes = sorted(len(b) for b in fim.batches(short, 400, random.Random(0)))
    assert sizes == [4] + [6] * 16  # 6 x 15 = 90 <= 100 loss positions, where 400 tokens would hold 25


def test_adapters_gone_bad_go_back_to_the_last_good_ones_at_half_the_rate(monkeypatch):
    model = tiny()
    tokens = fim.Tokens.of(Chars())
    examples = fim.mixed([TEXT] * 4, tokens, 200, seed=0)
    adapters = lora.attach(model, rank=8, alpha=16.0)
    params = [p for a in adapters.values() for p in (a.a, a.b)]
    first = [p.detach().clone() for p in params]
    real, calls, said = fim.loss, [], []

    def loss(*args):  # steps 1..3 non-finite: three in a row
        per, right, counts = real(*args)
        calls.append(len(calls))
        return (per * float("nan") if 1 <= calls[-1] <= 3 else per), right, counts

    monkeypatch.setattr(fim, "loss", loss)
    report = fim.train(model, params, examples[:40], "cpu", seconds=0, max_tokens=400, lr=3e-2, say=said.append)
    assert (report["skipped"], report["restarts"]) == (3, 1)
    assert "step 3: back to the adapters of step 0, rate 0.015" in said
    assert all(torch.isfinite(p).all() for p in params) and any(
        not torch.equal(p, q) for p, q in zip(params, first, strict=True)
    )
