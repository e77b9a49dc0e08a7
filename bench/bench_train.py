"""Training throughput: this project's batching vs the Hugging Face
``run_classification.py`` example's, on the same model, data and settings.

  run_classification   every example padded to max_seq_length (the example's
                       default: pad_to_max_length=True, max_seq_length=128),
                       default_data_collator, random batches
  this_project         dynamic padding (DataCollatorWithPadding) and
                       length-grouped batches (train_sampling_strategy="group_by_length"),
                       as `stance train` does

Both fine-tune the packaged MiniLM for the same number of epochs from the same
seed with the same optimizer settings, in this one process, one after the
other; the script prints training examples/s, the ratio, and validation
accuracy / macro-F1 of each so the speed-up is read at equal metrics.

Data: SemEval-2016 Task 6 (built from ../shared/data by `stance build
configs/benchmarks/semeval2016.yaml`; built here when missing).

Run: make bench-train (or OMP_NUM_THREADS=2 python bench/bench_train.py [--epochs 1])
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(ROOT / "data/built/semeval2016"))
    ap.add_argument("--epochs", type=float, default=1.0)
    ap.add_argument("--max-seq-length", type=int, default=128, help="run_classification.py's default")
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--learning-rate", type=float, default=8e-5)
    ap.add_argument("--train-limit", type=int, default=0, help="use only the first N train examples (0: all)")
    ap.add_argument("--out", default=str(ROOT / "bench/out/train.json"))
    args = ap.parse_args()

    data = Path(args.data)
    if not (data / "manifest.json").is_file():
        if not (ROOT.parent / "shared/data/semeval2016-task6").is_dir():
            print(
                "skipped: ../shared/data/semeval2016-task6 is absent "
                "(the benchmark data lives only in dev and CI checkouts)"
            )
            return 0
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pipeline",
                "-q",
                "build",
                str(ROOT / "configs/benchmarks/semeval2016.yaml"),
                "--build.output",
                str(data),
            ],
            check=True,
            cwd=ROOT,
        )

    import torch
    from datasets import load_from_disk
    from transformers import (
        AutoModelForSequenceClassification,
        AutoTokenizer,
        DataCollatorWithPadding,
        Trainer,
        TrainingArguments,
        default_data_collator,
        set_seed,
    )

    from pipeline.analysis.metrics import classification_metrics
    from pipeline.train.model import packaged_model_path

    manifest = json.loads((data / "manifest.json").read_text())
    (task,) = manifest["tasks"]
    labels = manifest["task_labels"][task]
    source = str(packaged_model_path())
    tok = AutoTokenizer.from_pretrained(source)
    ds = load_from_disk(str(data / "examples"))
    train_ds, val_ds = ds["train"], ds["validation"]
    if args.train_limit:
        train_ds = train_ds.select(range(min(args.train_limit, len(train_ds))))

    def encode(split, padded: bool):
        def fn(b):
            enc = tok(
                b["text"],
                b["text_pair"],
                truncation=True,
                max_length=args.max_seq_length,
                padding="max_length" if padded else False,
            )
            enc["labels"] = b["slot"]
            enc["length"] = [len(x) for x in enc["input_ids"]]
            return enc

        keep = {"input_ids", "attention_mask", "token_type_ids", "labels", "length"}
        return split.map(fn, batched=True, remove_columns=[c for c in split.column_names if c not in keep])

    def validate(model) -> dict:
        enc = encode(val_ds, padded=False)
        collate = DataCollatorWithPadding(tok)
        preds = []
        model.eval()
        with torch.inference_mode():
            for i in range(0, len(enc), 64):
                batch = collate(
                    [{k: v for k, v in enc[j].items() if k != "length"} for j in range(i, min(i + 64, len(enc)))]
                )
                batch.pop("labels")
                preds.extend(model(**batch).logits.argmax(-1).tolist())
        gold = [labels[s] for s in val_ds["slot"]]
        m = classification_metrics(gold, [labels[p] for p in preds], labels)
        return {"accuracy": round(m["accuracy"], 4), "macro_f1": round(m["macro_f1"], 4)}

    results = {}
    for name, padded in (("run_classification", True), ("this_project", False)):
        set_seed(13)
        model = AutoModelForSequenceClassification.from_pretrained(
            source, num_labels=len(labels), ignore_mismatched_sizes=True
        )
        enc = encode(train_ds, padded)
        targs = TrainingArguments(
            output_dir=str(ROOT / "bench/out/train_ckpt"),
            num_train_epochs=args.epochs,
            learning_rate=args.learning_rate,
            per_device_train_batch_size=args.batch_size,
            warmup_steps=0.1,
            weight_decay=0.01,
            save_strategy="no",
            eval_strategy="no",
            logging_strategy="no",
            report_to="none",
            seed=13,
            data_seed=13,
            disable_tqdm=True,
            train_sampling_strategy="random" if padded else "group_by_length",
            length_column_name="length",
            dataloader_num_workers=0,
        )
        trainer = Trainer(
            model=model,
            args=targs,
            train_dataset=enc.remove_columns(["length"]) if padded else enc,
            data_collator=default_data_collator if padded else DataCollatorWithPadding(tok),
            processing_class=tok,
        )
        tokens = int(np.sum(enc["length"])) if not padded else len(enc) * args.max_seq_length
        print(f"{name}: training {len(enc)} examples x {args.epochs:g} epoch(s) ...", flush=True)
        t0 = time.perf_counter()
        trainer.train()
        seconds = time.perf_counter() - t0
        n = len(enc) * args.epochs
        results[name] = {
            "seconds": round(seconds, 1),
            "examples_per_s": round(n / seconds, 2),
            "tokens_per_epoch_incl_padding": tokens,
            "validation": validate(model),
        }
        print(f"  {results[name]}", flush=True)
    ratio = results["this_project"]["examples_per_s"] / results["run_classification"]["examples_per_s"]
    report = {
        "data": str(data),
        "train_examples": len(train_ds),
        "epochs": args.epochs,
        "max_seq_length": args.max_seq_length,
        "batch_size": args.batch_size,
        "threads": torch.get_num_threads(),
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
        "results": results,
        "speedup": round(ratio, 2),
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2))
    print("\n| setup | examples/s | validation accuracy | validation macro-F1 |\n|---|---|---|---|")
    for name, r in results.items():
        print(f"| {name} | {r['examples_per_s']} | {r['validation']['accuracy']} | {r['validation']['macro_f1']} |")
    print(f"\nspeed-up of this project's batching: {ratio:.2f}x (goal 2.5x); written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
