"""File IO at the stage edges: robust text decoding, JSONL, atomic writes, hashes."""

from __future__ import annotations

import codecs
import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from pipeline.errors import DataError

MAX_FILE_BYTES = 20 * 1024 * 1024


def decode_text(raw: bytes, name: str) -> tuple[str, str]:
    """Decode a text file and say how: UTF-8 (with or without BOM), UTF-16 with
    BOM, else the best of cp1252/latin-1/iso8859-15 by charset-normalizer.

    Line endings are normalised (CRLF and lone CR become LF).

    Returns:
        ``(text, encoding)``: the encoding is Python's codec name
        (``utf-8``, ``utf-8-sig``, ``utf-16``, ``cp1252``, ...).
    Raises:
        DataError: empty or binary content.
    """
    if not raw.strip():
        raise DataError(f"{name}: file is empty; remove it or add text")
    if raw.startswith(codecs.BOM_UTF8):
        text, encoding = raw[len(codecs.BOM_UTF8) :].decode("utf-8", errors="replace"), "utf-8-sig"
    elif raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text, encoding = raw.decode("utf-16"), "utf-16"
    else:
        if b"\x00" in raw[:4096]:
            raise DataError(f"{name}: looks binary (NUL bytes), not text; pass .txt, .html or .jsonl files")
        try:
            text, encoding = raw.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            from charset_normalizer import from_bytes

            best = from_bytes(raw, cp_isolation=["cp1252", "latin_1", "iso8859_15", "utf_8"]).best()
            encoding = best.encoding if best is not None else "cp1252"
            text = raw.decode(encoding, errors="replace")
    controls = sum(1 for ch in text[:4096] if ord(ch) < 32 and ch not in "\n\r\t\f")
    if controls > max(8, len(text[:4096]) // 50):
        raise DataError(
            f"{name}: looks binary ({controls} control characters), not text; pass .txt, .html or .jsonl files"
        )
    return text.replace("\r\n", "\n").replace("\r", "\n"), encoding


def decode_bytes(raw: bytes, name: str) -> str:
    """The text of :func:`decode_text`, without the encoding."""
    return decode_text(raw, name)[0]


def read_text(path: str | Path, max_bytes: int = MAX_FILE_BYTES) -> str:
    """Read a text file of unknown encoding (see :func:`decode_bytes`)."""
    p = Path(path)
    if not p.is_file():
        raise DataError(f"{p}: file not found; check the path")
    size = p.stat().st_size
    if size > max_bytes:
        raise DataError(f"{p}: {size} bytes is over the {max_bytes}-byte limit per file; split it")
    return decode_bytes(p.read_bytes(), str(p))


def iter_jsonl(path: str | Path, text: str | None = None) -> Iterator[tuple[int, Any]]:
    """Yield ``(line_number, object)``; malformed lines raise a DataError naming the line."""
    text = read_text(path) if text is None else text
    for n, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        try:
            yield n, json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"{path}: line {n}: malformed JSON ({exc.msg}); fix or remove the line") from None


def sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def sha256_bytes(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def current_umask() -> int:
    """The process umask, read without changing it where Linux says it
    (``/proc/self/status``); elsewhere set and restored at once."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def share_as_umask_allows(path: str | Path) -> None:
    """Give a file the mode a plain ``open`` would (0666 less the umask): for
    files a library wrote through a private temporary file (mode 0600)."""
    os.chmod(path, 0o666 & ~current_umask())


@contextlib.contextmanager
def atomic_open(path: str | Path, mode: str = "w", encoding: str | None = "utf-8"):
    """Write to a temporary file beside ``path`` and rename it into place on success.

    The file ends with the mode a plain ``open`` would give it (0666 less the
    umask), not the temporary file's private 0600: outputs are shared like
    any other tool's.
    """
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    try:
        with os.fdopen(fd, mode, encoding=None if "b" in mode else encoding) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        share_as_umask_allows(tmp)
        os.replace(tmp, p)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_json(path: str | Path, obj: Any) -> None:
    with atomic_open(path) as f:
        json.dump(obj, f, indent=2, ensure_ascii=False, default=str)
        f.write("\n")


def write_jsonl(path: str | Path, rows: Iterable[dict]) -> None:
    with atomic_open(path) as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")


def write_text(path: str | Path, text: str) -> None:
    with atomic_open(path) as f:
        f.write(text)


def read_json(path: str | Path, what: str = "JSON file") -> Any:
    p = Path(path)
    if not p.is_file():
        raise DataError(f"{p}: {what} not found")
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DataError(f"{p}: line {exc.lineno}: malformed JSON ({exc.msg})") from None
