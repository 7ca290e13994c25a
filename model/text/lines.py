"""Line breaks as editors, the LSP and parso count them: \\n, \\r\\n and a lone \\r (not the other
breaks `str.splitlines` knows, such as \\x0c or \\u2028)."""

from __future__ import annotations

import re

LINE_BREAK = re.compile(r"\r\n|\r|\n")
