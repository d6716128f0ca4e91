"""Windows-1258 and UTF-16 text as a stream of NFC-normalised UTF-8 (issue 16: bounded memory).

The whole-file reader (``reading.csv_layout``) decodes such a file at once and normalises the
text to NFC (Windows-1258 writes Vietnamese letters as a base letter plus a combining tone
mark). Here the same text comes piece by piece: the file is decoded a block at a time by the
codec's incremental decoder, and each piece is cut just before a line end, where NFC cannot
reach across (a CR or LF is a starter that composes with nothing, and canonical reordering
stops at a starter), so the pieces joined are exactly ``NFC(whole text)``. The streaming CSV
reader (ingest/read_batches.py) reads the pieces encoded as UTF-8; header detection reads the head.
"""

from __future__ import annotations

import codecs
import io
import unicodedata
from collections.abc import Generator
from pathlib import Path

TRANSCODE_BLOCK = 1 << 20  # bytes decoded at a time


def nfc_pieces(path: Path, encoding: str, block: int | None = None) -> Generator[str, None, None]:
    """The file's text, NFC-normalised, in pieces; joined they equal
    ``unicodedata.normalize("NFC", path.read_bytes().decode(encoding))``. A piece holds about
    one block of the file (more only when a line is longer than a block).

    UnicodeDecodeError when the file is not in ``encoding`` (raised where the bad byte is)."""
    decoder = codecs.getincrementaldecoder(encoding)()
    size = block or TRANSCODE_BLOCK
    carry = ""
    with path.open("rb") as fh:
        while True:
            data = fh.read(size)
            final = not data
            text = carry + decoder.decode(data, final=final)
            if final:
                if text:
                    yield unicodedata.normalize("NFC", text)
                return
            cut = max(text.rfind("\n"), text.rfind("\r"))
            if cut <= 0:
                carry = text  # no line end yet (or only at the start): wait for more
                continue
            carry = text[cut:]
            yield unicodedata.normalize("NFC", text[:cut])


def text_head(path: Path, encoding: str, limit: int) -> tuple[str, bool]:
    """The first ``limit`` characters of the file's NFC text and whether that is all of it:
    ``(text[:limit], len(text) <= limit)`` of the whole decoded text, reading little more
    than ``limit`` characters of the file."""
    got: list[str] = []
    held = 0
    for piece in nfc_pieces(path, encoding, block=max(limit, 1)):
        got.append(piece)
        held += len(piece)
        if held > limit:
            return "".join(got)[:limit], False
    return "".join(got), True


class TranscodedText(io.RawIOBase):
    """The file's NFC text as UTF-8 bytes, a readable stream, without the line ends at its very
    end (as ``read_batches._Upto`` leaves them out of a UTF-8 file)."""

    def __init__(self, path: Path, encoding: str, block: int | None = None) -> None:
        super().__init__()
        self._pieces = nfc_pieces(path, encoding, block)
        self._buf = b""
        self._pos = 0
        self._held = ""  # line ends not passed on yet: dropped if nothing follows them

    def readable(self) -> bool:
        return True

    def _refill(self) -> bool:
        for piece in self._pieces:
            piece = self._held + piece
            kept = piece.rstrip("\r\n")
            self._held = piece[len(kept):]
            if kept:
                self._buf, self._pos = kept.encode("utf-8"), 0
                return True
        return False

    def readinto(self, buffer) -> int:
        if self._pos >= len(self._buf) and not self._refill():
            return 0
        out = memoryview(buffer).cast("B")
        n = min(len(out), len(self._buf) - self._pos)
        out[:n] = self._buf[self._pos:self._pos + n]
        self._pos += n
        return n

    def close(self) -> None:
        self._pieces.close()  # closes the file
        super().close()
