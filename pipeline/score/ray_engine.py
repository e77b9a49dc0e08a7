"""``stance score --engine ray``: the same scoring on Ray Data, streamed.

The driver reads the inputs and groups articles into the same chunks as the
local engine, lazily: it puts a chunk on a queue (a Ray actor) only while
fewer than ``window`` chunks are out, so driver memory holds a bounded window
of the input, never all of it. One streaming read task of a Ray dataset
(:class:`ChunkFeed`) takes the chunks off the queue, in order, one block per
chunk; ``map_batches`` sends each to a :class:`ChunkScorer` actor, which holds
a loaded :class:`~pipeline.score.predictor.Predictor` for its lifetime,
segments and attributes the chunk's articles and scores their passages in
length-sorted batches, with :func:`pipeline.score.chunk.score_chunk`, the
function the local engine calls. The driver takes the results back in chunk
order and writes and checkpoints them exactly as the local engine does, so
the files are the same byte for byte (at the same thread count per model: a
different BLAS thread count may change the last bits of a float) and an
interrupted run resumes on either engine.

On a cluster, every node needs this package installed and the model folder
at the same path (a shared filesystem), or pass ``runtime_env`` when you call
``ray.init`` yourself before :func:`pipeline.score.run.score`.
"""

from __future__ import annotations

import itertools
import logging
import os
import pickle
from collections.abc import Iterable, Iterator
from functools import partial
from pathlib import Path

import numpy as np

from pipeline.config import ScoreConfig
from pipeline.dispute import Dispute
from pipeline.score.extras import require_extra
from pipeline.score.source_model import DEFAULT_THRESHOLD
from pipeline.text.readers import Article

require_extra("ray", "--engine ray", "Ray Data")  # before the imports below: one line, not an ImportError traceback

import pyarrow as pa  # noqa: E402  (Ray Data's own dependency)
import ray  # noqa: E402
import ray.data  # noqa: E402
from ray.data.block import BlockMetadata  # noqa: E402
from ray.data.datasource import Datasource, ReadTask  # noqa: E402
from ray.util.queue import Queue  # noqa: E402

log = logging.getLogger(__name__)

CHUNKS_PER_WORKER = 4  # the default window: enough queued work that no actor waits for the next chunk
_END = None  # put on the queue after the last chunk


class ChunkScorer:
    """A Ray Data actor: loads the model once, then scores one chunk of articles per row."""

    def __init__(
        self,
        model_dir: str,
        model_id: str,
        dispute: Dispute,
        backend: str,
        batch_size: int,
        threads: int,
        source_model: str | None = None,
        source_threshold: float = DEFAULT_THRESHOLD,
        attribution_model: str | None = None,
        attribution_by: str = "combined",
        attribution_backend: str = "torch",
        model_version: str | None = None,
    ):
        import torch

        from pipeline.score.predictor import Predictor

        torch.set_num_threads(threads)
        self.predictor = Predictor(model_dir, batch_size=batch_size, backend=backend)
        self.predictor.model_id = model_id  # the folder name as the driver was given it, not of the resolved path
        if model_version:
            self.predictor.model_version = model_version
        self.dispute = dispute
        self.source_classifier = None
        if source_model:
            from pipeline.score.source_model import SourceSideClassifier

            self.source_classifier = SourceSideClassifier(
                source_model, threshold=source_threshold, batch_size=batch_size
            )
        self.tagger, self.attribution_by = None, attribution_by
        if attribution_model and attribution_by != "rules":
            from pipeline.score.tagging import load_tagger

            self.tagger = load_tagger(attribution_model, attribution_backend, min(batch_size, 32))

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        from pipeline.score.chunk import score_chunk

        out: dict[str, list] = {
            "seq": [],
            "n_articles": [],
            "passages": [],
            "articles": [],
            "n_passages": [],
            "segment_s": [],
            "model_s": [],
        }
        for seq, payload in zip(batch["seq"], batch["payload"]):
            articles: list[Article] = pickle.loads(payload)
            res = score_chunk(
                self.predictor, articles, self.dispute, self.source_classifier, self.tagger, self.attribution_by
            )
            out["seq"].append(int(seq))
            out["n_articles"].append(len(articles))
            for k in ("passages", "articles", "n_passages", "segment_s", "model_s"):
                out[k].append(res[k])
        return {k: np.array(v, dtype=object if k in ("passages", "articles") else None) for k, v in out.items()}


class ChunkFeed(Datasource):
    """The driver's chunks as a Ray dataset: one streaming read task that yields a block per chunk as it
    takes them off ``queue``, until the end marker. The number of chunks need not be known in advance."""

    def __init__(self, queue: Queue):
        super().__init__()
        self.queue = queue

    def estimate_inmemory_data_size(self) -> int | None:
        return None

    def get_read_tasks(
        self, parallelism: int, per_task_row_limit: int | None = None, data_context=None
    ) -> list[ReadTask]:
        meta = BlockMetadata(num_rows=None, size_bytes=None, input_files=None, exec_stats=None)
        return [ReadTask(partial(_read_feed, self.queue), metadata=meta, per_task_row_limit=per_task_row_limit)]


def _read_feed(queue: Queue) -> Iterator[pa.Table]:
    while (item := queue.get()) is not _END:
        seq, payload = item
        yield pa.table({"seq": pa.array([seq], pa.int64()), "payload": pa.array([payload], pa.binary())})


def _connect(address: str | None, log_to_driver: bool = False) -> None:
    if ray.is_initialized():
        return
    address = address or os.environ.get("RAY_ADDRESS")
    log.info("ray: %s", f"joining the cluster at {address}" if address else "starting a local Ray on this machine")
    ray.init(address=address, include_dashboard=False, log_to_driver=log_to_driver, configure_logging=False)


def score_chunks_ray(
    chunks: Iterable[list[Article]],
    cfg: ScoreConfig,
    dispute: Dispute,
    threads: int = 1,
    window: int | None = None,
    model_version: str | None = None,
) -> Iterator[tuple[int, dict]]:
    """Score chunks on Ray Data actors; yield ``(articles in chunk, score_chunk result)`` in chunk order.

    Args:
        chunks: article chunks, as :func:`pipeline.score.run.iter_chunks` yields them; read lazily.
        cfg: the model, backend, batch size, ``workers`` (actors, each holding the model;
            default: cluster CPUs // threads) and ``ray_address`` (default ``RAY_ADDRESS``; else a local Ray).
        threads: CPU threads per actor (Ray reserves as many CPUs for it).
        model_version: written into every row instead of the actors' own (the driver's, which says
            which backend ``auto`` chose, as a local run's rows do).
        window: at most this many chunks taken from ``chunks`` and not yet yielded back
            (default: ``CHUNKS_PER_WORKER`` per actor); it bounds what the driver holds.
    """
    chunks = iter(chunks)
    first = next(chunks, None)
    if first is None:  # nothing to score: no cluster to start
        return
    _export_once(cfg)
    _connect(cfg.ray_address)
    cpus = int(ray.cluster_resources().get("CPU", 1))
    workers = cfg.workers or max(1, cpus // threads)
    feed = _Feeder(itertools.chain([first], chunks), window or CHUNKS_PER_WORKER * workers)
    try:
        feed.top_up()
        workers = min(workers, feed.sent) if feed.exhausted else workers  # no actor loads a model for nothing
        log.info(
            "ray: streaming chunks to %d actor(s) x %d thread(s), at most %d chunk(s) out",
            workers,
            threads,
            feed.window,
        )
        yield from _results(_dataset(feed.queue, cfg, dispute, workers, threads, model_version), feed)
    finally:
        feed.queue.shutdown(force=True)


class _Feeder:
    """Puts chunks on the queue while fewer than ``window`` are out (put, but not yet yielded back)."""

    def __init__(self, chunks: Iterator[list[Article]], window: int):
        self.chunks, self.window = chunks, max(1, window)
        self.queue = Queue(actor_options={"num_cpus": 0})
        self.sent = self.received = 0
        self.exhausted = False

    def top_up(self) -> None:
        while not self.exhausted and self.sent - self.received < self.window:
            chunk = next(self.chunks, None)
            if chunk is None:
                self.exhausted = True
                self.queue.put(_END)
                break
            self.queue.put((self.sent, pickle.dumps(chunk, protocol=pickle.HIGHEST_PROTOCOL)))
            self.sent += 1


def _dataset(
    queue: Queue, cfg: ScoreConfig, dispute: Dispute, workers: int, threads: int, model_version: str | None = None
) -> ray.data.Dataset:
    from pipeline.contracts import model_identity

    # the read task only waits on the queue: it takes no CPU from the actors
    ds = ray.data.read_datasource(ChunkFeed(queue), override_num_blocks=1, num_cpus=0)
    ctx = ds.context  # this dataset's own copy (the map below shares it): the caller's settings stay as they were
    ctx.execution_options.preserve_order = True
    ctx.enable_progress_bars = False
    # a read task's blocks are held back until they fill a block of this size: one byte passes each chunk
    # on as soon as the queue gives it (at the default 128 MiB, a window of chunks would wait forever)
    ctx.target_max_block_size = 1
    # workers do not share the driver's working directory: give them absolute paths
    kwargs = {
        "model_dir": str(Path(cfg.model).resolve()),
        "model_id": model_identity(cfg.model)[0],
        "dispute": dispute,
        "backend": cfg.backend,
        "batch_size": cfg.batch_size,
        "threads": threads,
        "source_model": str(Path(cfg.source_model).resolve()) if cfg.source_model else None,
        "source_threshold": cfg.source_threshold,
        "attribution_model": str(Path(cfg.attribution_model).resolve()) if cfg.attribution_model else None,
        "attribution_by": cfg.attribution_by,
        "attribution_backend": cfg.attribution_backend,
        "model_version": model_version,
    }
    return ds.map_batches(
        ChunkScorer, fn_constructor_kwargs=kwargs, batch_size=1, concurrency=workers, num_cpus=threads
    )


def _results(ds: ray.data.Dataset, feed: _Feeder) -> Iterator[tuple[int, dict]]:
    """The dataset's rows as ``(n_articles, result)`` in chunk order, topping the feed up as each comes back."""
    waiting: dict[int, dict] = {}
    rows = iter(ds.iter_rows())
    try:
        for row in rows:
            waiting[int(row["seq"])] = row
            while feed.received in waiting:  # preserve_order already yields in order; this keeps it so regardless
                r = waiting.pop(feed.received)
                feed.received += 1
                yield (
                    int(r["n_articles"]),
                    {
                        "passages": bytes(r["passages"]),
                        "articles": bytes(r["articles"]),
                        "n_passages": int(r["n_passages"]),
                        "segment_s": float(r["segment_s"]),
                        "model_s": float(r["model_s"]),
                    },
                )
                feed.top_up()
    finally:
        rows.close()  # shuts the executor and its actors down now, also when the caller stops early


def _export_once(cfg: ScoreConfig) -> None:
    """Make the ONNX export (and its int8 quantization) here, once, rather than racing in every actor."""
    from pipeline.score.backends import BACKENDS, OnnxBackend, model_input_names

    if not issubclass(BACKENDS.get(cfg.backend, object), OnnxBackend):
        return
    BACKENDS[cfg.backend].model_path(Path(cfg.model), model_input_names(cfg.model))
