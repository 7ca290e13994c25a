"""Open documents, kept in step with the client's incremental edits."""

from __future__ import annotations

from dataclasses import dataclass, field

from . import positions


@dataclass
class Document:
    uri: str
    text: str
    version: int
    _starts: list[int] | None = field(default=None, repr=False)

    @property
    def starts(self) -> list[int]:
        if self._starts is None:
            self._starts = positions.line_starts(self.text)
        return self._starts

    def offset(self, line: int, character: int, encoding: str) -> int:
        return positions.offset_at(self.text, self.starts, line, character, encoding)

    def position(self, offset: int, encoding: str) -> tuple[int, int]:
        return positions.position_at(self.text, self.starts, offset, encoding)

    def apply(self, start: tuple[int, int] | None, end: tuple[int, int] | None, new_text: str, encoding: str) -> None:
        """Replace the range (or everything, when start is None) with new_text.

        Out-of-range positions clamp (LSP: past the end of a line is its end);
        an end before its start is treated as an insertion at the start.
        """
        if start is None or end is None:
            self.text = new_text
            self._starts = None
        else:
            a = self.offset(*start, encoding)  # (computes the old line starts, if not yet)
            b = max(a, self.offset(*end, encoding))
            old_starts = self.starts
            self.text = self.text[:a] + new_text + self.text[b:]
            self._starts = positions.edit_line_starts(old_starts, self.text, a, b, len(new_text))


class Documents:
    def __init__(self):
        self._docs: dict[str, Document] = {}

    def open(self, uri: str, text: str, version: int) -> Document:
        doc = self._docs[uri] = Document(uri, text, version)
        return doc

    def get(self, uri: str) -> Document | None:
        return self._docs.get(uri)

    def close(self, uri: str) -> None:
        self._docs.pop(uri, None)

    def uris(self) -> list[str]:
        return list(self._docs)

    def count(self) -> int:
        return len(self._docs)

    def chars(self) -> int:
        """The characters of all open documents together."""
        return sum(len(d.text) for d in self._docs.values())
