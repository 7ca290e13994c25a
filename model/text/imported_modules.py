"""The modules an `import` may name while jedi is late: the standard library's, and the packages the
file already imports from, read from the text alone.

At `import t` or `from t` in a file just opened, jedi's first answer is often past the list's
budget, and the list was empty. The standard library's modules (of nib's own Python: a project
on another version differs by a few, `telnetlib` went in 3.13) are importable in any Python, and
the top-level packages the file's other import lines name are importable where the file runs:
neither is the model's guess. jedi's answer, on the next key, adds the environment's and the
project's.
"""

from __future__ import annotations

import re
import sys

from .stubs import imports

# where a top-level module is named: `import x`, `from x`, `import a, x` (not after a dot, nor after ` import `)
_MODULE_START = re.compile(r"^[ \t]*(?:from[ \t]+|import[ \t]+(?:[\w.]+(?:[ \t]+as[ \t]+\w+)?[ \t]*,[ \t]*)*)\w*$")
# the private ones but `__future__` (few are imported by hand), and another platform's
_ELSEWHERE = (
    {"posix", "pwd", "grp", "termios", "tty", "pty", "fcntl", "resource", "syslog", "crypt", "spwd", "nis", "curses"}
    if sys.platform == "win32"
    else {"msvcrt", "nt", "winreg", "winsound"}
)
STDLIB = sorted(
    n for n in sys.stdlib_module_names if (n == "__future__" or not n.startswith("_")) and n not in _ELSEWHERE
)
AROUND_CHARS = 50_000  # the file's import lines read above the cursor at most (imports sit at the top)


def module_start(line_prefix: str) -> bool:
    """Whether the name being typed is a top-level module's: `import x`, `from x`, `import a, x`.

    Example: module_start("from t") and module_start("import os, sy") and not module_start("from os import pa")
    """
    return _MODULE_START.match(line_prefix) is not None


def importable(text: str, cursor: int, typed: str) -> list[str]:
    """The top-level modules that extend typed: the packages the file imports from above the
    cursor's line (first, as they appear), then the standard library's.

    Example: importable("import pytest\\nfrom typing import Any\\nimport ty", 46, "ty") == ["typing", "types"]
    """
    line = text.rfind("\n", 0, cursor) + 1
    found = imports(text[max(0, line - AROUND_CHARS) : line])  # statements that parse: no prose
    own = dict.fromkeys(i.module.split(".")[0] for i in found if i.level == 0 and i.module.startswith(typed))
    return list(own) + [m for m in STDLIB if m.startswith(typed) and m not in own]
