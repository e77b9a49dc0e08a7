"""Shared fixtures: a tiny randomly initialised BERT with a tokenizer built here,
a small corpus written in the test, and paths to ../shared (tests that need it
skip with a reason when it is absent)."""

from __future__ import annotations

import os
import string
from pathlib import Path

import pytest

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
SEED_TXT = SHARED / "seeds" / "000_4ecb729846fe407e.txt"
SEED_GOLD = SHARED / "annotation" / "000_4ecb729846fe407e.gold.jsonl"
SEED_DOC = SHARED / "annotation" / "000_4ecb729846fe407e.doc.json"


def need_shared(*paths: Path):
    missing = [p for p in paths if not p.exists()]
    if missing:
        pytest.skip(
            f"{missing[0]} is absent: ../shared (seed, gold labels, benchmarks) "
            "is only present in the dev and CI checkouts"
        )


WORDS = (
    "the a an of to and in on for that is was by with as at from said says this it its "
    "their his her they he she we\n"
    "union company side sides account version claim credible not more strike port pay deal talks minister government\n"
    "border river island trade tariff tariffs steel dairy city regulator drivers safety data blame blamed favor against"
).split()


def make_tiny_model(path: Path, num_labels: int = 3) -> Path:
    """Save a randomly initialised 2-layer BERT and a WordPiece tokenizer to ``path``."""
    import torch
    from transformers import (
        BertConfig,
        BertForSequenceClassification,
        BertTokenizerFast,
    )

    path.mkdir(parents=True, exist_ok=True)
    chars = list(string.ascii_lowercase + string.digits + string.punctuation) + list("“”’‘—–…")
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + chars + [f"##{c}" for c in chars] + WORDS
    (path / "vocab.txt").write_text("\n".join(dict.fromkeys(vocab)) + "\n", encoding="utf-8")
    tok = BertTokenizerFast(vocab_file=str(path / "vocab.txt"), do_lower_case=True)
    tok.save_pretrained(str(path))
    cfg = BertConfig(
        vocab_size=len(tok),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=256,
        num_labels=num_labels,
    )
    torch.manual_seed(0)
    BertForSequenceClassification(cfg).save_pretrained(str(path))
    return path


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    return make_tiny_model(tmp_path_factory.mktemp("tiny") / "model")


def TEST_ARTICLES(dispute: str, n: int = 10) -> list[str]:  # noqa: N802 - reads as the constant it stands for
    """The first ``n`` articles of a corpus dispute: the tests' corpus stays the same size as the corpus grows
    (its tenth article onwards include neutral news reports), so the suite's time does not grow with it."""
    return [str(f) for f in sorted((ROOT / "data/corpus" / dispute).glob("*.txt"))[:n]]


@pytest.fixture(scope="session")
def corpus_config(tmp_path_factory) -> dict:
    """A config dict over two embedded disputes (small and fast to train)."""
    return {
        "run_name": "test",
        "build": {
            "output": "",
            "sources": [
                {
                    "inputs": TEST_ARTICLES("port-strike"),
                    "dispute": str(ROOT / "configs/disputes/port-strike.yaml"),
                    "labels": str(ROOT / "data/labels"),
                },
                {
                    "inputs": TEST_ARTICLES("river-border"),
                    "dispute": str(ROOT / "configs/disputes/river-border.yaml"),
                    "labels": str(ROOT / "data/labels"),
                },
            ],
            "split": {"validation": 0.15, "test": 0.15, "seed": 13},
        },
        "train": {
            "epochs": 1,
            "batch_size": 32,
            "max_length": 96,
            "learning_rate": 1e-3,
            "progress": False,
            "early_stopping_patience": 0,
            "logging_steps": 5,
        },
    }


@pytest.fixture(scope="session")
def tiny_trained(tmp_path_factory, corpus_config, tiny_model):
    """(model folder, dataset folder): the small corpus built and the tiny model trained one epoch, as the CLI would."""
    import json

    import yaml

    from pipeline.config import load_config
    from pipeline.dataset.run import build
    from pipeline.train.run import train

    tmp = tmp_path_factory.mktemp("trained")
    cfg = json.loads(json.dumps(corpus_config))
    cfg["build"]["output"] = str(tmp / "data")
    cfg["train"].update(model=str(tiny_model), output_dir=str(tmp / "model"))
    p = tmp / "config.yaml"
    p.write_text(yaml.safe_dump(cfg))
    c = load_config(p)
    build(c, str(p))
    return train(c, str(p)), tmp / "data"


def write_generic(dirpath, n=120, seed=0):
    """train/validation/test CSVs of a generic stance benchmark (text, target, label, doc_id) whose labels
    a cue word gives away: a tiny model learns them."""
    import random

    rng = random.Random(seed)
    dirpath.mkdir(parents=True, exist_ok=True)
    for split, size in (("train", n), ("validation", n // 3), ("test", n // 3)):
        lines = ["doc_id,text,target,label"]
        for i in range(size):
            label = rng.choice(["favor", "against", "none"])
            cue = {"favor": "favor credible deal", "against": "blame against not", "none": "said the data"}[label]
            text = " ".join(rng.sample(WORDS, 6)) + " " + cue
            lines.append(f"{split}-{i},{text},{rng.choice(['port', 'union'])},{label}")
        (dirpath / f"{split}.csv").write_text("\n".join(lines) + "\n")


def write_mixture_config(tmp_path, corpus_config, tiny_model, **mixture):
    """A mixture config file: the tests' two-dispute corpus and a generic CSV benchmark, the tiny model, joint."""
    import json

    import yaml

    write_generic(tmp_path / "csv")
    cfg = json.loads(json.dumps(corpus_config))
    files = {s: str(tmp_path / "csv" / f"{s}.csv") for s in ("train", "validation", "test")}
    cfg["build"].update(
        output=str(tmp_path / "data"),
        tasks=["stance", "credibility"],
        context_sentences=0,
        mixture={
            "train_size": 300,
            "max_validation": 20,
            "benchmarks": [{"name": "generic", "files": files, "labels": ["none", "favor", "against"]}],
        }
        | mixture,
    )
    cfg["train"].update(model=str(tiny_model), output_dir=str(tmp_path / "model"), joint=True, max_length=64)
    p = tmp_path / "mixture.yaml"
    p.write_text(yaml.safe_dump(cfg))
    return p
