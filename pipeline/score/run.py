"""``stance score``: batch-score new articles, resumably.

Articles stream from the inputs in a fixed order and are scored in chunks.
After each chunk the passage, article and reject rows are appended to
``*.partial`` files and a state file records how many articles and bytes are
done, so an interrupted run started again with the same arguments truncates
any half-written tail and continues after the last finished chunk, without
duplicating or losing rows. Finished files are renamed into place.

:func:`score` reads as its steps: check the config, load the models, open
(or resume) the output folder, stream scored chunks into it, finish.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, BinaryIO

from pipeline import __version__
from pipeline.config import ScoreConfig, validate_score
from pipeline.dispute import Dispute, load_dispute
from pipeline.errors import DataError
from pipeline.io import sha256_file, write_json
from pipeline.score.chunk import score_chunk
from pipeline.score.extras import require_extra
from pipeline.text.readers import Article, Reject, expand_inputs, norm_line, read_bytes

log = logging.getLogger(__name__)

STATE = "_score_state.json"
OUTPUTS = ("passages", "articles", "rejects")


@dataclass
class Models:
    """What scores: the predictor (None on the Ray engine, whose actors load their own) and the source-side model."""

    predictor: Any
    source_classifier: Any
    version: str  # model version, backend and source model: what the run's fingerprint reads
    backend: str  # the backend that runs: ``auto`` resolved for this machine
    row_version: str  # the model version written into every scored row
    tagger: Any = None  # the attribution model (None: the rules attribute)


@dataclass
class ScoreRun:
    """An output folder being written: the open ``*.partial`` files and the state checkpointed after each chunk
    (a context manager: leaving it closes the files)."""

    out: Path
    state: dict
    handles: dict[str, BinaryIO] = field(default_factory=dict)
    timing: dict[str, float] = field(default_factory=lambda: {"segment_attribute_s": 0.0, "model_s": 0.0})
    t0: float = field(default_factory=time.time)
    bar: Any = None

    def partial(self, name: str) -> Path:
        return self.out / f"{name}.jsonl.partial"

    def sync(self) -> None:
        """Flush the files to disk and record their sizes in the state (not yet written)."""
        for k, h in self.handles.items():
            h.flush()
            os.fsync(h.fileno())
            self.state["bytes"][k] = h.tell()

    def __enter__(self) -> ScoreRun:
        return self

    def __exit__(self, *exc) -> None:
        for h in self.handles.values():
            h.close()
        if self.bar is not None:
            self.bar.close()


def score(cfg: ScoreConfig, inputs: list[str], *, command: str = "", predictor=None) -> dict:
    """Score articles and write passage rows, article rows and rejects to ``cfg.output``.

    Args:
        cfg: the model, dispute, output folder and how to score (see
            :class:`pipeline.config.ScoreConfig`); validated before anything loads.
        inputs: files, directories or globs, in the order they are read; ``-``
            is JSONL on standard input.
        command: the command line, kept in the summary.
        predictor: a loaded :class:`~pipeline.score.predictor.Predictor` to
            use instead of loading ``cfg.model`` (local engine only).

    Returns:
        A summary dict (file paths, counts, time spent per step, the config).

    Raises:
        ConfigError: a bad config value, or a missing extra (``[ray]``, ``[parquet]``).
        ModelError: not a model folder, an unknown backend, or a missing ``[onnx]`` extra.
    """
    check_score(cfg, predictor)
    dispute = load_dispute(cfg.dispute)
    models = load_models(cfg, predictor)
    stdin_bytes = sys.stdin.buffer.read() if "-" in inputs else None
    fingerprint = _fingerprint(models.version, cfg.dispute, inputs, stdin_bytes, cfg.format)
    run = open_run(Path(cfg.output), fingerprint, cfg.progress)
    if run.state.get("complete"):
        log.info("%s is already complete for these inputs; nothing to do", run.out)
        return run.state["summary"]
    # closed on the way out, also on an error: the files, and the chunk stream now rather than when collected
    # (the Ray engine gives its actors back)
    with run, closing(scored_chunks(cfg, inputs, stdin_bytes, dispute, models, run)) as results:
        for n_articles, res in results:
            commit_chunk(run, n_articles, res)
        run.sync()
    return finish(run, cfg, inputs, command, models.backend)


def check_score(cfg: ScoreConfig, predictor=None) -> None:
    """Everything that can fail before a model loads: the config, the backend name and the extras it needs."""
    from pipeline.score.backends import check_backend

    validate_score(cfg)
    if cfg.engine == "ray":
        require_extra("ray", "--engine ray", "Ray Data")
    if cfg.format != "jsonl":
        require_extra("parquet", f"--format {cfg.format}", modules=("pandas",) if cfg.format == "csv" else None)
    if predictor is None:
        check_backend(cfg.backend)


def load_models(cfg: ScoreConfig, predictor=None) -> Models:
    """The source-side model and (local engine) the predictor; on Ray only the model folder is checked here,
    so that a bad folder fails in this process rather than in a remote actor."""
    from pipeline.contracts import model_identity, read_label_map
    from pipeline.score.predictor import Predictor

    source_classifier = None
    if cfg.source_model is not None:
        from pipeline.score.source_model import SourceSideClassifier

        source_classifier = SourceSideClassifier(
            cfg.source_model, threshold=cfg.source_threshold, batch_size=cfg.batch_size
        )
    if cfg.engine == "local":
        predictor = predictor or Predictor(cfg.model, batch_size=cfg.batch_size, backend=cfg.backend)
        model_version, backend = predictor.model_version, getattr(predictor, "backend_name", cfg.backend)
    else:
        from pipeline.score.backends import AUTO, model_input_names, resolve_backend

        predictor = None
        read_label_map(cfg.model)
        model_version, backend = model_identity(cfg.model)[1], cfg.backend
        if cfg.backend == AUTO:  # resolved once here, as the local Predictor does, and the actors get the result
            backend = resolve_backend(AUTO, Path(cfg.model), model_input_names(cfg.model))[0]
            model_version = f"{model_version}:{backend}"  # what a local Predictor's rows say under auto
    # the backend changes the numbers, the engine does not: a local run may be resumed on Ray
    version = model_version if cfg.backend == "torch" else f"{model_version}:{cfg.backend}"
    if source_classifier is not None:
        version += f"|source:{source_classifier.predictor.model_version}:{cfg.source_threshold}"
    tagger = None
    if cfg.attribution_model is not None and cfg.attribution_by != "rules":
        from pipeline.contracts import model_identity
        from pipeline.score.tagging import load_tagger

        tagger = load_tagger(cfg.attribution_model, cfg.attribution_backend, min(cfg.batch_size, 32))
        version += (
            f"|attribution:{model_identity(cfg.attribution_model)[1]}:{cfg.attribution_by}:{cfg.attribution_backend}"
        )
    return Models(predictor, source_classifier, version, backend, model_version, tagger)


def open_run(out: Path, fingerprint: str, progress: bool = True) -> ScoreRun:
    """Open ``out`` for writing: continue an unfinished run with the same fingerprint (its partial files cut
    back to the last checkpoint), or start afresh. A finished run comes back with ``state["complete"]``
    and nothing opened."""
    from tqdm import tqdm

    out.mkdir(parents=True, exist_ok=True)
    run = ScoreRun(out, _load_state(out, fingerprint))
    if run.state.get("complete"):
        return run
    if run.state["articles_done"] == 0:
        for k in OUTPUTS:
            run.partial(k).write_bytes(b"")
    run.handles = {k: open(run.partial(k), "ab") for k in OUTPUTS}
    run.t0 = time.time()
    run.bar = tqdm(desc="scoring", unit=" articles", disable=not progress, initial=run.state["articles_done"])
    return run


def _load_state(out: Path, fingerprint: str) -> dict:
    """A fresh state; or the folder's own when it has the same fingerprint, after cutting its partial files back
    to the sizes it recorded."""
    state = {
        "fingerprint": fingerprint,
        "articles_done": 0,
        "bytes": {k: 0 for k in OUTPUTS},
        "passages": 0,
        "articles": 0,
        "rejects": 0,
    }
    state_path = out / STATE
    if not state_path.is_file():
        return state
    old = json.loads(state_path.read_text())
    if old.get("fingerprint") != fingerprint:
        return state
    if not old.get("complete"):
        for k in OUTPUTS:
            _truncate(out / f"{k}.jsonl.partial", old["bytes"][k])
        log.info("resuming: %d articles already scored in %s", old["articles_done"], out)
    return old


def scored_chunks(
    cfg: ScoreConfig, inputs: list[str], stdin_bytes: bytes | None, dispute: Dispute, models: Models, run: ScoreRun
) -> Iterator[tuple[int, dict]]:
    """``(articles in chunk, score_chunk result)`` in input order, after what ``run`` has done; rejects go
    to ``run`` as the chunks are read."""
    chunks = iter_chunks(
        inputs,
        stdin_bytes,
        cfg.chunk_articles,
        skip_articles=run.state["articles_done"],
        skip_rejects=run.state["rejects"],
        on_reject=partial(write_reject, run),
    )
    if cfg.engine == "local":
        return (
            (
                len(b),
                score_chunk(models.predictor, b, dispute, models.source_classifier, models.tagger, cfg.attribution_by),
            )
            for b in chunks
        )
    from pipeline.score.ray_engine import score_chunks_ray

    return score_chunks_ray(
        chunks, dataclasses.replace(cfg, backend=models.backend), dispute, model_version=models.row_version
    )


def write_reject(run: ScoreRun, r: Reject) -> None:
    log.warning("rejected %s", r)
    line = json.dumps({"file": r.path, "line": r.line, "reason": r.reason}, ensure_ascii=False) + "\n"
    run.handles["rejects"].write(line.encode())
    run.state["rejects"] += 1


def commit_chunk(run: ScoreRun, n_articles: int, res: dict) -> None:
    """Append one scored chunk and checkpoint: files synced first, then the state that records their sizes."""
    run.handles["passages"].write(res["passages"])
    run.handles["articles"].write(res["articles"])
    state = run.state
    state["passages"] += res["n_passages"]
    state["articles"] += n_articles
    state["articles_done"] += n_articles
    run.timing["segment_attribute_s"] += res["segment_s"]
    run.timing["model_s"] += res["model_s"]
    run.sync()
    write_json(run.out / STATE, state)
    elapsed = max(time.time() - run.t0, 1e-9)
    run.bar.update(n_articles)
    run.bar.set_postfix(passages=state["passages"], **{"passages/s": f"{state['passages'] / elapsed:.0f}"})


def finish(run: ScoreRun, cfg: ScoreConfig, inputs: list[str], command: str, backend: str | None = None) -> dict:
    """Move the partial files into place (converted to ``cfg.format``), mark the state complete, return the summary."""
    final = {k: run.out / f"{k}.{cfg.format if k != 'rejects' else 'jsonl'}" for k in OUTPUTS}
    for k in OUTPUTS:
        if cfg.format == "jsonl" or k == "rejects":
            os.replace(run.partial(k), final[k])
        else:
            _convert(run.partial(k), final[k], cfg.format)
            run.partial(k).unlink()
    state = run.state
    summary = {
        "passages": state["passages"],
        "articles": state["articles"],
        "rejects": state["rejects"],
        "passages_file": str(final["passages"]),
        "articles_file": str(final["articles"]),
        "rejects_file": str(final["rejects"]),
        "seconds": round(time.time() - run.t0, 2),
        "command": command,
        "backend": cfg.backend,
        "backend_used": backend or cfg.backend,
        "engine": cfg.engine,
        "timing": {k: round(v, 3) for k, v in run.timing.items()},
        "inputs": list(inputs),
        "config": dataclasses.asdict(cfg),
        "code_version": __version__,
    }
    state.update(complete=True, summary=summary)
    write_json(run.out / STATE, state)
    log.info(
        "scored %d articles, %d passages (%d rejected) in %.1f s",
        state["articles"],
        state["passages"],
        state["rejects"],
        summary["seconds"],
    )
    return summary


def iter_articles(inputs: list[str], stdin_bytes: bytes | None = None) -> Iterator[tuple[list[Article], list[Reject]]]:
    """Yield (articles, rejects) per input file, in a fixed order; ``-`` is JSONL on stdin."""
    paths = [i for i in inputs if i != "-"]
    files, rejects = expand_inputs(paths) if paths else ([], [])
    if rejects:
        yield [], rejects
    if "-" in inputs:
        yield read_bytes(stdin_bytes or b"", "<stdin>", kind="jsonl")
    repeated = repeated_line_keys(files)
    for f in files:
        try:
            raw = f.read_bytes()
        except OSError as exc:
            yield [], [Reject(str(f), f"cannot read ({exc.strerror})")]
            continue
        articles, bad = read_bytes(raw, str(f))
        keys = repeated.get(str(f.parent), frozenset())
        for a in articles:
            a.repeated_lines = frozenset(x for x in map(norm_line, a.lines) if hash(x) in keys)
        yield articles, bad


def repeated_line_keys(files: list[Path]) -> dict[str, frozenset[int]]:
    """Per folder, the hashes of normalised lines found in more than one article
    (as :func:`pipeline.text.readers.mark_repeated_lines` finds them when building),
    so scoring drops a site's repeated chrome as the build does. A first pass over
    the files that keeps hashes, not text, so memory stays small on large folders."""
    counts: dict[str, Counter] = {}
    for f in files:
        try:
            articles, _ = read_bytes(f.read_bytes(), str(f))
        except OSError:
            continue  # the scoring pass reports it
        c = counts.setdefault(str(f.parent), Counter())
        for a in articles:
            c.update({hash(norm_line(x)) for x in a.lines})
    return {folder: frozenset(k for k, n in c.items() if n > 1) for folder, c in counts.items()}


def iter_chunks(
    inputs: list[str],
    stdin_bytes: bytes | None,
    chunk_articles: int,
    skip_articles: int = 0,
    skip_rejects: int = 0,
    on_reject=None,
) -> Iterator[list[Article]]:
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


def _fingerprint(model_version: str, dispute_path: str, inputs: list[str], stdin_bytes: bytes | None, fmt: str) -> str:
    """What a rerun must share with a run to resume it: the model (and backend), the dispute, the format, and
    every input file's path, size and modification time (or stdin's hash)."""
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
        raise DataError(
            f"{path}: partial output missing but the state file says {size} bytes were written; "
            "delete the output folder and rerun"
        )


def _convert(src: Path, dst: Path, fmt: str) -> None:
    import pandas as pd

    from pipeline.io import atomic_open

    rows = [json.loads(line) for line in src.read_text(encoding="utf-8").splitlines() if line]
    flat = [
        {k: (json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else v) for k, v in r.items()}
        for r in rows
    ]
    df = pd.DataFrame(flat)
    with atomic_open(dst, "wb") as f:
        if fmt == "csv":
            f.write(df.to_csv(index=False).encode("utf-8"))
        else:
            df.to_parquet(f, index=False)
