"""A document's path on disk, from its URI: where jedi and project context look, and what `exclude` matches."""

from __future__ import annotations

import os


def real_path(path: str | None) -> str | None:
    """path with its symbolic links resolved; None for none, or a path the system refuses (a NUL)."""
    try:
        return os.path.realpath(path) if path else None
    except (OSError, ValueError):
        return None


def file_path(uri: str) -> str | None:
    """A file URI's path, for jedi to find the project and imports next to the file."""
    from urllib.parse import unquote, urlparse

    try:
        parsed = urlparse(uri)
    except ValueError:  # "file://[x/a.py": a client's malformed URI is a document without a path
        return None
    return unquote(parsed.path) if parsed.scheme == "file" else None
