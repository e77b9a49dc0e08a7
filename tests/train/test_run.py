import json
import os
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
    for name in (
        "model.safetensors",
        "config.json",
        "tokenizer.json",
        "label_map.json",
        "calibration.json",
        "train_config.yaml",
        "provenance.json",
        "metrics.json",
        "README.md",
    ):
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


# what torch.save / pickle write: loading any of them means unpickling
PICKLED = {".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt", ".joblib"}


def test_model_folder_holds_only_what_scoring_needs(built):
    """Optimizer states and pickled training arguments stay beside the model
    folder, where a rerun resumes from them, not in the folder a user ships;
    an earlier version's checkpoints/ left inside it are removed."""
    from pipeline.train.run import checkpoint_dir

    p, tmp = built
    out = tmp / "clean"
    (out / "checkpoints" / "checkpoint-3").mkdir(parents=True)  # as an earlier version left them
    (out / "checkpoints" / "checkpoint-3" / "optimizer.pt").write_bytes(b"x")
    (out / "training_args.bin").write_bytes(b"x")
    old_umask = os.umask(0o022)
    try:
        train_to(p, out, **{"train.epochs": 1})
    finally:
        os.umask(old_umask)
    assert not (out / "checkpoints").exists()
    # every file a user ships is readable by others under umask 022, as a plain open() would make it
    modes = {f.name: oct(f.stat().st_mode & 0o777) for f in out.iterdir() if f.is_file()}
    assert set(modes.values()) == {"0o644"}, modes
    assert not [f.name for f in out.rglob("*") if f.suffix in PICKLED]
    assert (out / "model.safetensors").is_file()
    state = checkpoint_dir(out)
    assert state.parent == tmp / "clean.state"
    assert [c.name for c in state.glob("checkpoint-*")] and (state / "run_info.json").is_file()


def test_same_config_and_seed_give_the_same_metrics(built):
    p, tmp = built
    a = json.loads((train_to(p, tmp / "s1") / "metrics.json").read_text())
    b = json.loads((train_to(p, tmp / "s2") / "metrics.json").read_text())
    strip = lambda m: {k: v for k, v in m["validation"].items() if "runtime" not in k and "per_second" not in k}
    assert strip(a) == strip(b) and a["train_loss"] == b["train_loss"]
    c = json.loads((train_to(p, tmp / "s3", **{"train.seed": 99}) / "metrics.json").read_text())
    assert c["train_loss"] != a["train_loss"]


def checkpoints_of(out):
    """The Trainer's checkpoints of a model folder, oldest first (they live beside it, not in it)."""
    from pipeline.train.run import checkpoint_dir

    ckpt_dir = checkpoint_dir(out)
    return ckpt_dir, sorted(ckpt_dir.glob("checkpoint-*"), key=lambda x: int(x.name.split("-")[1]))


def test_resume_continues_from_the_checkpoint_and_matches_uninterrupted_run(built):
    """Training is deterministic, so a silent fresh start would reach the same
    metrics: the resumed run must also start at the checkpoint's step and take
    only the steps after it."""
    p, tmp = built
    full_out = train_to(p, tmp / "r_full")
    full = json.loads((full_out / "metrics.json").read_text())
    full_prov = json.loads((full_out / "provenance.json").read_text())
    assert full_prov["start_step"] == 0 and full_prov["steps_this_run"] == full_prov["global_step"] > 0
    out = train_to(p, tmp / "r_cut")
    _, ckpts = checkpoints_of(out)
    assert len(ckpts) == 2
    kept_step = json.loads((ckpts[0] / "trainer_state.json").read_text())["global_step"]
    assert 0 < kept_step < full_prov["global_step"]
    shutil.rmtree(ckpts[-1])  # as if the run died during epoch 2
    for f in ("model.safetensors", "metrics.json", "provenance.json"):
        (out / f).unlink()
    resumed = json.loads((train_to(p, tmp / "r_cut") / "metrics.json").read_text())
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["start_step"] == kept_step
    assert prov["steps_this_run"] == full_prov["global_step"] - kept_step
    assert prov["global_step"] == full_prov["global_step"]
    assert resumed["validation"]["macro_f1"] == full["validation"]["macro_f1"]
    assert resumed["log_history"][-1]["step"] == full["log_history"][-1]["step"]


def test_checkpoint_from_another_model_is_refused(built, tmp_path):
    p, tmp = built
    out = tmp / "m1"
    ckpt_dir, _ = checkpoints_of(out)
    (ckpt_dir / "checkpoint-1").mkdir(parents=True, exist_ok=True)
    info = json.loads((ckpt_dir / "run_info.json").read_text())
    info["base_model"] = "some/other-model"
    (ckpt_dir / "run_info.json").write_text(json.dumps(info))
    with pytest.raises(ModelError, match="checkpoint was trained from some/other-model"):
        train_to(p, out)


def test_checkpoints_from_other_data_are_not_resumed(built, caplog):
    """Edited labels or added articles change the data hash: the old run's checkpoints cannot be continued."""
    p, tmp = built
    full = json.loads((train_to(p, tmp / "d_full") / "metrics.json").read_text())
    out = train_to(p, tmp / "d_cut")
    ckpt_dir, ckpts = checkpoints_of(out)
    shutil.rmtree(ckpts[-1])  # an unfinished run, as in the resume test...
    info = json.loads((ckpt_dir / "run_info.json").read_text())
    info["data_hash"] = "0" * 16  # ...but on other data
    (ckpt_dir / "run_info.json").write_text(json.dumps(info))
    with caplog.at_level("INFO", logger="pipeline.train.run"):
        again = json.loads((train_to(p, out) / "metrics.json").read_text())
    assert "training afresh" in caplog.text and "resuming from" not in caplog.text
    assert again["validation"]["macro_f1"] == full["validation"]["macro_f1"]
    assert json.loads((out / "provenance.json").read_text())["start_step"] == 0


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


def test_joint_examples_pair_each_passage_side_once_with_a_label_per_task(built):
    from datasets import load_from_disk

    from pipeline.train.run import joint_examples

    p, tmp = built
    train = load_from_disk(str(tmp / "data" / "examples"))["train"]
    joint = joint_examples(train, ["stance", "credibility"])
    assert len(joint) * 2 == len(train)  # every (passage, side) has a stance and a credibility example
    by_key = {(e["doc_id"], e["index"], e["target"], e["task"]): e for e in train}
    for j in joint.select(range(0, len(joint), 7)):
        doc, index, target = j["id"].rsplit(":", 2)
        s, c = by_key[(doc, int(index), target, "stance")], by_key[(doc, int(index), target, "credibility")]
        assert j["slots"] == [s["slot"], c["slot"]] and j["text"] == s["text"] == c["text"]
        assert j["text_pair"].startswith("stance and credibility toward the side marked << >>")
        assert j["text_pair"].split(">>", 1)[1] == s["text_pair"].split(">>", 1)[1]  # the context is kept


def test_joint_loss_is_the_shared_slot_loss_over_the_same_labels():
    import torch

    from pipeline.train.trainer import WeightedTrainer

    torch.manual_seed(0)
    logits = torch.randn(5, 6)
    labels = torch.tensor([[0, 2], [1, -100], [2, 0], [1, 1], [-100, 2]])
    weights = torch.tensor([[1.0, 2.0, 3.0], [0.5, 4.0, 6.0]])
    trainer = WeightedTrainer.__new__(WeightedTrainer)  # the loss needs no model or arguments
    trainer.class_weights, trainer.blocks = weights, {"stance": (0, 3), "credibility": (3, 6)}
    got = trainer.joint_loss(logits, labels)
    # the same labels as shared-slot examples: one row per (example, task) with a label
    rows, ys, tids = [], [], []
    for i in range(5):
        for k, (a, b) in enumerate(((0, 3), (3, 6))):
            if labels[i, k] >= 0:
                rows.append(logits[i, a:b])
                ys.append(int(labels[i, k]))
                tids.append(k)
    losses = torch.nn.functional.cross_entropy(torch.stack(rows), torch.tensor(ys), reduction="none")
    w = weights[torch.tensor(tids), torch.tensor(ys)]
    assert torch.allclose(got, (losses * w).sum() / w.sum())


def test_joint_model_answers_both_tasks_from_one_input_per_passage_and_side(built):
    import numpy as np

    from pipeline.dispute import load_dispute
    from pipeline.score.predictor import Predictor, passage_inputs, score_passages

    p, tmp = built
    out = train_to(p, tmp / "joint", **{"train.joint": True})
    lm = json.loads((out / "label_map.json").read_text())
    assert lm["joint"] and lm["blocks"] == {"stance": [0, 3], "credibility": [3, 6]} and lm["num_slots"] == 6
    metrics = json.loads((out / "metrics.json").read_text())["validation"]
    assert {"stance_macro_f1", "credibility_macro_f1", "macro_f1"} <= set(metrics)

    pred = Predictor(out)
    dispute = load_dispute(str(tmp / "data" / "disputes" / "port-strike.yaml"))
    from datasets import load_from_disk

    rows = [r for r in load_from_disk(str(tmp / "data" / "passages"))["test"] if r["dispute"] == "port-strike"][:30]
    seen = []
    logits = pred.logits
    pred.logits = lambda texts, pairs: seen.append(len(texts)) or logits(texts, pairs)
    scored = score_passages(pred, rows, dispute)
    body = sum(r["role"] == "body" for r in rows)
    assert seen == [body * len(dispute.side_names)]  # one forward input per (passage, side), not per task too
    inputs = passage_inputs(rows, dispute, ["joint"], pred.input_cfg)
    probs = pred.probs([x[3] for x in inputs], [x[4] for x in inputs])
    assert np.allclose(probs[:, :3].sum(1), 1) and np.allclose(probs[:, 3:].sum(1), 1)
    first = next(r for r in scored if r["role"] == "body")
    i, side = rows.index(next(r for r in rows if r["role"] == "body")), dispute.side_names[0]
    k = next(n for n, x in enumerate(inputs) if x[0] == i and x[2] == side)
    assert first["side_probs"]["stance"][side] == pytest.approx(probs[k, :3].tolist())
    assert first["side_probs"]["credibility"][side] == pytest.approx(probs[k, 3:].tolist())


def test_joint_needs_stance_and_credibility(built):
    from pipeline.errors import ConfigError

    p, _ = built
    with pytest.raises(ConfigError, match="train.joint"):
        load_config(p, {"train.joint": True, "build.tasks": ["stance"]})


def test_joint_flat_gives_one_row_per_labelled_example_and_task():
    import numpy as np

    from pipeline.train.run import joint_flat

    logits = np.arange(12, dtype=float).reshape(2, 6)
    blocks = {"stance": (0, 3), "credibility": (3, 6)}
    view, labels, task_ids = joint_flat(logits, np.array([[0, -100], [2, 1]]), blocks)
    # example 0's stance (its credibility has no label), example 1's stance and credibility
    assert view.tolist() == [[0, 1, 2], [6, 7, 8], [9, 10, 11]]
    assert labels.tolist() == [0, 2, 1] and task_ids.tolist() == [0, 0, 1]
