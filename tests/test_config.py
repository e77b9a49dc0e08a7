import subprocess
import sys

import pytest
import yaml
from conftest import ROOT

from pipeline.config import load_config, parse_overrides
from pipeline.errors import ConfigError


def write(tmp_path, data, name="c.yaml"):
    p = tmp_path / name
    p.write_text(yaml.safe_dump(data))
    return p


def test_default_config_loads():
    cfg = load_config(ROOT / "configs/default.yaml")
    assert cfg.train.model == "packaged:all-MiniLM-L6-v2"
    assert len(cfg.build.sources) >= 4


def test_unknown_key_names_file_key_and_suggests(tmp_path):
    p = write(tmp_path, {"train": {"learnin_rate": 1e-4}})
    with pytest.raises(ConfigError) as e:
        load_config(p)
    msg = str(e.value)
    assert str(p) in msg and "train.learnin_rate" in msg and "did you mean 'learning_rate'" in msg


def test_wrong_type_is_rejected(tmp_path):
    p = write(tmp_path, {"train": {"batch_size": "big"}})
    with pytest.raises(ConfigError, match=r"train.batch_size: expected an integer"):
        load_config(p)


def test_dotted_overrides_are_typed_and_validated(tmp_path):
    p = write(tmp_path, {"train": {"epochs": 2}})
    cfg = load_config(
        p, parse_overrides(["--train.learning_rate", "3e-5", "--train.epochs=4", "--build.tasks", "[stance]"])
    )
    assert cfg.train.learning_rate == 3e-5 and cfg.train.epochs == 4.0 and cfg.build.tasks == ["stance"]
    with pytest.raises(ConfigError, match="did you mean 'epochs'"):
        load_config(p, parse_overrides(["--train.epoch", "3"]))


def test_missing_dispute_file_is_named(tmp_path):
    p = write(tmp_path, {"build": {"sources": [{"inputs": ["x"], "dispute": "configs/disputes/nope.yaml"}]}})
    with pytest.raises(ConfigError, match=r"build.sources\[0\].dispute: file configs/disputes/nope.yaml not found"):
        load_config(p)


def run_cli(*args, cwd=ROOT):
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args], capture_output=True, text=True, cwd=cwd, timeout=120
    )


def test_cli_bad_config_is_one_line_without_traceback(tmp_path):
    p = write(tmp_path, {"train": {"lr": 1}})
    r = run_cli("train", str(p))
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    assert lines == [lines[0]] and lines[0].startswith("error: ") and "train.lr" in lines[0]


def test_cli_missing_model_path_is_one_line(tmp_path):
    r = run_cli(
        "train",
        str(ROOT / "configs/default.yaml"),
        "--train.model",
        "./no/such/model",
        "--build.output",
        str(tmp_path / "none"),
    )
    assert r.returncode == 2 and "Traceback" not in r.stderr
    errors = [l for l in r.stderr.splitlines() if l.startswith("error: ")]
    assert len(errors) == 1 and "train.model: model path ./no/such/model does not exist" in errors[0]


def test_help_does_not_import_torch():
    code = (
        "import sys, pipeline.cli as c; c.make_parser().format_help(); "
        "assert 'torch' not in sys.modules and 'transformers' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
    r = run_cli("--help")
    assert r.returncode == 0 and "build" in r.stdout and "compare" in r.stdout


def test_abstain_threshold_must_be_a_probability(tmp_path):
    p = write(tmp_path, {"train": {"abstain_threshold": 1.5}})
    with pytest.raises(ConfigError, match="train.abstain_threshold: must be a probability"):
        load_config(p)


def test_validation_to_train_must_leave_some_validation(tmp_path):
    p = write(tmp_path, {"build": {"sources": [], "benchmark": {"name": "persent", "validation_to_train": 1.0}}})
    with pytest.raises(ConfigError, match=r"build.benchmark.validation_to_train: must be a fraction in \[0, 1\)"):
        load_config(p)
