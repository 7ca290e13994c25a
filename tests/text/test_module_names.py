"""The names a module imports and defines at column 0, read from the text while jedi is late."""

from nib.model.text.module_names import AROUND_CHARS, module_names

MODULE = """\"\"\"A module.\"\"\"
import os.path, re as regex  # two
try:
    import numpy as np
except ImportError:
    np = None
from typing import Any, \\
    Sequence
from . import util
from collections.abc import (
    Iterable,  # a comment
    Mapping as Map,
)
from star import *

class Cart:
    def total(self):
        from inner import helper
        return {cursor}

async def fetch(): pass
def _private(): pass
    def indented(): pass
x = "import quoted"
"""


def test_imports_at_any_indentation_and_functions_and_classes_at_column_0_above_and_below():
    text = MODULE.replace("{cursor}", "")
    assert module_names(text, text.index("return ") + 7) == {
        "os": "module",
        "regex": "module",
        "np": "module",
        "Any": "class",
        "Sequence": "class",
        "util": "function",  # a module, as jedi would say: the text cannot tell
        "Iterable": "class",
        "Map": "class",
        "helper": "function",  # a function's own import counts everywhere: read, not parsed
        "Cart": "class",
        "fetch": "function",
        "_private": "function",
    }


def test_nothing_from_a_file_without_imports_or_definitions_and_a_bounded_read():
    assert module_names("x = 1\nprint(x)\n", 6) == {}
    far = "import far\n" + "#" * AROUND_CHARS + "\nnear = 1\n"
    assert module_names(far, len(far)) == {}  # beyond what is read above the cursor


def test_crlf_lines_and_prose_that_only_looks_like_a_definition():
    text = "import os\r\nimport a.b as c\r\nfrom x import y, \\\r\n  z\r\nfrom m import (\r\n    p,\r\n    q,\r\n)\r\n"
    text += '"""\r\nclass of things\r\n"""\r\nclass K(B):\r\n    pass\r\n'
    assert module_names(text, len(text)) == {
        "os": "module",
        "c": "module",
        "y": "function",
        "z": "function",
        "p": "function",
        "q": "function",
        "K": "class",
    }
