"""Readers: commentary files (txt, html, jsonl) to :class:`Article` records.

Each reader returns articles whose ``lines`` are the non-empty lines of the
page (one paragraph each) in order. A txt page keeps its title, byline, date
and chrome lines; :mod:`pipeline.text.segment` gives them their roles. HTML
pages go through trafilatura, which returns the body and the metadata apart;
a txt file whose content is markup is read as HTML. Files in an input folder
that no reader takes (a .docx, a .pdf) are rejects with the fix, never
skipped unlisted. Lines repeated across the articles of one folder are
recorded on each article (``repeated_lines``): page chrome repeats, prose
does not.
"""

from __future__ import annotations

import glob
import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.errors import DataError
from pipeline.io import MAX_FILE_BYTES, decode_text, sha256_bytes

log = logging.getLogger(__name__)

SUFFIXES = {
    ".txt": "txt",
    ".text": "txt",
    ".md": "txt",
    ".html": "html",
    ".htm": "html",
    ".jsonl": "jsonl",
    ".json": "jsonl",
}
# documents no reader takes: named on the command line or found in a folder, they are rejects with the fix
EXPORT_ONLY = {
    ".pdf",
    ".doc",
    ".docx",
    ".odt",
    ".rtf",
    ".pages",
    ".epub",
    ".xls",
    ".xlsx",
    ".ods",
    ".ppt",
    ".pptx",
    ".zip",
}


@dataclass
class Article:
    doc_id: str
    lines: list[str]
    path: str = ""
    file_hash: str = ""  # sha256 of the file's bytes as read (of the whole file for jsonl)
    encoding: str = ""  # the codec the bytes were decoded with (utf-8, utf-8-sig, cp1252, ...)
    title: str | None = None
    byline: str | None = None
    date: str | None = None
    url: str | None = None
    has_header: bool = True  # lines include title/byline/date lines to classify
    line_number: int | None = None  # for jsonl: the line this article came from
    meta: dict = field(default_factory=dict)
    repeated_lines: frozenset = frozenset()  # normalised lines also found in other articles of the same folder


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


def norm_line(line: str) -> str:
    """A line as compared across articles: case and spacing ignored."""
    return " ".join(line.split()).casefold()


HTML_START = re.compile(
    r"^(<\?xml[^>]*>\s*)?(<!--.*?-->\s*)*"
    r"<(!doctype\s+html|html|head|body|article|main|section|div|header|nav|p|h[1-6]|meta|title)\b",
    re.IGNORECASE | re.DOTALL,
)
HTML_BLOCK = re.compile(r"</(p|div|h[1-6]|article|section|li|td|body|html)\s*>", re.IGNORECASE)


def looks_like_html(text: str) -> bool:
    """Markup, whatever the file is called: it opens with an HTML element, or
    closes five block elements (a page pasted into a .txt after a few lines)."""
    head = text.lstrip("\ufeff \t\n")
    opens_as_html = bool(HTML_START.match(head[:4096]) and HTML_BLOCK.search(head))
    return opens_as_html or len(HTML_BLOCK.findall(head[:200_000])) >= 5


def read_txt(text: str, doc_id: str, path: str = "") -> Article:
    return Article(doc_id=doc_id, lines=_lines(text), path=path)


def read_html(text: str, doc_id: str, path: str = "") -> Article:
    """Extract body, title, byline and date from an HTML page with trafilatura."""
    import trafilatura

    doc = trafilatura.bare_extraction(
        text, with_metadata=True, include_comments=False, include_tables=False, favor_precision=True
    )
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
    """Read one file's bytes; bad files become rejects, not exceptions.

    Every article gets the sha256 of these bytes (``file_hash``) and the
    encoding they were decoded with; a txt file holding markup is read as HTML.
    """
    p = Path(name)
    kind = kind or SUFFIXES.get(p.suffix.lower(), "txt")
    try:
        if len(raw) > MAX_FILE_BYTES:
            raise DataError(f"{name}: {len(raw)} bytes is over the {MAX_FILE_BYTES}-byte limit per file; split it")
        text, encoding = decode_text(raw, name)
        log.debug("%s: decoded as %s", name, encoding)
        if kind == "jsonl":
            articles, rejects = read_jsonl(text, p.stem, name)
        elif kind == "html" or looks_like_html(text):
            if kind != "html":
                log.info("%s holds HTML; reading it as an HTML page", name)
            articles, rejects = [read_html(text, p.stem, name)], []
        else:
            articles, rejects = [read_txt(text, p.stem, name)], []
    except DataError as exc:
        msg = str(exc)
        prefix = f"{name}: "
        return [], [Reject(name, msg[len(prefix) :] if msg.startswith(prefix) else msg)]
    file_hash = sha256_bytes(raw)
    for a in articles:
        a.file_hash, a.encoding = file_hash, encoding
    return articles, rejects


def unreadable_reason(path: Path) -> str:
    """Why a file in an input folder is not read, and how to make it readable."""
    suffix = path.suffix.lower()
    known = ", ".join(sorted(SUFFIXES))
    if suffix in EXPORT_ONLY:
        return f"{suffix} files are not read (only {known}); export it to .txt or .html and add that file"
    what = f"extension '{suffix}'" if suffix else "no extension"
    return f"{what} is not one read ({known}); rename it to .txt if it is plain text, or export it to .txt or .html"


def _hidden(path: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(root).parts)


def expand_inputs(inputs: list[str]) -> tuple[list[Path], list[Reject]]:
    """Files, directories (recursively) and globs, sorted, without duplicates.

    A folder's files with an extension no reader takes, and a named file that
    is a document to export (.pdf, .docx, ...), are rejects saying so; hidden
    files (``.DS_Store``, ``.git/``) are not inputs and are passed over.
    """
    files: list[Path] = []
    rejects: list[Reject] = []
    for spec in inputs:
        p = Path(spec)
        if p.is_dir():
            found = sorted(f for f in p.rglob("*") if f.is_file() and not _hidden(f, p))
            readable = [f for f in found if f.suffix.lower() in SUFFIXES]
            rejects.extend(Reject(str(f), unreadable_reason(f)) for f in found if f.suffix.lower() not in SUFFIXES)
            if not readable:
                rejects.append(Reject(spec, f"directory has no {'/'.join(sorted(SUFFIXES))} files"))
            files.extend(readable)
            continue
        matches = [p] if p.is_file() else sorted(Path(m) for m in glob.glob(spec, recursive=True) if Path(m).is_file())
        if not matches:
            rejects.append(Reject(spec, "no such file, directory or glob match; check the path"))
        rejects.extend(Reject(str(f), unreadable_reason(f)) for f in matches if f.suffix.lower() in EXPORT_ONLY)
        files.extend(f for f in matches if f.suffix.lower() not in EXPORT_ONLY)
    seen, out = set(), []
    for f in files:
        if f.resolve() not in seen:
            seen.add(f.resolve())
            out.append(f)
    return out, rejects


def mark_repeated_lines(articles: list[Article]) -> None:
    """Set each article's ``repeated_lines``: the lines (normalised) that also
    appear in another article from the same folder. Mastheads, menus and
    sign-up lines repeat on every page of a site; an article's prose does not.
    """
    groups: dict[str, list[Article]] = {}
    for a in articles:
        groups.setdefault(str(Path(a.path).parent) if a.path else "", []).append(a)
    for group in groups.values():
        if len(group) < 2:
            continue
        seen: dict[str, int] = {}
        for a in group:
            for line in {norm_line(x) for x in a.lines}:
                seen[line] = seen.get(line, 0) + 1
        repeated = frozenset(line for line, n in seen.items() if n > 1)
        for a in group:
            a.repeated_lines = repeated


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
    mark_repeated_lines(articles)
    for r in rejects:
        log.warning("skipped %s", r)
    return articles, rejects
