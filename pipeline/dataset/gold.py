"""Gold labels: the guidelines' JSONL (plus CSV and Label Studio JSON exports), checked against the dispute.

Rows carry ``doc_id, index, paragraph, text, role, source, source_side, cue,
stance, credibility, confidence`` (and optionally ``form``, ``note``). An
article's ``<doc_id>.doc.json`` beside them holds its article-level answers.
Each checked row keeps ``where`` (file and line, or export task) so a row that
matches no passage can be named.
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
        raise DataError(
            f"{where}: stance '{row['stance']}' is not a side of dispute {dispute.name} ({', '.join(sides)}) "
            f"nor '{NEUTRAL}'; fix the label or the dispute config"
        )
    role = row.get("role") or "body"
    if role not in ROLES:
        raise DataError(f"{where}: role '{role}' is unknown; use one of {', '.join(ROLES)}")
    cred = row.get("credibility")
    if isinstance(cred, str) and cred.strip():
        side, _, judgment = cred.partition(":")
        cred = {"side": side.strip(), "judgment": judgment.strip()}
    if cred:
        if not isinstance(cred, dict) or cred.get("side") not in sides or cred.get("judgment") not in JUDGMENTS:
            raise DataError(
                f"{where}: credibility {cred!r} must be null or "
                f"{{side: one of {sides}, judgment: credible|not_credible}}; fix the label"
            )
    side = row.get("source_side")
    if side not in (None, "", "other", *sides):
        raise DataError(
            f"{where}: source_side '{side}' is not a side of {dispute.name} ({', '.join(sides)}), "
            "'other' or null; fix the label"
        )
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
        "where": where,
    }


LS_CHOICE_FIELDS = ("stance", "role", "source_side", "credibility", "confidence", "form")
LS_TEXT_FIELDS = ("source", "cue", "note")


def _label_studio_rows(path: Path, data) -> list[tuple[str, dict]]:
    """Gold rows from a Label Studio JSON export: a list of tasks, each with
    ``data`` (``text``, ``doc_id``, ``index``, optionally ``paragraph``) and
    ``annotations[].result[]`` whose ``from_name`` is a gold field: choices for
    stance, role, source_side, credibility (``SIDE:credible``, ``SIDE:not_credible``
    or ``none``), confidence and form; text areas for source, cue and note. The
    last annotation that was not cancelled is read; tasks without one are skipped.
    """
    if not isinstance(data, list):
        raise DataError(
            f"{path}: expected a Label Studio export (a JSON list of tasks), found a {type(data).__name__}; "
            "export the project as JSON, not JSON-MIN"
        )
    out = []
    for n, task in enumerate(data):
        where = f"{path}: task {n}" + (
            f" (id {task.get('id')})" if isinstance(task, dict) and task.get("id") is not None else ""
        )
        if not isinstance(task, dict) or not isinstance(task.get("data"), dict):
            raise DataError(
                f"{where}: expected an object with 'data' and 'annotations'; export the project as Label Studio JSON"
            )
        d = task["data"]
        for key in ("text", "doc_id", "index"):
            if d.get(key) in (None, ""):
                raise DataError(
                    f"{where}: data.{key} is missing; import tasks with data.text, data.doc_id and data.index "
                    "so labels can be joined to passages"
                )
        anns = [a for a in task.get("annotations") or [] if isinstance(a, dict) and not a.get("was_cancelled")]
        if not anns:
            continue
        row = {"doc_id": d["doc_id"], "index": d["index"], "paragraph": d.get("paragraph"), "text": d["text"]}
        for r in anns[-1].get("result") or []:
            name, value = r.get("from_name"), r.get("value") or {}
            if name in LS_CHOICE_FIELDS:
                choices = value.get("choices") or []
                if len(choices) != 1:
                    raise DataError(
                        f"{where}: field '{name}' has {len(choices)} choices {choices}; "
                        "pick exactly one (make the control single-choice)"
                    )
                row[name] = choices[0]
            elif name in LS_TEXT_FIELDS:
                texts = value.get("text") or []
                row[name] = texts[0] if texts else None
            else:
                raise DataError(
                    f"{where}: result field '{name}' is unknown; "
                    f"name the controls {', '.join(LS_CHOICE_FIELDS + LS_TEXT_FIELDS)}"
                )
        if str(row.get("credibility") or "").lower() in ("none", "null"):
            row["credibility"] = None
        if str(row.get("source_side") or "").lower() in ("none", "null", "author"):
            row["source_side"] = None
        out.append((where, row))
    return out


def _rows_from_file(path: Path) -> list[tuple[str, dict]]:
    if path.suffix == ".json":
        text = read_text(path)
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise DataError(
                f"{path}: line {e.lineno}: not valid JSON ({e.msg}); re-export it from Label Studio"
            ) from None
        return _label_studio_rows(path, data)
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


def load_gold(
    spec: str | None, dispute: Dispute, doc_ids: set[str] | None = None
) -> tuple[dict[str, dict[int, dict]], dict[str, dict]]:
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
        files = sorted(list(p.glob("*.gold.jsonl")) + list(p.glob("*.gold.csv")) + list(p.glob("*.gold.json")))
    elif p.is_file():
        files = [p]
    else:
        raise DataError(
            f"{spec}: gold labels not found; point 'labels' at a *.gold.jsonl, *.gold.csv "
            "or Label Studio *.json file, or a folder of them"
        )
    rows: dict[str, dict[int, dict]] = {}
    docs: dict[str, dict] = {}
    for f in files:
        doc_id = f.name.split(".gold.")[0]
        if (
            doc_ids is not None and p.is_dir() and doc_id not in doc_ids and f.suffix != ".json"
        ):  # an export holds many articles
            continue
        for where, raw in _rows_from_file(f):
            if doc_ids is not None and isinstance(raw, dict) and str(raw.get("doc_id")) not in doc_ids:
                continue
            row = _check_row(raw, dispute, where)
            rows.setdefault(row["doc_id"], {})[row["index"]] = row
        meta = f.with_name(f"{doc_id}.doc.json")
        if meta.is_file():
            docs[doc_id] = _check_answers(read_json(meta, "article answers"), dispute, meta)
    return rows, docs


def _check_answers(answers: dict, dispute, path: Path) -> dict:
    """An article's answers, with ``author_favors`` a side or ``neutral`` and ``more_credible`` a side or
    null (the article verdicts are fitted and scored against them)."""
    sides = list(dispute.side_names)
    checks = (("author_favors", [*sides, NEUTRAL], "neutral"), ("more_credible", [*sides, None], "null"))
    for key, allowed, other in checks:
        if key in answers and answers[key] not in allowed:
            raise DataError(
                f"{path}: {key}: '{answers[key]}' is not a side of dispute {dispute.name}; "
                f"use one of {', '.join(sides)} or {other}"
            )
    return answers
