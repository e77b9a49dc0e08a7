"""Two processes train one model together under torchrun (gloo on CPU)."""

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import yaml
from conftest import ROOT


def test_torchrun_two_processes_train_one_model(tmp_path, tiny_model):
    from pipeline.config import load_config
    from pipeline.dataset.run import build

    source = {
        "inputs": [str(ROOT / "data/corpus/port-strike")],
        "labels": str(ROOT / "data/labels"),
        "dispute": str(ROOT / "configs/disputes/port-strike.yaml"),
    }
    cfg = {
        "build": {"output": str(tmp_path / "data"), "sources": [source]},
        "train": {
            "model": str(tiny_model),
            "output_dir": str(tmp_path / "model"),
            "epochs": 1,
            "batch_size": 16,
            "max_length": 64,
            "progress": False,
            "early_stopping_patience": 0,
        },
    }
    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump(cfg))
    build(load_config(config), str(config))
    torchrun = Path(sys.executable).parent / "torchrun"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [str(torchrun), "--nproc_per_node=2", "--master_port=29533", "-m", "pipeline", "-q", "train", str(config)]
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300, env=env)
    assert r.returncode == 0, r.stderr[-3000:]
    prov = json.loads((tmp_path / "model" / "provenance.json").read_text())
    n_train = json.loads((tmp_path / "data" / "manifest.json").read_text())["splits"]["train"]
    assert prov["world_size"] == 2
    # each optimizer step consumed one batch on each process: half the single-process steps
    assert prov["global_step"] == math.ceil(n_train / (16 * 2))
    model = tmp_path / "model"
    assert (model / "model.safetensors").is_file() and (model / "label_map.json").is_file()
    # rank 0 alone writes the model folder: no training state in it, the checkpoints beside it
    assert not (model / "checkpoints").exists() and not (model / "training_args.bin").exists()
    assert list((tmp_path / "model.state" / "checkpoints").glob("checkpoint-*"))
