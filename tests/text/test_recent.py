"""The ring of what the user saw: bounded, near duplicates replaced, picked by similarity."""

from nib.model.text.recent import Chunk, Recent, chunk_at

CODE = "\n".join(f"def handler_{i}(request, response):\n    return render(request, 'page_{i}')" for i in range(50))


def test_a_chunk_is_the_lines_around_a_line():
    text = "\n".join(str(i) for i in range(200))
    assert chunk_at(text, 100, 4) == "98\n99\n100\n101"
    assert chunk_at(text, 0, 4) == "0\n1\n2\n3"
    assert chunk_at(text, 199, 4) == "196\n197\n198\n199"


def test_the_ring_is_bounded_and_replaces_near_duplicates():
    ring = Recent(size=3)
    for i in range(5):
        ring.add(f"f{i}.py", CODE.replace("handler", f"h{i}"), 10)
    assert len(ring) == 3
    ring.add("f4.py", CODE.replace("handler", "h4"), 11)  # the same place seen again: replaced, not added
    assert len(ring) == 3
    assert [c.path for c in ring._chunks] == ["f2.py", "f3.py", "f4.py"]


def test_pick_the_most_similar_chunks_not_from_the_file_being_edited():
    ring = Recent()
    ring.add("views.py", CODE, 0)
    ring.add("other.py", "\n".join(f"x_{i} = compute_total({i})" for i in range(10)), 0)
    ring.add("edited.py", CODE.replace("render", "redirect"), 0)
    picked = ring.pick("def index(request, response):\n    return render(request, ", "edited.py", 4)
    assert picked == [Chunk("views.py", 0, chunk_at(CODE, 0))]
    assert ring.pick("nothing in common", None, 4) == []


def test_keep_and_drop_forget_the_chunks_of_paths():
    ring = Recent(8)
    for path in ("/w/a.py", "/w/.env", "/w/b.py"):
        ring.add(path, "\n".join(f"line_{path}_{i} = {i}" for i in range(5)), 0)
    ring.keep(lambda path: not path.endswith(".env"))
    ring.drop("/w/a.py")
    assert [c.path for c in ring.pick("line_/w/b.py_1 line_/w/a.py_1 line_/w/.env_1", None, 8)] == ["/w/b.py"]
    assert len(ring) == 1
