"""``stance train`` on attribution data: a token classifier for source, cue and content spans.

The model (``AutoModelForTokenClassification``, BIO tags of
:data:`pipeline.text.spans.TAGS`) reads each PolNeAR article in overlapping
windows. Model selection uses exact span F1 on the validation windows; once
trained, the validation articles are read whole by :class:`SpanTagger` and
scored as the evaluation will score test (exact and overlap span P/R/F1).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from pipeline.config import Config
from pipeline.errors import first_line
from pipeline.text.polnear import load_documents, score_tagger
from pipeline.text.spans import IGNORE, ROLES, TAGS, TaggedSpan, char_owner, decode, token_tags, windows
from pipeline.train.model import load_tokenizer, resolve_model
from pipeline.train.run import (
    checkpoint_dir,
    early_stopping,
    plan_resume,
    prepare_checkpoints,
    run_provenance,
    training_args,
    write_model_folder,
)

log = logging.getLogger(__name__)


def tokenize_documents(rows, tokenizer, max_length: int, stride: int):
    """Training windows of documents, with a tag per token (``labels``) and ``length``."""
    from datasets import Dataset

    texts = [r["text"] for r in rows]
    enc = windows(tokenizer, texts, max_length, stride)
    spans = [[TaggedSpan(s["role"], s["start"], s["end"]) for s in r["spans"]] for r in rows]
    owners: dict[int, list[int]] = {}
    labels = []
    for offs, d in zip(enc["offset_mapping"], enc["doc"]):
        if d not in owners:
            owners = {d: char_owner(spans[d], len(texts[d]))}  # windows of one document are consecutive
        labels.append(token_tags(offs, spans[d], owners[d]))
    return Dataset.from_dict(
        {
            "input_ids": enc["input_ids"],
            "attention_mask": enc["attention_mask"],
            "labels": labels,
            "length": [len(x) for x in enc["input_ids"]],
        }
    )


def _window_spans(tags) -> set[tuple[str, int, int]]:
    """Spans of one window's tag sequence, in token positions (special tokens skipped)."""
    offs = [(2 * k, 2 * k + 1) for k in range(len(tags))]  # gaps between tokens: a B- always opens a span
    keep = [(o, int(t)) for o, t in zip(offs, tags) if int(t) != IGNORE]
    text = " " * (2 * len(tags) + 1)
    return {(s.role, s.start, s.end) for s in decode([o for o, _ in keep], [t for _, t in keep], text)}


def window_span_f1(pred) -> dict:
    """Exact span F1 per role over validation windows, and their mean (``span_f1``, the selection metric)."""
    import numpy as np

    logits = pred.predictions[0] if isinstance(pred.predictions, tuple) else pred.predictions
    preds = np.asarray(logits).argmax(-1)
    labels = np.asarray(pred.label_ids)
    tp = {r: 0 for r in ROLES}
    n_pred = dict(tp)
    n_gold = dict(tp)
    for p, g in zip(preds, labels):
        mask = g != IGNORE
        ps = _window_spans(np.where(mask, p, IGNORE))
        gs = _window_spans(g)
        for r in ROLES:
            pr = {s for s in ps if s[0] == r}
            gr = {s for s in gs if s[0] == r}
            tp[r] += len(pr & gr)
            n_pred[r] += len(pr)
            n_gold[r] += len(gr)
    out = {}
    for r in ROLES:
        prec = tp[r] / n_pred[r] if n_pred[r] else 0.0
        rec = tp[r] / n_gold[r] if n_gold[r] else 0.0
        out[f"{r}_f1"] = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    out["span_f1"] = sum(out[f"{r}_f1"] for r in ROLES) / len(ROLES)
    return out


def build_token_model(source: str, tiny: dict | None, where: str = "train.model"):
    """A token classifier over :data:`TAGS`, from a checkpoint or (``tiny``) a small random config."""
    from transformers import AutoConfig, AutoModelForTokenClassification

    from pipeline.errors import ModelError

    id2label = dict(enumerate(TAGS))
    label2id = {v: k for k, v in id2label.items()}
    try:
        if tiny:
            cfg = AutoConfig.from_pretrained(source)
            for k, v in tiny.items():
                setattr(cfg, k, v)
            cfg.num_labels, cfg.id2label, cfg.label2id = len(TAGS), id2label, label2id
            return AutoModelForTokenClassification.from_config(cfg)
        return AutoModelForTokenClassification.from_pretrained(
            source, num_labels=len(TAGS), id2label=id2label, label2id=label2id, ignore_mismatched_sizes=True
        )
    except (OSError, ValueError) as exc:
        raise ModelError(f"{where}: cannot load model {source} ({first_line(exc)}); check the name or path") from None


def train_attribution(cfg: Config, manifest: dict, config_path: str = "", command: str = "") -> Path:
    """Fine-tune the attribution tagger on ``cfg.build.output`` (built from PolNeAR) into ``cfg.train.output_dir``."""
    from transformers import DataCollatorForTokenClassification, Trainer, set_seed

    from pipeline.text.tagger import SpanTagger, torch_forward
    from pipeline.train.trainer import StepCounter

    tc = cfg.train
    source = resolve_model(tc.model)
    out = Path(tc.output_dir)
    plan = plan_resume(checkpoint_dir(out), tc, manifest["data_hash"])
    prepare_checkpoints(plan, tc, manifest["data_hash"])
    set_seed(tc.seed)
    tokenizer = load_tokenizer(source)
    docs = load_documents(cfg.build.output)
    tok = {s: tokenize_documents(docs[s], tokenizer, tc.max_length, tc.window_stride) for s in ("train", "validation")}
    log.info(
        "attribution windows: train %d (from %d articles), validation %d (from %d); %d tokens per window, %d shared",
        len(tok["train"]),
        len(docs["train"]),
        len(tok["validation"]),
        len(docs["validation"]),
        tc.max_length,
        tc.window_stride,
    )
    model = build_token_model(source, tc.tiny)
    args = training_args(tc, plan.checkpoints)
    args.label_names = ["labels"]
    steps = StepCounter()
    trainer = Trainer(
        model=model,
        args=args,
        train_dataset=tok["train"],
        eval_dataset=tok["validation"],
        processing_class=tokenizer,
        data_collator=DataCollatorForTokenClassification(tokenizer),
        compute_metrics=window_span_f1,
        callbacks=[*early_stopping(tc), steps],
    )
    t0 = time.time()
    result = trainer.train(resume_from_checkpoint=str(plan.resume_from) if plan.resume_from else None)
    seconds = time.time() - t0
    if not trainer.is_world_process_zero():
        return out
    windows_metrics = {k.removeprefix("eval_"): v for k, v in trainer.evaluate().items()}
    log.info("reading the %d validation articles whole", len(docs["validation"]))
    model = trainer.model.to("cpu")
    names = tuple(n for n in ("input_ids", "attention_mask", "token_type_ids") if n in tokenizer.model_input_names)
    tagger = SpanTagger(torch_forward(model), tokenizer, tc.max_length, tc.window_stride, tc.eval_batch_size, names)
    whole, _, _ = score_tagger(tagger, docs["validation"])
    metrics = {
        "train_loss": result.training_loss,
        "validation": windows_metrics,
        "validation_documents": whole,
        "log_history": list(trainer.state.log_history),
    }
    label_map = {
        "kind": "attribution",
        "tags": TAGS,
        "tasks": {},
        "input": {"max_length": tc.max_length, "window_stride": tc.window_stride},
    }
    provenance = run_provenance(cfg, source, manifest, trainer, steps, seconds, command, config_path)
    write_model_folder(
        out,
        trainer,
        tokenizer,
        cfg,
        manifest,
        label_map=label_map,
        calibration={},
        provenance=provenance,
        metrics=metrics,
        card=model_card(cfg, provenance, whole),
    )
    log.info(
        "attribution model written to %s (%.0f s); validation exact F1 source %.3f, cue %.3f, content %.3f",
        out,
        seconds,
        whole["source_exact"]["f1"],
        whole["cue_exact"]["f1"],
        whole["content_exact"]["f1"],
    )
    return out


def model_card(cfg: Config, provenance: dict, whole: dict) -> str:
    rows = "\n".join(f"| {r} | {whole[f'{r}_exact']['f1']:.3f} | {whole[f'{r}_overlap']['f1']:.3f} |" for r in ROLES)
    return f"""# Model card: {cfg.run_name}

Attribution tagger: marks who is quoted or paraphrased (source), the words that
attribute (cue) and what is attributed (content), as BIO tags per token;
fine-tuned from `{provenance["base_model"]}` on PolNeAR by `stance train`.

## Data
- Dataset: `{provenance["dataset"]}`, data hash `{provenance["data_hash"]}`
- PolNeAR (Newell et al., LREC 2018): US political news, 2015-11 to 2016-11; research use only.

## Metrics (validation articles, read whole)
| span | exact F1 | overlap F1 |
|---|---|---|
{rows}

See `stance evaluate` for test, per publisher, and passage-level attribution on commentary.

## Intended use
Finding the speaker of each passage of news and commentary, so that stance and
credibility are read for the right voice. `stance build` and `stance score`
use it when given `attribution_model`; the rules remain the fallback.

## Known limits
- Trained on one country's political news of one year; other registers
  (op-eds, transcripts) and other languages will be weaker.
- Relations are grouped from the tags by distance, not predicted.

## Reproduce
`{provenance["command"] or "stance train " + provenance["config_path"]}` (code {provenance["code_version"]}).
"""
