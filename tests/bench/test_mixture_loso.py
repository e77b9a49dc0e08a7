"""Leave-one-source-out (bench/mixture_loso.py) end to end on the tests' corpus and a generic benchmark."""

import importlib.util
import json

from conftest import ROOT, write_mixture_config


def test_loso_trains_without_each_source_and_scores_it(tmp_path, corpus_config, tiny_model):
    spec = importlib.util.spec_from_file_location("mixture_loso", ROOT / "bench" / "mixture_loso.py")
    loso = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loso)
    config = write_mixture_config(tmp_path, corpus_config, tiny_model)
    out = tmp_path / "loso"
    argv = ["--config", str(config), "--train-size", "120", "--sources", "corpus,generic", "--out", str(out)]
    assert loso.main(argv) == 0
    result = json.loads((out / "loso.json").read_text())
    assert set(result["sources"]) == {"corpus", "generic"}
    for name in ("corpus", "generic"):
        r = result["sources"][name]
        assert 0 <= r["with"] <= 1 and 0 <= r["without"] <= 1
    # each run left its source out of training, and only that one
    for name in ("corpus", "generic"):
        prov = json.loads((out / f"without-{name}" / "provenance.json").read_text())
        assert prov["exclude_sources"] == [name]
    assert json.loads((out / "all" / "provenance.json").read_text())["exclude_sources"] == []
    assert "| corpus, credibility per (passage, side) |" in (out / "loso.md").read_text()
    # a second run trains nothing again (the model folders are complete)
    mtime = (out / "all" / "model.safetensors").stat().st_mtime
    assert loso.main(argv) == 0 and (out / "all" / "model.safetensors").stat().st_mtime == mtime
    assert loso.main([*argv[:-3], "nope", "--out", str(out)]) == 2
