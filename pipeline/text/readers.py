"""Readers: commentary files (txt, html, jsonl) to :class:`Article` records.

Each reader returns articles whose ``lines`` are the non-empty lines of the
page (one paragraph each) in order. A txt page keeps its title, byline, date
and chrome lines; :mod:`pipeline.text.segment` gives them their roles. HTML
pages go through trafilatura, which returns the body and the metadata apart.
"""

from __future__ import annotations

import glob
import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.errors import DataError
from pipeline.io import MAX_FILE_BYTES, decode_bytes, sha256_text

log = logging.getLogger(__name__)

SUFFIXES = {".txt": "txt", ".text": "txt", ".md": "txt", ".html": "html", ".htm": "html", ".jsonl": "jsonl", ".json": "jsonl"}


@dataclass
class Article:
    doc_id: str
    lines: list[str]
    path: str = ""
    file_hash: str = ""
    title: str | None = None
    byline: str | None = None
    date: str | None = None
    url: str | None = None
    has_header: bool = True  # lines include title/byline/date lines to classify
    line_number: int | None = None  # for jsonl: the line this article came from
    meta: dict = field(default_factory=dict)


@dataclass
class Reject:
    path: str
    reason: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.path}: line {self.line}" if self.line else self.path
        return f"{where}: {self.reason}"


def _lines(text: str) -> list[str]:
    return [re.sub(r"[ \t\u00a0]+", " ", ln).strip() for ln in text.split("\n") if ln.strip()]


def read_txt(text: str, doc_id: str, path: str = "") -> Article:
    return Article(doc_id=doc_id, lines=_lines(text), path=path, file_hash=sha256_text(text))


def read_html(text: str, doc_id: str, path: str = "") -> Article:
    """Extract body, title, byline and date from an HTML page with trafilatura."""
    import trafilatura

    doc = trafilatura.bare_extraction(text, with_metadata=True, include_comments=False, include_tables=False, favor_precision=True)
    body = getattr(doc, "text", None) if doc is not None else None
    if not body:
        raise DataError(f"{path or doc_id}: no article text found in the HTML; check it is an article page")
    lines = _lines(body)
    title = getattr(doc, "title", None)
    if title and lines and lines[0] == title.strip():
        lines = lines[1:]
    return Article(
        doc_id=doc_id,
        lines=lines,
        path=path,
        file_hash=sha256_text(text),
        title=title,
        byline=getattr(doc, "author", None),
        date=getattr(doc, "date", None),
        url=getattr(doc, "url", None),
        has_header=False,
    )


def read_jsonl(text: str, stem: str, path: str = "") -> tuple[list[Article], list[Reject]]:
    """One article per line: ``text`` plus optional ``title, byline, date, url, doc_id``."""
    arts, rejects = [], []
    for n, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            rejects.append(Reject(path, f"malformed JSON ({exc.msg}); fix or remove the line", n))
            continue
        if not isinstance(obj, dict) or not isinstance(obj.get("text"), str) or not obj["text"].strip():
            rejects.append(Reject(path, "expected an object with a non-empty 'text' field", n))
            continue
        doc_id = str(obj.get("doc_id") or f"{stem}-{n}")
        arts.append(
            Article(
                doc_id=doc_id,
                lines=_lines(obj["text"]),
                path=path,
                file_hash=sha256_text(line),
                title=obj.get("title"),
                byline=obj.get("byline"),
                date=obj.get("date"),
                url=obj.get("url"),
                has_header=False,
                line_number=n,
                meta={k: v for k, v in obj.items() if k not in {"text", "title", "byline", "date", "url", "doc_id"}},
            )
        )
    return arts, rejects


def read_bytes(raw: bytes, name: str, kind: str | None = None) -> tuple[list[Article], list[Reject]]:
    """Read one file's bytes; bad files become rejects, not exceptions."""
    p = Path(name)
    kind = kind or SUFFIXES.get(p.suffix.lower(), "txt")
    try:
        if len(raw) > MAX_FILE_BYTES:
            raise DataError(f"{name}: {len(raw)} bytes is over the {MAX_FILE_BYTES}-byte limit per file; split it")
        text = decode_bytes(raw, name)
        if kind == "jsonl":
            return read_jsonl(text, p.stem, name)
        if kind == "html" or (kind == "txt" and text.lstrip()[:15].lower().startswith(("<!doctype html", "<html"))):
            return [read_html(text, p.stem, name)], []
        return [read_txt(text, p.stem, name)], []
    except DataError as exc:
        msg = str(exc)
        prefix = f"{name}: "
        return [], [Reject(name, msg[len(prefix):] if msg.startswith(prefix) else msg)]


def expand_inputs(inputs: list[str]) -> tuple[list[Path], list[Reject]]:
    """Files, directories (recursively, known suffixes) and globs, sorted, without duplicates."""
    files: list[Path] = []
    rejects: list[Reject] = []
    for spec in inputs:
        p = Path(spec)
        if p.is_dir():
            found = sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in SUFFIXES)
            if not found:
                rejects.append(Reject(spec, f"directory has no {'/'.join(sorted(SUFFIXES))} files"))
            files.extend(found)
        elif p.is_file():
            files.append(p)
        else:
            matches = sorted(Path(m) for m in glob.glob(spec, recursive=True) if Path(m).is_file())
            if not matches:
                rejects.append(Reject(spec, "no such file, directory or glob match; check the path"))
            files.extend(matches)
    seen, out = set(), []
    for f in files:
        if f.resolve() not in seen:
            seen.add(f.resolve())
            out.append(f)
    return out, rejects


def read_inputs(inputs: list[str]) -> tuple[list[Article], list[Reject]]:
    """Read every input; continue past bad files and return what was skipped."""
    files, rejects = expand_inputs(inputs)
    articles: list[Article] = []
    for f in files:
        try:
            raw = f.read_bytes()
        except OSError as exc:
            rejects.append(Reject(str(f), f"cannot read ({exc.strerror})"))
            continue
        arts, rej = read_bytes(raw, str(f))
        articles.extend(arts)
        rejects.extend(rej)
    for r in rejects:
        log.warning("skipped %s", r)
    return articles, rejects
