import json
import shutil

import pytest
import yaml

from pipeline.config import load_config
from pipeline.dataset.run import build
from pipeline.errors import DataError, ModelError


@pytest.fixture(scope="module")
def built(tmp_path_factory, corpus_config, tiny_model):
    """A config over the small corpus, the tiny model, and its dataset built once."""
    tmp = tmp_path_factory.mktemp("train")
    cfg = json.loads(json.dumps(corpus_config))
    cfg["build"]["output"] = str(tmp / "data")
    cfg["train"].update(model=str(tiny_model), output_dir=str(tmp / "model"), epochs=2)
    p = tmp / "config.yaml"
    p.write_text(yaml.safe_dump(cfg))
    build(load_config(p), str(p))
    return p, tmp


def train_to(config_path, out, **overrides):
    from pipeline.train.run import train

    ov = {"train.output_dir": str(out), **overrides}
    return train(load_config(config_path, ov), str(config_path), "test")


def test_model_folder_holds_everything_to_score_and_reproduce(built):
    p, tmp = built
    out = train_to(p, tmp / "m1")
    for name in ("model.safetensors", "config.json", "tokenizer.json", "label_map.json", "calibration.json", "train_config.yaml", "provenance.json", "metrics.json", "README.md"):
        assert (out / name).is_file(), name
    prov = json.loads((out / "provenance.json").read_text())
    manifest = json.loads((tmp / "data" / "manifest.json").read_text())
    assert prov["data_hash"] == manifest["data_hash"] and prov["code_version"]
    lm = json.loads((out / "label_map.json").read_text())
    assert lm["tasks"] == {"stance": ["none", "favor", "against"], "credibility": ["none", "credible", "not_credible"]}
    assert yaml.safe_load((out / "train_config.yaml").read_text())["train"]["output_dir"] == str(tmp / "m1")
    card = (out / "README.md").read_text()
    assert manifest["data_hash"] in card and "Known limits" in card and "Intended use" in card
    metrics = json.loads((out / "metrics.json").read_text())
    assert 0 <= metrics["validation"]["macro_f1"] <= 1 and metrics["temperature"] > 0


def test_same_config_and_seed_give_the_same_metrics(built):
    p, tmp = built
    a = json.loads((train_to(p, tmp / "s1") / "metrics.json").read_text())
    b = json.loads((train_to(p, tmp / "s2") / "metrics.json").read_text())
    strip = lambda m: {k: v for k, v in m["validation"].items() if "runtime" not in k and "per_second" not in k}
    assert strip(a) == strip(b) and a["train_loss"] == b["train_loss"]
    c = json.loads((train_to(p, tmp / "s3", **{"train.seed": 99}) / "metrics.json").read_text())
    assert c["train_loss"] != a["train_loss"]


def test_resume_from_last_checkpoint_matches_uninterrupted_run(built):
    p, tmp = built
    full = json.loads((train_to(p, tmp / "r_full") / "metrics.json").read_text())
    out = train_to(p, tmp / "r_cut")
    ckpts = sorted((out / "checkpoints").glob("checkpoint-*"), key=lambda x: int(x.name.split("-")[1]))
    assert len(ckpts) == 2
    shutil.rmtree(ckpts[-1])  # as if the run died during epoch 2
    for f in ("model.safetensors", "metrics.json"):
        (out / f).unlink()
    resumed = json.loads((train_to(p, tmp / "r_cut") / "metrics.json").read_text())
    assert resumed["validation"]["macro_f1"] == full["validation"]["macro_f1"]
    assert resumed["log_history"][-1]["step"] == full["log_history"][-1]["step"]


def test_checkpoint_from_another_model_is_refused(built, tmp_path):
    p, tmp = built
    out = tmp / "m1"
    (out / "checkpoints" / "checkpoint-1").mkdir(parents=True, exist_ok=True)
    info = json.loads((out / "checkpoints" / "run_info.json").read_text())
    info["base_model"] = "some/other-model"
    (out / "checkpoints" / "run_info.json").write_text(json.dumps(info))
    with pytest.raises(ModelError, match="checkpoint was trained from some/other-model"):
        train_to(p, out)


def test_checkpoints_from_other_data_are_not_resumed(built, caplog):
    """Edited labels or added articles change the data hash: the old run's checkpoints cannot be continued."""
    p, tmp = built
    full = json.loads((train_to(p, tmp / "d_full") / "metrics.json").read_text())
    out = train_to(p, tmp / "d_cut")
    ckpts = sorted((out / "checkpoints").glob("checkpoint-*"), key=lambda x: int(x.name.split("-")[1]))
    shutil.rmtree(ckpts[-1])  # an unfinished run, as in the resume test...
    info = json.loads((out / "checkpoints" / "run_info.json").read_text())
    info["data_hash"] = "0" * 16  # ...but on other data
    (out / "checkpoints" / "run_info.json").write_text(json.dumps(info))
    with caplog.at_level("INFO", logger="pipeline.train.run"):
        again = json.loads((train_to(p, out) / "metrics.json").read_text())
    assert "training afresh" in caplog.text and "resuming from" not in caplog.text
    assert again["validation"]["macro_f1"] == full["validation"]["macro_f1"]


def test_dataset_checks_run_before_any_model_loads(built, tmp_path):
    p, tmp = built
    with pytest.raises(DataError, match="not a dataset folder"):
        train_to(p, tmp / "x", **{"build.output": str(tmp_path / "missing")})
    bad = tmp_path / "data"
    shutil.copytree(tmp / "data", bad)
    m = json.loads((bad / "manifest.json").read_text())
    m["task_labels"]["stance"] = ["none", "pro", "con"]
    (bad / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(DataError, match="labels for task stance are"):
        train_to(p, tmp / "x", **{"build.output": str(bad)})
    m["splits"]["validation"] = 0
    m["task_labels"]["stance"] = ["none", "favor", "against"]
    (bad / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(DataError, match="the validation split is empty"):
        train_to(p, tmp / "x", **{"build.output": str(bad)})
