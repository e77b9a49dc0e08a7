"""``stance score --engine ray``: Ray Data actors produce the local engine's files byte for byte."""

import shutil
import sys

import pytest
from conftest import ROOT

ray = pytest.importorskip("ray", reason="--engine ray needs the [ray] extra (pip install -e '.[ray]')")


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield
    ray.shutdown()


def test_ray_engine_output_equals_local_byte_for_byte(tiny_trained, tmp_path, local_ray):
    from pipeline.score.run import score

    corpus = tmp_path / "in"
    corpus.mkdir()
    for f in sorted((ROOT / "data/corpus/port-strike").glob("*.txt"))[:5]:
        shutil.copy(f, corpus / f.name)
    (corpus / "empty.txt").write_text("")
    dispute = str(ROOT / "configs/disputes/port-strike.yaml")
    local = score(str(tiny_trained[0]), dispute, [str(corpus)], str(tmp_path / "local"), chunk_articles=2, progress=False)
    remote = score(str(tiny_trained[0]), dispute, [str(corpus)], str(tmp_path / "ray"), chunk_articles=2, progress=False, engine="ray", workers=2)
    assert remote["engine"] == "ray" and remote["articles"] == local["articles"] == 5 and remote["passages"] == local["passages"] > 50
    for name in ("passages.jsonl", "articles.jsonl", "rejects.jsonl"):
        assert (tmp_path / "ray" / name).read_bytes() == (tmp_path / "local" / name).read_bytes(), name
    assert remote["timing"]["model_s"] > 0 and remote["timing"]["segment_attribute_s"] > 0  # the work ran in the actors


def test_ray_missing_is_a_one_line_install_hint(tiny_trained, tmp_path, capsys, monkeypatch):
    from pipeline.cli import main

    for mod in [m for m in sys.modules if m == "ray" or m.startswith("ray.")]:
        monkeypatch.delitem(sys.modules, mod)
    monkeypatch.setitem(sys.modules, "ray", None)  # what `import ray` sees when it is not installed
    rc = main(["-q", "score", "--model", str(tiny_trained[0]), "--dispute", str(ROOT / "configs/disputes/port-strike.yaml"), str(ROOT / "data/corpus/port-strike"), "--output", str(tmp_path / "o"), "--engine", "ray"])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and err.startswith("error: --engine ray needs Ray Data") and "pip install 'stance-pipeline[ray]'" in err and "\n" not in err
