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

from pipeline.dispute import load_dispute
from pipeline.errors import ConfigError, DataError
from pipeline.io import sha256_file, write_json
from pipeline.score.chunk import score_chunk
from pipeline.score.source_model import DEFAULT_THRESHOLD
from pipeline.text.readers import Article, Reject, expand_inputs, read_bytes

log = logging.getLogger(__name__)

STATE = "_score_state.json"


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


ENGINES = ("local", "ray")


def _check_engine(engine: str) -> None:
    if engine not in ENGINES:
        raise ConfigError(f"unknown engine {engine!r}; expected one of {', '.join(ENGINES)} (e.g. --engine local)")
    if engine == "ray":
        try:
            import ray  # noqa: F401
            import ray.data  # noqa: F401
        except ImportError:
            raise ConfigError("--engine ray needs Ray Data, which is not installed; install with pip install 'stance-pipeline[ray]' (from a checkout: pip install -e '.[ray]')") from None


def score(model_dir: str, dispute_path: str, inputs: list[str], output: str, fmt: str = "jsonl", batch_size: int = 64, chunk_articles: int = 32, progress: bool = True, command: str = "", predictor=None, backend: str = "torch", engine: str = "local", workers: int | None = None, ray_address: str | None = None,
          source_model: str | None = None, source_threshold: float = DEFAULT_THRESHOLD) -> dict:
    """Score articles and write passage rows, article rows and rejects to ``output``.

    Args:
        source_model: a source-side model folder (``make source-model``): it
            re-attributes passages where the attribution rules find no source
            (see :mod:`pipeline.score.source_model`); ``source_threshold`` is
            the probability it needs.
        backend: ``torch``, ``bf16``, ``int8``, ``onnx`` or ``onnx-int8`` (see :mod:`pipeline.score.backends`).
        engine: ``local`` (this process) or ``ray`` (Ray Data actors hold the
            model; same files, byte for byte, at the same thread count).
        workers: Ray actors (default: one per CPU of the cluster).
        ray_address: Ray cluster to join (default: ``RAY_ADDRESS``, else a local Ray).

    Returns:
        A summary dict (file paths, counts, and time spent per step).

    Raises:
        ConfigError: unknown engine, or Ray not installed for ``engine="ray"``.
        ModelError: not a model folder, or an unknown backend.
    """
    from tqdm import tqdm

    from pipeline.contracts import model_identity
    from pipeline.score.backends import BACKENDS, get_backend
    from pipeline.score.predictor import Predictor

    _check_engine(engine)
    if predictor is None and backend not in BACKENDS:
        get_backend(backend, Path(model_dir), [])  # raises the one-line ModelError
    dispute = load_dispute(dispute_path)
    source_classifier = None
    if source_model is not None:
        from pipeline.score.source_model import SourceSideClassifier

        source_classifier = SourceSideClassifier(source_model, threshold=source_threshold, batch_size=batch_size)  # checked here, also for Ray
    if engine == "local":
        predictor = predictor or Predictor(model_dir, batch_size=batch_size, backend=backend)
        model_version = predictor.model_version
    else:
        from pipeline.contracts import read_label_map

        read_label_map(model_dir)  # fail here, not in a remote actor
        model_version = model_identity(model_dir)[1]
    stdin_bytes = sys.stdin.buffer.read() if "-" in inputs else None
    out = Path(output)
    out.mkdir(parents=True, exist_ok=True)
    files = {k: out / f"{k}.jsonl.partial" for k in ("passages", "articles", "rejects")}
    state_path = out / STATE
    # the backend changes the numbers, the engine does not: a local run may be resumed on Ray
    version = model_version if backend == "torch" else f"{model_version}:{backend}"
    if source_classifier is not None:
        version += f"|source:{source_classifier.predictor.model_version}:{source_threshold}"
    fp = _fingerprint(version, dispute_path, inputs, stdin_bytes, fmt)
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
    t0 = time.time()
    timing = {"segment_attribute_s": 0.0, "model_s": 0.0}
    bar = tqdm(desc="scoring", unit=" articles", disable=not progress, initial=state["articles_done"])

    def write_reject(r: Reject) -> None:
        log.warning("rejected %s", r)
        handles["rejects"].write((json.dumps({"file": r.path, "line": r.line, "reason": r.reason}, ensure_ascii=False) + "\n").encode())
        state["rejects"] += 1

    def checkpoint(n_articles: int, res: dict) -> None:
        handles["passages"].write(res["passages"])
        handles["articles"].write(res["articles"])
        state["passages"] += res["n_passages"]
        state["articles"] += n_articles
        state["articles_done"] += n_articles
        timing["segment_attribute_s"] += res["segment_s"]
        timing["model_s"] += res["model_s"]
        for k, h in handles.items():
            h.flush()
            os.fsync(h.fileno())
            state["bytes"][k] = h.tell()
        write_json(state_path, state)
        elapsed = max(time.time() - t0, 1e-9)
        bar.update(n_articles)
        bar.set_postfix(passages=state["passages"], **{"passages/s": f"{state['passages'] / elapsed:.0f}"})

    try:
        chunks = iter_chunks(inputs, stdin_bytes, chunk_articles, skip_articles=state["articles_done"], skip_rejects=state["rejects"], on_reject=write_reject)
        if engine == "local":
            results = ((len(batch), score_chunk(predictor, batch, dispute, source_classifier)) for batch in chunks)
        else:
            from pipeline.score.ray_engine import score_chunks_ray

            results = score_chunks_ray(chunks, model_dir, dispute, backend=backend, batch_size=batch_size, workers=workers, address=ray_address,
                                       source_model=source_model, source_threshold=source_threshold)
        for n_articles, res in results:
            checkpoint(n_articles, res)
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
    seconds = time.time() - t0
    summary = {"passages": state["passages"], "articles": state["articles"], "rejects": state["rejects"], "passages_file": str(final["passages"]), "articles_file": str(final["articles"]), "rejects_file": str(final["rejects"]), "seconds": round(seconds, 2), "command": command,
               "backend": backend, "engine": engine, "timing": {k: round(v, 3) for k, v in timing.items()}}
    state.update(complete=True, summary=summary)
    write_json(state_path, state)
    log.info("scored %d articles, %d passages (%d rejected) in %.1f s", state["articles"], state["passages"], state["rejects"], summary["seconds"])
    return summary


def iter_chunks(inputs: list[str], stdin_bytes: bytes | None, chunk_articles: int, skip_articles: int = 0, skip_rejects: int = 0, on_reject=None) -> Iterator[list[Article]]:
    """Articles in input order, grouped ``chunk_articles`` at a time, after the first ``skip_articles``.

    Rejects go to ``on_reject`` as they are met, except the first ``skip_rejects``
    (already written by an interrupted run).
    """
    seen = rejects_seen = 0
    pending: list[Article] = []
    for arts, rejects in iter_articles(inputs, stdin_bytes):
        for r in rejects:
            rejects_seen += 1
            if rejects_seen > skip_rejects and on_reject is not None:
                on_reject(r)
        for a in arts:
            seen += 1
            if seen <= skip_articles:
                continue
            pending.append(a)
            if len(pending) >= chunk_articles:
                yield pending
                pending = []
    if pending:
        yield pending


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
