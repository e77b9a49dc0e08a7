"""A model value that is neither a local folder nor a model the hub can serve fails at ``--check``, naming the key,
instead of passing it and then spending a minute on hub retries."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

import pipeline.train.model as model
from pipeline.errors import ModelError
from pipeline.train.model import resolve_model


def stance(*args, cwd=ROOT, env=None):
    script = Path(sys.executable).parent / "stance"
    cmd = [str(script)] if script.is_file() else [sys.executable, "-m", "pipeline"]
    return subprocess.run(cmd + list(args), capture_output=True, text=True, cwd=cwd, timeout=120, env=env)


def test_train_check_refuses_a_relative_model_path_that_does_not_exist(tmp_path):
    """The issue's case: ``mymodels/run1`` does not exist here and the hub is offline (as in every test)."""
    r = stance(
        "-q",
        "train",
        "configs/default.yaml",
        "--check",
        "--train.model",
        "mymodels/run1",
        "--build.output",
        str(tmp_path / "none"),
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.strip().splitlines() == [
        "error: train.model: mymodels/run1 is not a local folder, nor in the Hugging Face cache, "
        "and the hub is offline (HF_HUB_OFFLINE); point it at a local folder (a relative path starts with ./), "
        "load the hub model once while online, or use packaged:all-MiniLM-L6-v2"
    ]


def test_a_path_beside_an_existing_folder_is_a_path(tmp_path, monkeypatch):
    (tmp_path / "mymodels" / "run0").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(model, "_hub_problem", lambda name: pytest.fail("a path must not reach the hub"))
    message = r"^train.model: model path mymodels/run1 does not exist \(the folder mymodels/ does\); fix the path"
    with pytest.raises(ModelError, match=message):
        resolve_model("mymodels/run1")


@pytest.mark.parametrize("name", ["./mymodels/run1", "mymodels/run1/", "runs/a/b", "my model"])
def test_path_like_values_that_do_not_exist_are_errors(name, monkeypatch):
    monkeypatch.setattr(model, "_hub_problem", lambda name: pytest.fail("a path must not reach the hub"))
    with pytest.raises(ModelError, match=r"^train.model: model path .* does not exist"):
        resolve_model(name)


def test_hub_names_resolve_when_cached_or_found_online(monkeypatch):
    monkeypatch.setattr(model, "_hub_cached", lambda name: name == "sentence-transformers/all-MiniLM-L6-v2")
    assert resolve_model("sentence-transformers/all-MiniLM-L6-v2") == "sentence-transformers/all-MiniLM-L6-v2"
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    asked = []
    monkeypatch.setattr(model, "_hub_problem", lambda name: asked.append(name))
    assert resolve_model("bert-base-uncased") == "bert-base-uncased" and asked == ["bert-base-uncased"]


def test_online_a_name_the_hub_does_not_know_is_an_error(monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    monkeypatch.setattr(model, "_hub_cached", lambda name: False)
    monkeypatch.setattr(model, "_hub_problem", lambda name: "the Hugging Face hub has no model of that name")
    with pytest.raises(ModelError, match=r"^train.model: mymodels/run1 is not a local folder, and the Hugging Face"):
        resolve_model("mymodels/run1")


def test_hub_problem_reports_an_unreachable_hub_quickly(monkeypatch):
    """No network: one query that fails at once, not download retries."""
    import huggingface_hub

    def unreachable(self, repo_id, **kw):
        assert kw.get("timeout") == model.HUB_TIMEOUT_S
        raise ConnectionError("Name or service not known")

    monkeypatch.setattr(huggingface_hub.HfApi, "model_info", unreachable)
    expected = "the Hugging Face hub cannot be reached to find it (ConnectionError: Name or service not known)"
    assert model._hub_problem("mymodels/run1") == expected
