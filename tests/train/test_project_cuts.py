"""Training cuts with project context: built from the package's other files as the server builds
it, and laid out as the server lays out a "line" prompt with a project context."""

import json
import random

import pytest
from test_fim import SPECIAL, Chars

from nib.model.completion.prompt import Tokens, infill_line, project_tokens, with_project
from nib.model.completion.request import Project
from nib.model.errors import ModelError
from nib.model.train import fim, project_cuts

REPO = ["<|repo_name|>", "<|file_sep|>"]

LEDGER = '''class Ledger:
    """Money in and out."""

    def post_transfer(self, party, kind, cents):
        return cents
'''
SHOP = """from shop.ledger import Ledger


def pay(ledger: Ledger, supplier, amount_cents):
    total = amount_cents * 2
    return ledger.post_transfer(supplier, 'supplier', total)
"""


class CharsRepo(Chars):
    """Chars, with the repository format's two tokens (129, 130)."""

    def __len__(self):
        return 131

    def convert_tokens_to_ids(self, names):
        return [129 + REPO.index(n) if n in REPO else SPECIAL.index(n) for n in names]

    def convert_ids_to_tokens(self, ids):
        return [REPO[i - 129] if i >= 129 else super(CharsRepo, self).convert_ids_to_tokens([i])[0] for i in ids]


def test_the_cuts_carry_the_stubs_of_the_other_modules_and_nothing_after_the_cut():
    rows = [("shop==1.0/shop/ledger.py", LEDGER), ("shop==1.0/shop/pay.py", SHOP), ("shop==1.0/shop/__init__.py", "")]
    cuts = project_cuts.build(rows, 30, seed=1, jobs=1)
    assert cuts and all(c["project"]["name"] == "shop-1.0" for c in cuts)
    assert {c["project"]["path"] for c in cuts} <= {"shop/pay.py", "shop/ledger.py"}
    at_pay = [c for c in cuts if c["project"]["path"] == "shop/pay.py" and c["offset"] > SHOP.index("def")]
    assert len(at_pay) >= 5  # in the function: the import's stub, with the method its last line calls
    for c in at_pay:
        stubs = dict(c["project"]["files"])
        assert "def post_transfer(self, party, kind, cents)" in stubs["shop/ledger.py"], stubs
    for c in cuts:  # the cut where it was made; the context never the file's own text
        own = SHOP if c["project"]["path"] == "shop/pay.py" else LEDGER
        assert c["prefix"] == own[: c["offset"]] and own[c["offset"] :].startswith(c["middle"] + c["suffix"][:1])
        assert c["project"]["path"] not in [path for path, _ in c["project"]["files"]]


def test_the_example_is_the_servers_line_prompt_with_the_project_context(tmp_path):
    tokens = fim.Tokens.of(CharsRepo())
    c = fim.Cut("def g():\n    x = f(", "a, b", ")\n    return x", 18)
    project = Project("shop", (("shop/ledger.py", "class Ledger: ..."),), "shop/pay.py")
    file = tmp_path / "cuts.jsonl"
    row = {"prefix": c.prefix, "middle": c.middle, "suffix": c.suffix, "offset": c.offset}
    file.write_text(
        json.dumps(row | {"project": {"name": "shop", "path": "shop/pay.py", "files": [list(project.files[0])]}})
    )
    read = project_cuts.read(file)
    assert read == [(c, project)]
    (e,) = project_cuts.examples(read, tokens, random.Random(0))

    class Bpe:
        repo = (129, 130)

        def encode(self, text):
            return CharsRepo()([text], False, True)["input_ids"][0]

    shown = project_tokens(project, Bpe(), False, project_cuts.BUDGET_TOKENS, "repo")
    assert shown.ids[:2] == [129] + Bpe().encode("s") and shown.ids.count(130) == 2
    enc = CharsRepo()(["def g():\n", "    x = f", c.suffix, "(a, b"], False, True)["input_ids"]
    above = with_project(Tokens(enc[0], [0] * len(enc[0])), shown, 3)  # <|endoftext|>, the context, the window
    head = infill_line(above, Tokens(enc[1], [0] * len(enc[1])), enc[2], (0, 1, 2)).ids
    assert e == fim.Example(head + enc[3] + [3], len(head), stop=True)
    assert fim.line_examples([c], tokens, random.Random(0)) != [e]  # without the context: the file alone


def test_a_tokenizer_without_the_repository_format_gets_comment_headers():
    tokens = fim.Tokens.of(Chars())
    c = fim.Cut("x = f(", "a", ")\n", 6)
    (e,) = project_cuts.examples([(c, Project("shop", (("a.py", "A = 1"),), "b.py"))], tokens, random.Random(0))
    assert e.ids[:2] == [0, 3]  # <|fim_prefix|>, <|endoftext|>, then the comment headers
    assert Chars().decode([i for i in e.ids if i >= 4]) == "# file: a.py\nA = 1\n\n# file: b.py\n)\nx = f(a"


def test_finetune_trains_on_the_project_cuts_beside_its_own_examples(tmp_path):
    from test_fim import TEXT

    from nib.model.pretrained import finetune

    tokens = fim.Tokens.of(CharsRepo())
    c = fim.Cut("def g():\n    x = f(", "a, b", ")\n    return x", 18)
    rows = [
        {"prefix": c.prefix, "middle": c.middle, "suffix": c.suffix, "offset": c.offset}
        | {"project": {"name": "shop", "path": "shop/pay.py", "files": [["shop/ledger.py", "class Ledger: ..."]]}}
    ] * 3
    file = tmp_path / "cuts.jsonl"
    file.write_text("".join(json.dumps(r) + "\n" for r in rows))
    alone = finetune._examples([TEXT], tokens, 8, ("line",), None)
    both = finetune._examples([TEXT], tokens, 8, ("line",), file)
    with_context = [e for e in both if e.ids[:3] == [0, 3, 129]]  # <|fim_prefix|>, <|endoftext|>, <|repo_name|>
    assert len(with_context) == 3 and len(both) == len(alone) + 3
    assert sorted(map(str, both)) == sorted(map(str, alone + with_context))
    with pytest.raises(ModelError, match="--project-cuts trains the line layout"):
        finetune._examples([TEXT], tokens, 8, ("psm",), file)
