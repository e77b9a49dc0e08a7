"""Gold labels: the guidelines' JSONL (plus CSV), checked against the dispute.

Rows carry ``doc_id, index, paragraph, text, role, source, source_side, cue,
stance, credibility, confidence`` (and optionally ``form``, ``note``). An
article's ``<doc_id>.doc.json`` beside them holds its article-level answers.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from pipeline.dispute import Dispute
from pipeline.errors import DataError
from pipeline.io import iter_jsonl, read_json, read_text
from pipeline.labels import FORMS, JUDGMENTS, NEUTRAL, ROLES

REQUIRED = ("doc_id", "index", "text", "stance")


def _check_row(row: dict, dispute: Dispute, where: str) -> dict:
    if not isinstance(row, dict):
        raise DataError(f"{where}: expected a JSON object per line")
    for key in REQUIRED:
        if key not in row:
            raise DataError(f"{where}: missing field '{key}'; every gold row needs {', '.join(REQUIRED)}")
    sides = dispute.side_names
    if row["stance"] not in sides + [NEUTRAL]:
        raise DataError(f"{where}: stance '{row['stance']}' is not a side of dispute {dispute.name} ({', '.join(sides)}) nor '{NEUTRAL}'; fix the label or the dispute config")
    role = row.get("role") or "body"
    if role not in ROLES:
        raise DataError(f"{where}: role '{role}' is unknown; use one of {', '.join(ROLES)}")
    cred = row.get("credibility")
    if isinstance(cred, str) and cred.strip():
        side, _, judgment = cred.partition(":")
        cred = {"side": side.strip(), "judgment": judgment.strip()}
    if cred:
        if not isinstance(cred, dict) or cred.get("side") not in sides or cred.get("judgment") not in JUDGMENTS:
            raise DataError(f"{where}: credibility {cred!r} must be null or {{side: one of {sides}, judgment: credible|not_credible}}; fix the label")
    side = row.get("source_side")
    if side not in (None, "", "other", *sides):
        raise DataError(f"{where}: source_side '{side}' is not a side of {dispute.name} ({', '.join(sides)}), 'other' or null; fix the label")
    form = row.get("form")
    if form not in (None, "", *FORMS):
        raise DataError(f"{where}: form '{form}' is unknown; use one of {', '.join(FORMS)} or null")
    try:
        index = int(row["index"])
        paragraph = int(row["paragraph"]) if row.get("paragraph") not in (None, "") else None
    except (TypeError, ValueError):
        raise DataError(f"{where}: index and paragraph must be integers") from None
    return {
        "doc_id": str(row["doc_id"]),
        "index": index,
        "paragraph": paragraph,
        "text": str(row["text"]),
        "role": role,
        "source": row.get("source") or "author",
        "source_side": side or None,
        "cue": row.get("cue") or None,
        "form": form or None,
        "stance": row["stance"],
        "credibility": cred or None,
        "confidence": row.get("confidence") or "high",
    }


def _rows_from_file(path: Path) -> list[tuple[str, dict]]:
    if path.suffix == ".csv":
        text = read_text(path)
        reader = csv.DictReader(io.StringIO(text))
        missing = [k for k in REQUIRED if k not in (reader.fieldnames or [])]
        if missing:
            raise DataError(f"{path}: CSV is missing column '{missing[0]}'; gold CSVs need {', '.join(REQUIRED)}")
        out = []
        for n, row in enumerate(reader, 2):
            if isinstance(row.get("credibility"), str) and row["credibility"].startswith("{"):
                row["credibility"] = json.loads(row["credibility"])
            out.append((f"{path}: line {n}", {k: (v if v != "" else None) for k, v in row.items()}))
        return out
    return [(f"{path}: line {n}", obj) for n, obj in iter_jsonl(path)]


def load_gold(spec: str | None, dispute: Dispute, doc_ids: set[str] | None = None) -> tuple[dict[str, dict[int, dict]], dict[str, dict]]:
    """Read gold rows and article answers from a file or a folder.

    Args:
        spec: a gold file, or a folder of ``<doc_id>.gold.jsonl`` files.
        dispute: labels are checked against its sides.
        doc_ids: when given, only these articles' labels are read.

    Returns:
        ``(rows, docs)``: ``rows[doc_id][index]`` is a checked gold row,
        ``docs[doc_id]`` the article-level answers from ``<doc_id>.doc.json``.
    Raises:
        DataError: a missing path, malformed line or unknown label, naming the
            file and line.
    """
    if not spec:
        return {}, {}
    p = Path(spec)
    if p.is_dir():
        files = sorted(list(p.glob("*.gold.jsonl")) + list(p.glob("*.gold.csv")))
    elif p.is_file():
        files = [p]
    else:
        raise DataError(f"{spec}: gold labels not found; point 'labels' at a *.gold.jsonl file or a folder of them")
    rows: dict[str, dict[int, dict]] = {}
    docs: dict[str, dict] = {}
    for f in files:
        doc_id = f.name.split(".gold.")[0]
        if doc_ids is not None and p.is_dir() and doc_id not in doc_ids:
            continue
        for where, raw in _rows_from_file(f):
            if doc_ids is not None and isinstance(raw, dict) and str(raw.get("doc_id")) not in doc_ids:
                continue
            row = _check_row(raw, dispute, where)
            rows.setdefault(row["doc_id"], {})[row["index"]] = row
        meta = f.with_name(f"{doc_id}.doc.json")
        if meta.is_file():
            docs[doc_id] = read_json(meta, "article answers")
    return rows, docs
