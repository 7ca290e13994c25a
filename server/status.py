"""`nib/status`: what the editor shows in its status for a document (counts, never code)."""

from __future__ import annotations


def status(
    uri: str,
    *,
    excluded: bool = False,
    model: str = "",
    ms: int = 0,
    shown: bool = False,
    definitions: int = 0,
    chunks: int = 0,
) -> dict:
    """`nib/status`, for the editor's status of the document at uri: excluded, or which model
    answered its last ghost text, in how long, with what project context (counts, never code or
    names). model "": nothing answered yet."""
    return {
        "uri": uri,
        "excluded": excluded,
        "model": model,
        "ms": ms,
        "shown": shown,
        "definitions": definitions,
        "chunks": chunks,
    }
