"""``stance score --engine ray``: the same scoring on Ray Data.

The driver reads the inputs and groups articles into the same chunks as the
local engine. Each chunk becomes one row of a Ray dataset; ``map_batches``
sends it to a :class:`ChunkScorer` actor, which holds a loaded
:class:`~pipeline.score.predictor.Predictor` for its lifetime, segments and
attributes the chunk's articles and scores their passages in length-sorted
batches, with :func:`pipeline.score.chunk.score_chunk`, the function the local
engine calls. The driver takes the results back in chunk order and writes
and checkpoints them exactly as the local engine does, so the files are the
same byte for byte (at the same thread count per model: a different BLAS
thread count may change the last bits of a float) and an interrupted run
resumes on either engine.

On a cluster, every node needs this package installed and the model folder
at the same path (a shared filesystem), or pass ``runtime_env`` when you call
``ray.init`` yourself before :func:`pipeline.score.run.score`.
"""

from __future__ import annotations

import logging
import os
import pickle
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from pipeline.dispute import Dispute
from pipeline.score.source_model import DEFAULT_THRESHOLD
from pipeline.text.readers import Article

log = logging.getLogger(__name__)


class ChunkScorer:
    """A Ray Data actor: loads the model once, then scores one chunk of articles per row."""

    def __init__(self, model_dir: str, model_id: str, dispute: Dispute, backend: str, batch_size: int, threads: int, source_model: str | None = None, source_threshold: float = DEFAULT_THRESHOLD):
        import torch

        from pipeline.score.predictor import Predictor

        torch.set_num_threads(threads)
        self.predictor = Predictor(model_dir, batch_size=batch_size, backend=backend)
        self.predictor.model_id = model_id  # the folder name as the driver was given it, not of the resolved path
        self.dispute = dispute
        self.source_classifier = None
        if source_model:
            from pipeline.score.source_model import SourceSideClassifier

            self.source_classifier = SourceSideClassifier(source_model, threshold=source_threshold, batch_size=batch_size)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        from pipeline.score.chunk import score_chunk

        out: dict[str, list] = {"seq": [], "n_articles": [], "passages": [], "articles": [], "n_passages": [], "segment_s": [], "model_s": []}
        for seq, payload in zip(batch["seq"], batch["payload"]):
            articles: list[Article] = pickle.loads(payload)
            res = score_chunk(self.predictor, articles, self.dispute, self.source_classifier)
            out["seq"].append(int(seq))
            out["n_articles"].append(len(articles))
            for k in ("passages", "articles", "n_passages", "segment_s", "model_s"):
                out[k].append(res[k])
        return {k: np.array(v, dtype=object if k in ("passages", "articles") else None) for k, v in out.items()}


def _connect(address: str | None, log_to_driver: bool = False) -> None:
    import ray

    if ray.is_initialized():
        return
    address = address or os.environ.get("RAY_ADDRESS")
    log.info("ray: %s", f"joining the cluster at {address}" if address else "starting a local Ray on this machine")
    ray.init(address=address, include_dashboard=False, log_to_driver=log_to_driver, configure_logging=False)


def score_chunks_ray(chunks: Iterable[list[Article]], model_dir: str, dispute: Dispute, backend: str = "torch", batch_size: int = 64, workers: int | None = None, address: str | None = None, threads: int = 1,
                     source_model: str | None = None, source_threshold: float = DEFAULT_THRESHOLD) -> Iterator[tuple[int, dict]]:
    """Score chunks on Ray Data actors; yield ``(articles in chunk, score_chunk result)`` in chunk order.

    Args:
        chunks: article chunks, as :func:`pipeline.score.run.iter_chunks` yields them.
        workers: actors, each holding the model (default: cluster CPUs // threads).
        address: cluster address (default ``RAY_ADDRESS``; else a local Ray).
        threads: CPU threads per actor (Ray reserves as many CPUs for it).
    """
    import ray
    import ray.data

    items = [{"seq": k, "payload": pickle.dumps(c, protocol=pickle.HIGHEST_PROTOCOL)} for k, c in enumerate(chunks)]
    if not items:
        return
    if backend == "onnx":  # export once here rather than racing in every actor
        from transformers import AutoTokenizer

        from pipeline.score.backends import onnx_path

        names = AutoTokenizer.from_pretrained(str(model_dir)).model_input_names
        onnx_path(Path(model_dir), [k for k in ("input_ids", "attention_mask", "token_type_ids") if k in names])
    _connect(address)
    ctx = ray.data.DataContext.get_current()
    ctx.execution_options.preserve_order = True
    ctx.enable_progress_bars = False
    cpus = int(ray.cluster_resources().get("CPU", 1))
    workers = workers or max(1, cpus // threads)
    workers = min(workers, len(items))
    log.info("ray: %d chunks on %d actor(s) x %d thread(s)", len(items), workers, threads)
    ds = ray.data.from_items(items, override_num_blocks=len(items))
    from pipeline.contracts import model_identity

    # workers do not share the driver's working directory: give them an absolute path
    ds = ds.map_batches(ChunkScorer, fn_constructor_kwargs={"model_dir": str(Path(model_dir).resolve()), "model_id": model_identity(model_dir)[0], "dispute": dispute, "backend": backend, "batch_size": batch_size, "threads": threads,
                                                            "source_model": str(Path(source_model).resolve()) if source_model else None, "source_threshold": source_threshold},
                        batch_size=1, concurrency=workers, num_cpus=threads)
    waiting: dict[int, dict] = {}
    nxt = 0
    for row in ds.iter_rows():
        waiting[int(row["seq"])] = row
        while nxt in waiting:  # preserve_order already yields in order; this keeps it so regardless
            r = waiting.pop(nxt)
            yield int(r["n_articles"]), {"passages": bytes(r["passages"]), "articles": bytes(r["articles"]), "n_passages": int(r["n_passages"]), "segment_s": float(r["segment_s"]), "model_s": float(r["model_s"])}
            nxt += 1
