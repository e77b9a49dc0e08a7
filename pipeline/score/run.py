"""``stance score``: batch-score new articles, resumably.

Articles stream from the inputs in a fixed order and are scored in chunks.
After each chunk the passage, article and reject rows are appended to
``*.partial`` files and a state file records how many articles and bytes are
done, so an interrupted run started again with the same arguments truncates
any half-written tail and continues after the last finished chunk, without
duplicating or losing rows. Finished files are renamed into place.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import Iterator

from pipeline.build.attribution import attribute_passages
from pipeline.build.readers import Article, Reject, expand_inputs, read_bytes
from pipeline.build.segment import segment_article
from pipeline.dispute import Dispute, load_dispute
from pipeline.errors import DataError
from pipeline.evaluate.verdicts import article_verdict
from pipeline.io import sha256_file, write_json

log = logging.getLogger(__name__)

STATE = "_score_state.json"
PASSAGE_FIELDS = ("doc_id", "index", "paragraph", "text", "role", "source", "source_side", "cue", "form", "stance", "stance_prob", "stance_probs", "credibility", "credibility_prob", "model_id", "model_version", "file", "file_hash")


def iter_articles(inputs: list[str], stdin_bytes: bytes | None = None) -> Iterator[tuple[list[Article], list[Reject]]]:
    """Yield (articles, rejects) per input file, in a fixed order; ``-`` is JSONL on stdin."""
    paths = [i for i in inputs if i != "-"]
    files, rejects = expand_inputs(paths) if paths else ([], [])
    if rejects:
        yield [], rejects
    if "-" in inputs:
        yield read_bytes(stdin_bytes or b"", "<stdin>", kind="jsonl")
    for f in files:
        try:
            raw = f.read_bytes()
        except OSError as exc:
            yield [], [Reject(str(f), f"cannot read ({exc.strerror})")]
            continue
        yield read_bytes(raw, str(f))


def article_rows(article: Article, dispute: Dispute) -> list[dict]:
    """Segment and attribute one article (no model yet)."""
    passages = segment_article(article)
    body = [p for p in passages if p.role == "body"]
    atts = attribute_passages([p.text for p in body], [p.paragraph for p in body], dispute)
    att_of = {p.index: a for p, a in zip(body, atts)}
    rows, prev = [], None
    for p in passages:
        a = att_of.get(p.index)
        rows.append({
            "doc_id": article.doc_id, "dispute": dispute.name, "index": p.index, "paragraph": p.paragraph, "text": p.text, "role": p.role,
            "context": prev if p.role == "body" else None,
            "source": a.source if a else "author", "source_side": a.source_side if a else None, "cue": a.cue if a else None, "form": a.form if a else None,
            "file": article.path, "file_hash": article.file_hash, "title": article.title, "byline": article.byline, "date": article.date,
        })
        if p.role == "body":
            prev = p.text
    return rows


def _fingerprint(model_version: str, dispute_path: str, inputs: list[str], stdin_bytes: bytes | None, fmt: str) -> str:
    h = hashlib.sha256()
    h.update(json.dumps([model_version, sha256_file(dispute_path), fmt]).encode())
    for i in inputs:
        if i == "-":
            h.update(hashlib.sha256(stdin_bytes or b"").digest())
            continue
        files, _ = expand_inputs([i])
        for f in files:
            st = f.stat()
            h.update(f"{f.resolve()}:{st.st_size}:{st.st_mtime_ns}".encode())
    return h.hexdigest()


def _truncate(path: Path, size: int) -> None:
    if path.exists():
        with open(path, "r+b") as f:
            f.truncate(size)
    elif size:
        raise DataError(f"{path}: partial output missing but the state file says {size} bytes were written; delete the output folder and rerun")


def score(model_dir: str, dispute_path: str, inputs: list[str], output: str, fmt: str = "jsonl", batch_size: int = 64, chunk_articles: int = 32, progress: bool = True, command: str = "", predictor=None) -> dict:
    """Score articles and write passage rows, article rows and rejects to ``output``.

    Returns:
        A summary dict (file paths and counts).
    """
    from tqdm import tqdm

    from pipeline.score.predictor import Predictor, score_passages

    dispute = load_dispute(dispute_path)
    predictor = predictor or Predictor(model_dir, batch_size=batch_size)
    stdin_bytes = sys.stdin.buffer.read() if "-" in inputs else None
    out = Path(output)
    out.mkdir(parents=True, exist_ok=True)
    files = {k: out / f"{k}.jsonl.partial" for k in ("passages", "articles", "rejects")}
    state_path = out / STATE
    fp = _fingerprint(predictor.model_version, dispute_path, inputs, stdin_bytes, fmt)
    state = {"fingerprint": fp, "articles_done": 0, "bytes": {k: 0 for k in files}, "passages": 0, "articles": 0, "rejects": 0}
    if state_path.is_file():
        old = json.loads(state_path.read_text())
        if old.get("fingerprint") == fp and not old.get("complete"):
            state = old
            for k, f in files.items():
                _truncate(f, state["bytes"][k])
            log.info("resuming: %d articles already scored in %s", state["articles_done"], out)
        elif old.get("fingerprint") == fp and old.get("complete"):
            log.info("%s is already complete for these inputs; nothing to do", out)
            return old["summary"]
    if state["articles_done"] == 0:
        for f in files.values():
            f.write_bytes(b"")
    handles = {k: open(f, "ab") for k, f in files.items()}
    seen = 0
    t0 = time.time()
    bar = tqdm(desc="scoring", unit=" articles", disable=not progress, initial=state["articles_done"])
    pending: list[Article] = []
    rejects_seen = 0

    def flush(batch: list[Article]) -> None:
        rows_per = [article_rows(a, dispute) for a in batch]
        flat = [r for rows in rows_per for r in rows]
        scored = score_passages(predictor, flat, dispute)
        pos = 0
        for rows in rows_per:
            doc = scored[pos:pos + len(rows)]
            pos += len(rows)
            for r in doc:
                rec = {k: r.get(k) for k in PASSAGE_FIELDS}
                rec["model_id"], rec["model_version"] = predictor.model_id, predictor.model_version
                handles["passages"].write((json.dumps(rec, ensure_ascii=False) + "\n").encode())
            v = article_verdict(doc, dispute.side_names)
            v.update(file=doc[0]["file"] if doc else None, file_hash=doc[0]["file_hash"] if doc else None, model_id=predictor.model_id, model_version=predictor.model_version)
            handles["articles"].write((json.dumps(v, ensure_ascii=False) + "\n").encode())
            state["passages"] += len(doc)
        state["articles"] += len(batch)
        state["articles_done"] += len(batch)
        for k, h in handles.items():
            h.flush()
            os.fsync(h.fileno())
            state["bytes"][k] = h.tell()
        write_json(state_path, state)
        elapsed = max(time.time() - t0, 1e-9)
        bar.update(len(batch))
        bar.set_postfix(passages=state["passages"], **{"passages/s": f"{state['passages'] / elapsed:.0f}"})

    try:
        for arts, rejects in iter_articles(inputs, stdin_bytes):
            for r in rejects:
                rejects_seen += 1
                if rejects_seen <= state["rejects"]:
                    continue
                log.warning("rejected %s", r)
                handles["rejects"].write((json.dumps({"file": r.path, "line": r.line, "reason": r.reason}, ensure_ascii=False) + "\n").encode())
                state["rejects"] += 1
            for a in arts:
                seen += 1
                if seen <= state["articles_done"]:
                    continue
                pending.append(a)
                if len(pending) >= chunk_articles:
                    flush(pending)
                    pending = []
        if pending:
            flush(pending)
        for k, h in handles.items():
            h.flush()
            os.fsync(h.fileno())
            state["bytes"][k] = h.tell()
    finally:
        for h in handles.values():
            h.close()
        bar.close()
    final = {k: out / f"{k}.{fmt if k != 'rejects' else 'jsonl'}" for k in files}
    for k, f in files.items():
        if fmt == "jsonl" or k == "rejects":
            os.replace(f, final[k])
        else:
            _convert(f, final[k], fmt)
            f.unlink()
    summary = {"passages": state["passages"], "articles": state["articles"], "rejects": state["rejects"], "passages_file": str(final["passages"]), "articles_file": str(final["articles"]), "rejects_file": str(final["rejects"]), "seconds": round(time.time() - t0, 2), "command": command}
    state.update(complete=True, summary=summary)
    write_json(state_path, state)
    log.info("scored %d articles, %d passages (%d rejected) in %.1f s", state["articles"], state["passages"], state["rejects"], summary["seconds"])
    return summary


def _convert(src: Path, dst: Path, fmt: str) -> None:
    import pandas as pd

    from pipeline.io import atomic_open

    rows = [json.loads(line) for line in src.read_text(encoding="utf-8").splitlines() if line]
    flat = [{k: (json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else v) for k, v in r.items()} for r in rows]
    df = pd.DataFrame(flat)
    with atomic_open(dst, "wb") as f:
        if fmt == "csv":
            f.write(df.to_csv(index=False).encode("utf-8"))
        else:
            df.to_parquet(f, index=False)
