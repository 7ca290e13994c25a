"""Where `nib eval` cuts: identifier starts by kind, the rest of a line, inside a token beside its
start; seeded, in file order, the same cuts for every model."""

from nib.model.eval.points import Point, identifier_line_points, identifier_points, line_points, midtoken_points

TEXTS = [
    "import os\nfrom json import dumps\n\n\ndef main(path):\n    print(dumps(os.listdir(path), indent=2))\n",
    "x = 1  # a comment\ny = x + 20\n",
]


def test_every_identifier_start_with_its_kind_in_file_order_but_the_names_being_defined():
    points = identifier_points(TEXTS, 100, 0)
    assert [(p.file, p.gold, p.kind) for p in points] == [  # not `main` nor its parameter `path`
        (0, "os", "import"),
        (0, "json", "import"),
        (0, "dumps", "import"),
        (0, "print", "name"),
        (0, "dumps", "name"),
        (0, "os", "name"),
        (0, "listdir", "attribute"),
        (0, "path", "name"),
        (0, "indent", "kwarg"),
        (1, "x", "name"),
        (1, "y", "name"),
        (1, "x", "name"),
    ]
    assert all(TEXTS[p.file][p.offset :].startswith(p.gold) for p in points)


def test_a_sample_is_seeded_and_kept_in_file_order():
    a, b = identifier_points(TEXTS, 5, 7), identifier_points(TEXTS, 5, 7)
    assert a == b and len(a) == 5 and a == sorted(a, key=lambda p: (p.file, p.offset))


def test_the_rest_of_a_line_from_a_name_or_a_later_token_never_a_comment():
    rest = identifier_line_points(TEXTS, 100, 0)
    assert Point(0, TEXTS[0].index("print"), "print(dumps(os.listdir(path), indent=2))", "identifier") in rest
    assert all(not p.gold.startswith("#") for p in line_points(TEXTS, 100, 0))


def test_a_cut_inside_a_token_comes_with_the_cut_at_its_start():
    for inside, start in midtoken_points(TEXTS, 100, 0):
        assert inside.file == start.file and start.offset < inside.offset
        assert start.gold.endswith(inside.gold) and inside.kind == start.kind
