import json
import shutil

import pytest

from pipeline.errors import DataError, ModelError
from pipeline.evaluate.run import evaluate


def test_model_folder_without_label_map(tiny_trained, tmp_path):
    model, data = tiny_trained
    bad = tmp_path / "model"
    shutil.copytree(model, bad, ignore=shutil.ignore_patterns("checkpoints", "report"))
    (bad / "label_map.json").unlink()
    with pytest.raises(ModelError, match="no label_map.json; this folder was not written by `stance train`"):
        evaluate(bad, data, tmp_path / "r")


def test_data_with_labels_the_model_does_not_know(tiny_trained, tmp_path):
    model, data = tiny_trained
    bad = tmp_path / "data"
    shutil.copytree(data, bad)
    m = json.loads((bad / "manifest.json").read_text())
    m["task_labels"]["credibility"] = ["none", "true", "false"]
    (bad / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(DataError, match="labels for credibility are"):
        evaluate(model, bad, tmp_path / "r")
    with pytest.raises(DataError, match="no 'nosuch' split"):
        evaluate(model, data, tmp_path / "r", split="nosuch")
