"""``stance score --engine ray``: Ray Data actors produce the local engine's files byte for byte,
from a bounded window of chunks, and an interrupted Ray run resumes to the same bytes."""

import json
import shutil
import sys

import pytest
from conftest import ROOT

ray = pytest.importorskip("ray", reason="--engine ray needs the [ray] extra (pip install -e '.[ray]')")
pytestmark = pytest.mark.timeout(300)  # a stream that stalls (a chunk held back by Ray) fails here instead of hanging

DISPUTE = str(ROOT / "configs/disputes/port-strike.yaml")
OUTPUTS = ("passages.jsonl", "articles.jsonl", "rejects.jsonl")


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield
    ray.shutdown()


def cfg_for(model, out, **kw):
    from pipeline.config import ScoreConfig

    return ScoreConfig(model=str(model), dispute=DISPUTE, output=str(out), chunk_articles=2, progress=False, **kw)


def corpus(tmp_path, copies=1, n=5):
    """``copies`` x ``n`` port-strike articles, an empty file and a bad JSONL line (two rejects)."""
    folder = tmp_path / "in"
    folder.mkdir()
    for c in range(copies):
        for f in sorted((ROOT / "data/corpus/port-strike").glob("*.txt"))[:n]:
            shutil.copy(f, folder / f"{c}_{f.name}")
    (folder / "empty.txt").write_text("")
    (folder / "bad.jsonl").write_text('{"text": "A fine line of text. And more."}\n{oops\n')
    return folder


def test_ray_engine_output_equals_local_byte_for_byte(tiny_trained, tmp_path, local_ray):
    from pipeline.score.run import score

    inputs = [str(corpus(tmp_path))]
    local = score(cfg_for(tiny_trained[0], tmp_path / "local"), inputs)
    remote = score(cfg_for(tiny_trained[0], tmp_path / "ray", engine="ray", workers=2), inputs)
    assert remote["engine"] == "ray" and remote["articles"] == local["articles"] == 6
    assert remote["passages"] == local["passages"] > 50 and remote["rejects"] == local["rejects"] == 2
    for name in OUTPUTS:
        assert (tmp_path / "ray" / name).read_bytes() == (tmp_path / "local" / name).read_bytes(), name
    assert remote["timing"]["model_s"] > 0 and remote["timing"]["segment_attribute_s"] > 0  # the work ran in the actors
    # auto is resolved once, in the driver, to the backend the local engine chose, and the actors run that
    assert remote["backend"] == local["backend"] == "auto"
    assert remote["backend_used"] == local["backend_used"] != "auto"


def test_ray_engine_streams_a_bounded_window_of_chunks(tiny_trained, tmp_path, local_ray):
    """The driver takes a chunk from the input only while fewer than ``window`` are out, and the
    results come back in chunk order, equal to the local engine's."""
    from pipeline.dispute import load_dispute
    from pipeline.score.chunk import score_chunk
    from pipeline.score.predictor import Predictor
    from pipeline.score.ray_engine import score_chunks_ray
    from pipeline.text.readers import read_inputs

    articles, _ = read_inputs([str(ROOT / "data/corpus/port-strike")])
    chunks = [[articles[i % len(articles)]] for i in range(12)]
    taken = 0

    def lazily():
        nonlocal taken
        for c in chunks:
            taken += 1
            yield c

    dispute = load_dispute(DISPUTE)
    window = 2
    got, taken_at = [], []
    for n, res in score_chunks_ray(lazily(), cfg_for(tiny_trained[0], tmp_path, workers=1), dispute, window=window):
        taken_at.append(taken)
        got.append((n, res["passages"], res["articles"]))
    assert all(t <= i + window for i, t in enumerate(taken_at)), taken_at  # never the whole input up front
    assert taken_at[0] < len(chunks)
    pred = Predictor(tiny_trained[0], backend="auto")  # what the actors run under the default config
    want = [(len(c), r["passages"], r["articles"]) for c in chunks for r in [score_chunk(pred, c, dispute)]]
    assert got == want


class Killed(Exception):
    """Stands in for the process dying in the middle of writing a chunk."""


def test_ray_run_interrupted_midway_resumes_to_the_same_bytes(tiny_trained, tmp_path, local_ray, monkeypatch):
    """The third chunk's write dies halfway (its passages partly on disk, no checkpoint); the rerun on Ray
    cuts the partial files back to the last checkpoint and finishes with the uninterrupted local run's bytes.
    It also shows the interrupted run gave its actors back: the rerun gets the same two CPUs."""
    from pipeline.score import run

    inputs = [str(corpus(tmp_path, copies=2))]
    full = run.score(cfg_for(tiny_trained[0], tmp_path / "local"), inputs)
    commit, calls = run.commit_chunk, []

    def dies_on_the_third(r, n_articles, res):
        calls.append(n_articles)
        if len(calls) == 3:
            r.handles["passages"].write(res["passages"][: len(res["passages"]) // 2])
            r.handles["passages"].flush()
            raise Killed
        commit(r, n_articles, res)

    out = tmp_path / "ray"
    monkeypatch.setattr(run, "commit_chunk", dies_on_the_third)
    with pytest.raises(Killed):
        run.score(cfg_for(tiny_trained[0], out, engine="ray", workers=2), inputs)
    state = json.loads((out / "_score_state.json").read_text())
    assert state["articles_done"] == 4 and not state.get("complete")
    assert (out / "passages.jsonl.partial").stat().st_size > state["bytes"]["passages"]  # a half-written tail
    monkeypatch.setattr(run, "commit_chunk", commit)
    resumed = run.score(cfg_for(tiny_trained[0], out, engine="ray", workers=2), inputs)
    counts = lambda s: (s["articles"], s["passages"], s["rejects"])
    assert counts(resumed) == counts(full)
    for name in OUTPUTS:
        assert (out / name).read_bytes() == (tmp_path / "local" / name).read_bytes(), name


def test_ray_missing_is_a_one_line_install_hint(tiny_trained, tmp_path, capsys, monkeypatch):
    from pipeline.cli import main

    for mod in [m for m in sys.modules if m == "ray" or m.startswith("ray.")]:
        monkeypatch.delitem(sys.modules, mod)
    monkeypatch.setitem(sys.modules, "ray", None)  # what `import ray` sees when it is not installed
    rc = main(
        [
            "-q",
            "score",
            "--model",
            str(tiny_trained[0]),
            "--dispute",
            DISPUTE,
            str(ROOT / "data/corpus/port-strike"),
            "--output",
            str(tmp_path / "o"),
            "--engine",
            "ray",
        ]
    )
    err = capsys.readouterr().err.strip()
    assert rc == 2 and err.startswith("error: --engine ray needs Ray Data") and "\n" not in err
    assert "pip install 'stance-pipeline[ray]'" in err
    assert not (tmp_path / "o").exists(), "fails before writing anything"
