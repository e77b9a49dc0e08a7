import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from conftest import ROOT

from pipeline.errors import ModelError


def test_batched_equals_one_at_a_time_and_keeps_order(tiny_trained):
    from pipeline.score.predictor import Predictor

    pred = Predictor(tiny_trained[0], batch_size=7)
    texts = [
        "short one.",
        "a much longer passage about the union and the company and the strike at the port that goes on",
        "mid length text here",
        "x",
    ]
    pairs = ["stance toward << UNION >>"] * 4
    batched = pred.probs(texts, pairs)
    single = np.vstack([pred.probs([t], [p]) for t, p in zip(texts, pairs)])
    np.testing.assert_allclose(batched, single, atol=1e-5)
    assert np.allclose(batched.sum(1), 1.0)


def test_model_folder_without_label_map(tmp_path):
    from pipeline.score.predictor import Predictor

    with pytest.raises(ModelError, match="no label_map.json"):
        Predictor(tmp_path)


def score_args(model, out, inputs, extra=()):
    return [
        "-q",
        "score",
        "--model",
        str(model),
        "--dispute",
        str(ROOT / "configs/disputes/port-strike.yaml"),
        *map(str, inputs),
        "--output",
        str(out),
        "--no-progress",
        "--chunk-articles",
        "2",
        *extra,
    ]


def run_score(model, out, inputs, extra=()):
    """``stance score`` in its own process (for the test that kills it midway)."""
    return subprocess.Popen(
        [sys.executable, "-m", "pipeline", *score_args(model, out, inputs, extra)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def score_here(model, out, inputs, extra=()):
    """``stance score`` through the CLI's ``main`` in this process (no interpreter start, no re-imports)."""
    from pipeline.cli import main

    assert main(score_args(model, out, inputs, extra)) == 0


def test_interrupted_run_resumes_without_losing_or_duplicating_rows(tiny_trained, tmp_path):
    corpus = tmp_path / "in"
    corpus.mkdir()
    src = sorted((ROOT / "data/corpus/port-strike").glob("*.txt"))
    for i in range(6):  # 6 copies of the port-strike articles, plus one good JSONL line below
        for f in src:
            (corpus / f"{i}_{f.name}").write_text(f.read_text(encoding="utf-8"), encoding="utf-8")
    (corpus / "empty.txt").write_text("")
    (corpus / "bad.jsonl").write_text('{"text": "A fine line of text. And more."}\n{oops\n')
    full = tmp_path / "full"
    score_here(tiny_trained[0], full, [corpus])
    cut = tmp_path / "cut"
    p = run_score(tiny_trained[0], cut, [corpus])
    state = cut / "_score_state.json"
    deadline = time.time() + 240
    while time.time() < deadline:  # kill it once some chunks are done
        if state.is_file() and json.loads(state.read_text()).get("articles_done", 0) >= 6:
            break
        time.sleep(0.05)
    p.send_signal(signal.SIGKILL)
    p.wait()
    done = json.loads(state.read_text())
    expected = 6 * len(src) + 1
    assert 0 < done["articles_done"] < expected and not done.get("complete")
    score_here(tiny_trained[0], cut, [corpus])  # the rerun resumes
    for name in ("passages.jsonl", "articles.jsonl", "rejects.jsonl"):
        assert (cut / name).read_text() == (full / name).read_text(), name
    rejects = [json.loads(l) for l in (full / "rejects.jsonl").read_text().splitlines()]
    assert {(os.path.basename(x["file"]), x["line"]) for x in rejects} == {("empty.txt", None), ("bad.jsonl", 2)}
    arts = (full / "articles.jsonl").read_text().splitlines()
    assert len(arts) == expected


def test_csv_output(tiny_trained, tmp_path):
    score_here(
        tiny_trained[0], tmp_path / "o", [ROOT / "data/corpus/port-strike/port-strike_01.txt"], ["--format", "csv"]
    )
    import pandas as pd

    df = pd.read_csv(tmp_path / "o" / "passages.csv")
    assert {
        "doc_id",
        "index",
        "paragraph",
        "text",
        "role",
        "source",
        "source_side",
        "cue",
        "stance",
        "stance_probs",
        "credibility",
        "model_id",
        "model_version",
        "file_hash",
    } <= set(df.columns)


def test_abstain_threshold_stored_with_the_model_marks_passages(tiny_trained, tmp_path):
    import shutil

    from pipeline.dispute import load_dispute
    from pipeline.score.predictor import Predictor, score_passages
    from pipeline.text.readers import read_inputs
    from pipeline.text.rows import article_rows

    model = tmp_path / "model"
    shutil.copytree(tiny_trained[0], model, ignore=shutil.ignore_patterns("checkpoints", "report"))
    d = load_dispute(ROOT / "configs/disputes/port-strike.yaml")
    arts, _ = read_inputs([str(ROOT / "data/corpus/port-strike/port-strike_01.txt")])
    rows = article_rows(arts[0], d)
    plain = [r for r in score_passages(Predictor(model), rows, d) if r["role"] == "body"]
    assert not any(r["abstained"] for r in plain)
    cal = json.loads((model / "calibration.json").read_text())
    cal["abstain_threshold"] = 0.99
    (model / "calibration.json").write_text(json.dumps(cal))
    strict = [r for r in score_passages(Predictor(model), rows, d) if r["role"] == "body"]
    assert all(r["abstained"] for r in strict) and [r["stance"] for r in strict] == [r["stance"] for r in plain]


def test_scored_passages_carry_the_credibility_distribution_per_side(tiny_trained):
    import hashlib

    from pipeline.dispute import load_dispute
    from pipeline.score.chunk import score_chunk
    from pipeline.score.predictor import Predictor
    from pipeline.text.readers import read_inputs

    d = load_dispute(ROOT / "configs/disputes/port-strike.yaml")
    path = ROOT / "data/corpus/port-strike/port-strike_01.txt"
    arts, _ = read_inputs([str(path)])
    out = score_chunk(Predictor(tiny_trained[0]), arts, d)
    rows = [json.loads(line) for line in out["passages"].decode().splitlines()]
    body = [r for r in rows if r["role"] == "body"]
    assert body and all(r["credibility_probs"] is None for r in rows if r["role"] != "body")
    for r in body:
        probs = r["credibility_probs"]
        assert set(probs) == {"UNION", "OPERATOR"}
        for side, p in probs.items():
            assert list(p) == ["none", "credible", "not_credible"], side
            assert sum(p.values()) == pytest.approx(1, abs=1e-5), side
        if r["credibility_by"] in ("model", "model+cue"):  # the judgment is the distribution's strongest
            assert probs[r["credibility"]["side"]][r["credibility"]["judgment"]] == pytest.approx(r["credibility_prob"])
        elif r["credibility"] is None:
            assert all(p["none"] >= max(p["credible"], p["not_credible"]) for p in probs.values())
    # provenance: the hash of the file's bytes and the encoding it was read in
    assert {(r["file_hash"], r["encoding"]) for r in rows} == {(hashlib.sha256(path.read_bytes()).hexdigest(), "utf-8")}
