"""build -> train -> evaluate -> score -> compare through the `stance` CLI, on the tiny model.

The build runs as its own process through ``python -m pipeline`` (the entry point a user runs);
the later stages call the same ``main`` in this process, which saves an interpreter start and
6-9 s of imports per stage and runs the very code a user's command runs.
"""

import io
import json
import subprocess
import sys
from types import SimpleNamespace

import pytest
import yaml
from conftest import ROOT

from pipeline.cli import main


@pytest.fixture
def stance(capsys, monkeypatch):
    """Run one ``stance`` command in this process; its exit code must be 0. Returns its stdout."""

    def run(*args, input=None):
        if input is not None:
            monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(input.encode())))
        code = main(["-q", *args])
        captured = capsys.readouterr()
        assert code == 0, captured.err[-3000:]
        return SimpleNamespace(stdout=captured.out)

    return run


def stance_process(*args):
    r = subprocess.run(
        [sys.executable, "-m", "pipeline", "-q", *args], capture_output=True, text=True, cwd=ROOT, timeout=300
    )
    assert r.returncode == 0, r.stderr[-3000:]
    return r


def test_every_stage_through_the_cli(tmp_path, corpus_config, tiny_model, stance):
    cfg = json.loads(json.dumps(corpus_config))
    cfg["build"]["output"] = str(tmp_path / "data")
    cfg["train"].update(model=str(tiny_model), output_dir=str(tmp_path / "model"), epochs=2)
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(cfg))

    out = stance_process("build", str(config)).stdout
    assert f"dataset: {tmp_path / 'data'}" in out
    stance("train", str(config))
    report = tmp_path / "report_a"
    stance("evaluate", "--model", str(tmp_path / "model"), "--data", str(tmp_path / "data"), "--output", str(report))

    metrics = json.loads((report / "metrics.json").read_text())
    test = metrics["splits"]["test"]
    for task in ("side_favored", "credibility_judged"):
        m = test["passages"][task]
        assert {"accuracy", "macro_f1", "per_class", "confusion"} <= set(m)
        assert set(test["baselines"]["majority"][task]) == {"accuracy", "macro_f1"}
        assert set(test["baselines"]["tfidf_logreg"][task]) == {"accuracy", "macro_f1"}
    for task in ("stance", "credibility"):
        assert {"accuracy", "macro_f1", "per_class", "confusion"} <= set(test["examples"][task])
        assert {"accuracy", "macro_f1", "per_class", "confusion"} <= set(test["passages"]["by_side_name"][task])
    assert test["passages"]["stance_calibration"]["ece"] is not None
    assert 0 <= test["side_swap"]["consistency"] <= 1
    html = (report / "report.html").read_text()
    assert "data:image/png;base64," in html and "Side-swap audit" in html and "The author favors" in html
    preds = [json.loads(l) for l in (report / "predictions.jsonl").read_text().splitlines()]
    assert preds and all(p["stance"] is not None for p in preds)

    # score a directory of raw articles plus JSONL on stdin
    scored = tmp_path / "scored"
    jsonl = json.dumps(
        {"doc_id": "web-1", "title": "A note", "text": "The union said the offer was an insult. Meridane disagreed."}
    )
    stance(
        "score",
        "--model",
        str(tmp_path / "model"),
        "--dispute",
        str(ROOT / "configs/disputes/port-strike.yaml"),
        str(ROOT / "data/corpus/port-strike"),
        "-",
        "--output",
        str(scored),
        "--no-progress",
        input=jsonl + "\n",
    )
    rows = [json.loads(l) for l in (scored / "passages.jsonl").read_text().splitlines()]
    arts = [json.loads(l) for l in (scored / "articles.jsonl").read_text().splitlines()]
    assert {a["doc_id"] for a in arts} == {p.stem for p in (ROOT / "data/corpus/port-strike").glob("*.txt")} | {"web-1"}
    body = [r for r in rows if r["role"] == "body"]
    assert all(
        r["stance"] in ("UNION", "OPERATOR", "neutral") and abs(sum(r["stance_probs"].values()) - 1) < 1e-6
        for r in body
    )
    assert {r["source"] for r in body} >= {"author", "Rosa Ketteridge", "Conrad Wyle"}
    assert all(a["author_favors"] in ("UNION", "OPERATOR", "neutral") for a in arts)

    # a second version (another seed) on the same data, compared
    stance("train", str(config), "--train.output_dir", str(tmp_path / "model_b"), "--train.seed", "5")
    report_b = tmp_path / "report_b"
    stance(
        "evaluate", "--model", str(tmp_path / "model_b"), "--data", str(tmp_path / "data"), "--output", str(report_b)
    )
    stance("compare", str(report), str(report_b), "--output", str(tmp_path / "cmp"))
    cmp = json.loads((tmp_path / "cmp" / "comparison.json").read_text())
    assert cmp["n"] > 0 and "side_favored_macro_f1" in cmp["metrics"] and "p_value" in cmp["mcnemar"]["side_favored"]
    lo, hi = cmp["metrics"]["side_favored_macro_f1"]["ci95"]
    assert lo <= cmp["metrics"]["side_favored_macro_f1"]["delta"] <= hi
    assert "stance_examples_macro_f1" in cmp["metrics"] and "stance_macro_f1" in cmp["by_side_name"]["metrics"]
