"""The attribution model at work: documents in, source / cue / content spans and relations out.

A :class:`SpanTagger` wraps a token classifier trained by ``stance train
configs/attribution.yaml``. A document longer than one window is read in
overlapping windows (:func:`pipeline.text.spans.windows`); a token seen by
several windows takes the mean of their probabilities, so a span that straddles
a window edge is read whole.
"""

from __future__ import annotations

import logging
from pathlib import Path

from pipeline.contracts import read_label_map
from pipeline.errors import ModelError
from pipeline.text.spans import TAGS, SpanRelation, TaggedSpan, decode, group_relations, windows

log = logging.getLogger(__name__)


class SpanTagger:
    """Source, cue and content spans of documents.

    Args:
        model: an ``AutoModelForTokenClassification`` whose labels are :data:`TAGS`.
        tokenizer: its fast tokenizer (offsets are needed).
        max_length, stride: the window and the tokens consecutive windows share.
        batch_size: windows per forward pass.
    """

    def __init__(self, model, tokenizer, max_length: int = 256, stride: int = 64, batch_size: int = 16):
        self.model, self.tokenizer = model, tokenizer
        self.max_length, self.stride, self.batch_size = max_length, stride, batch_size
        self.model.eval()

    @classmethod
    def from_folder(cls, model_dir: str | Path, batch_size: int = 16) -> SpanTagger:
        """Load a model folder written by ``stance train`` on an attribution config.

        Raises:
            ModelError: the folder is not an attribution model.
        """
        from transformers import AutoModelForTokenClassification, AutoTokenizer

        lm = read_label_map(model_dir)
        if lm.get("kind") != "attribution":
            raise ModelError(
                f"{model_dir}: is a {lm.get('kind', 'commentary')} model, not an attribution model; "
                "train one with `stance train configs/attribution.yaml`"
            )
        if lm.get("tags") != TAGS:
            raise ModelError(f"{model_dir}: its tags {lm.get('tags')} are not this version's {TAGS}; retrain it")
        inp = lm.get("input", {})
        model = AutoModelForTokenClassification.from_pretrained(str(model_dir))
        tok = AutoTokenizer.from_pretrained(str(model_dir))
        return cls(model, tok, inp.get("max_length", 256), inp.get("window_stride", 64), batch_size)

    def token_probs(self, texts: list[str]) -> list[tuple[list[tuple[int, int]], object]]:
        """Per document: the token offsets (sorted) and their tag probabilities (tokens x tags)."""
        import numpy as np
        import torch

        enc = windows(self.tokenizer, texts, self.max_length, self.stride)
        n = len(enc["input_ids"])
        acc: list[dict[tuple[int, int], list]] = [{} for _ in texts]
        order = sorted(range(n), key=lambda i: len(enc["input_ids"][i]))  # similar lengths batch together
        pad = self.tokenizer.pad_token_id or 0
        with torch.inference_mode():
            for b in range(0, n, self.batch_size):
                idx = order[b : b + self.batch_size]
                width = max(len(enc["input_ids"][i]) for i in idx)
                ids = torch.full((len(idx), width), pad, dtype=torch.long)
                mask = torch.zeros((len(idx), width), dtype=torch.long)
                for row, i in enumerate(idx):
                    seq = enc["input_ids"][i]
                    ids[row, : len(seq)] = torch.tensor(seq)
                    mask[row, : len(seq)] = 1
                probs = torch.softmax(self.model(input_ids=ids, attention_mask=mask).logits.float(), -1).numpy()
                for row, i in enumerate(idx):
                    doc = acc[enc["doc"][i]]
                    for k, (a, z) in enumerate(enc["offset_mapping"][i]):
                        if a == z:
                            continue
                        hit = doc.get((a, z))
                        if hit is None:
                            doc[(a, z)] = [probs[row, k].copy(), 1]
                        else:
                            hit[0] += probs[row, k]
                            hit[1] += 1
        out = []
        for doc in acc:
            offs = sorted(doc)
            p = np.stack([doc[o][0] / doc[o][1] for o in offs]) if offs else np.zeros((0, len(TAGS)))
            out.append((offs, p))
        return out

    def spans(self, texts: list[str]) -> list[list[TaggedSpan]]:
        """The source, cue and content spans of each document."""
        return [decode(offs, list(p.argmax(-1)), t) for t, (offs, p) in zip(texts, self.token_probs(texts))]

    def relations(self, texts: list[str]) -> list[list[SpanRelation]]:
        """Each document's attributions: every cue with the source and content tied to it."""
        return [group_relations(s, t) for s, t in zip(self.spans(texts), texts)]
