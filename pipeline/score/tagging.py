"""The attribution model in scoring: a :class:`pipeline.text.tagger.SpanTagger` on one of the scoring backends."""

from __future__ import annotations

from pathlib import Path


def load_tagger(model_dir: str, backend: str = "torch", batch_size: int = 32):
    """The attribution model run by one of the scoring backends (torch, int8, onnx, onnx-int8)."""
    from pipeline.text.tagger import SpanTagger

    SpanTagger.read_label_map(model_dir)  # a clear error for a folder of another kind, before any export
    forward = None
    if backend != "torch":
        from pipeline.score.backends import get_backend, model_input_names

        forward = get_backend(backend, Path(model_dir), model_input_names(model_dir))
    return SpanTagger.from_folder(model_dir, batch_size=batch_size, forward=forward)
