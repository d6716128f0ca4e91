"""Atomic file outputs with ordinary permissions.

Every output of cchc (processed tables, rejects, Biểu 06, reports, the index page) is written to a
temporary file in the destination folder and renamed into place, so a reader never sees half a
file and a failed run leaves the previous output whole. ``tempfile.mkstemp`` creates its file
with mode 0600 whatever the umask, and ``os.replace`` keeps that mode, so a colleague or a web
server could not read the result; the temporary file therefore gets the mode a plain ``open()``
would have given it (0666 minus the umask) before the rename.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def current_umask() -> int:
    """The process umask, read without changing it where the OS tells it (Linux /proc);
    elsewhere set-and-restore (a brief window in which another thread's new files would get 0o077,
    i.e. stricter, never looser, permissions)."""
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o077)
    os.umask(mask)
    return mask


def file_mode() -> int:
    """The mode a new regular file gets from ``open()``: 0666 minus the umask (0644 for 022)."""
    return 0o666 & ~current_umask()


def make_readable(path: str | Path) -> None:
    """Give a temporary file (mkstemp: 0600) the ordinary mode before it is renamed into place."""
    os.chmod(path, file_mode())


def temp_path(path: str | Path, suffix: str = ".tmp") -> Path:
    """A new empty temporary file next to ``path`` (same folder, so the rename is atomic),
    hidden (leading dot) and named after the output it will become."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix)
    os.close(fd)
    return Path(tmp)


@contextmanager
def atomic_path(path: str | Path, suffix: str = ".tmp") -> Iterator[Path]:
    """Yield a temporary path to write ``path``'s content to; on success it gets the ordinary
    file mode and replaces ``path`` atomically, on any error it is removed and ``path`` is left
    as it was. ``suffix`` matters to writers that choose a format by extension."""
    tmp = temp_path(path, suffix)
    try:
        yield tmp
        make_readable(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_bytes_atomic(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically, with the ordinary file mode."""
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return path


def write_text_atomic(path: str | Path, text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically, with the ordinary file mode."""
    return write_bytes_atomic(path, text.encode(encoding))
