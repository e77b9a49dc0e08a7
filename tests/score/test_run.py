"""``stance score``'s run logic: the config (file, dotted overrides, flags), the resume fingerprint, and the
one-line errors for a missing extra. Resuming an interrupted run is tested in test_predictor.py (local)
and test_ray_engine.py (Ray)."""

import dataclasses
import json
import os
import sys

import pytest
import yaml
from conftest import ROOT

from pipeline.config import ScoreConfig, load_score_config
from pipeline.errors import ConfigError, ModelError

DISPUTE = str(ROOT / "configs/disputes/port-strike.yaml")
ARTICLE = str(ROOT / "data/corpus/port-strike/port-strike_01.txt")


def write(tmp_path, data, name="score.yaml"):
    p = tmp_path / name
    p.write_text(yaml.safe_dump(data))
    return p


def parse(argv):
    """A stance score command line as cmd_score reads it: (config, inputs)."""
    from pipeline.cli import _score_config, make_parser

    args, extra = make_parser().parse_known_args(["score", *argv])
    return _score_config(args, extra), args.inputs


# -- ScoreConfig ---------------------------------------------------------------------------------


def test_example_config_loads_and_agrees_with_the_code_defaults():
    from pipeline.score.source_model import DEFAULT_THRESHOLD

    cfg = load_score_config(ROOT / "configs/score.yaml")
    assert cfg.model == "models/default" and cfg.backend == "auto" and cfg.engine == "local"
    # the file spells out the defaults
    assert cfg == ScoreConfig(model=cfg.model, dispute=cfg.dispute, output=cfg.output)
    assert ScoreConfig().source_threshold == DEFAULT_THRESHOLD


BASE = {"model": "m", "dispute": "d.yaml", "output": "o"}


@pytest.mark.parametrize(
    "data, message",
    [
        ({"score": {**BASE, "bakend": "int8"}}, r"score\.yaml: score\.bakend: unknown key; did you mean 'backend'\?"),
        ({"scor": BASE}, r"score\.yaml: scor: unknown key; did you mean 'score'\?"),
        ({"score": {**BASE, "batch_size": "big"}}, r"score\.yaml: score\.batch_size: expected an integer, found 'big'"),
        (
            {"score": {**BASE, "engine": "rey"}},
            r"score\.yaml: score\.engine: unknown engine 'rey'; did you mean 'ray'\? expected one of local, ray",
        ),
        ({"score": {**BASE, "format": "parket"}}, r"score\.format: unknown format 'parket'; did you mean 'parquet'\?"),
        ({"score": {**BASE, "chunk_articles": 0}}, r"score\.chunk_articles: must be a positive integer, found 0"),
        (
            {"score": {**BASE, "source_threshold": 1.5}},
            r"score\.source_threshold: must be a probability in \(0, 1\], found 1\.5",
        ),
        (
            {"score": {"dispute": "d.yaml", "output": "o"}},
            r"score\.yaml: score\.model: required; pass --model MODEL_DIR or set score\.model",
        ),
    ],
)
def test_bad_config_names_the_file_and_key(tmp_path, data, message):
    with pytest.raises(ConfigError, match=message):
        load_score_config(write(tmp_path, data))


def test_flags_override_dotted_overrides_which_override_the_file(tmp_path):
    p = write(tmp_path, {"score": {**BASE, "backend": "int8", "batch_size": 8}})
    cfg, inputs = parse(["--config", str(p), "--score.backend", "onnx-int8", "--score.chunk_articles=4", "IN1", "IN2"])
    assert (cfg.backend, cfg.batch_size, cfg.chunk_articles, cfg.model) == ("onnx-int8", 8, 4, "m")
    assert inputs == ["IN1", "IN2"]  # an override's value is not taken for an input
    cfg, _ = parse(["--config", str(p), "--score.backend", "onnx-int8", "--backend", "torch", "--no-progress", "IN"])
    assert cfg.backend == "torch" and cfg.progress is False
    # no file: today's flags alone
    cfg, _ = parse(["--model", "m2", "--dispute", "d.yaml", "--output", "o", "--batch-size", "16", "IN"])
    assert (cfg.model, cfg.batch_size, cfg.backend) == ("m2", 16, "auto")


def test_cli_config_errors_are_one_line_before_anything_loads(tmp_path, capsys):
    from pipeline.cli import main

    out = tmp_path / "out"
    for argv, expected in [
        (
            ["--model", "no/such/model", "--dispute", DISPUTE, "--output", str(out), "--score.bakend", "int8", ARTICLE],
            "error: --score.bakend: unknown key; did you mean 'backend'?",
        ),
        (
            ["--model", "no/such/model", "--dispute", DISPUTE, "--output", str(out), "--engine", "rey", ARTICLE],
            "error: stance score: score.engine: unknown engine 'rey'; did you mean 'ray'? expected one of local, ray",
        ),
        (
            ["--dispute", DISPUTE, "--output", str(out), ARTICLE],
            "error: stance score: score.model: required; pass --model MODEL_DIR or set score.model in a --config file",
        ),
    ]:
        assert main(["-q", "score", *argv]) == 2
        assert capsys.readouterr().err.strip() == expected
    assert not out.exists()


def test_score_from_a_config_file_with_dotted_overrides(tiny_trained, tmp_path):
    from pipeline.cli import main

    p = write(
        tmp_path,
        {
            "score": {
                "model": str(tiny_trained[0]),
                "dispute": DISPUTE,
                "output": str(tmp_path / "a"),
                "progress": False,
            }
        },
    )
    argv = [
        "-q",
        "score",
        "--config",
        str(p),
        "--score.output",
        str(tmp_path / "b"),
        "--score.chunk_articles",
        "1",
        ARTICLE,
    ]
    assert main(argv) == 0
    assert not (tmp_path / "a").exists() and (tmp_path / "b" / "passages.jsonl").stat().st_size > 0
    summary = json.loads((tmp_path / "b" / "_score_state.json").read_text())["summary"]
    assert summary["config"]["chunk_articles"] == 1 and summary["config"]["output"] == str(tmp_path / "b")
    assert summary["inputs"] == [ARTICLE] and summary["command"].startswith("stance -q score --config")


# -- the resume fingerprint ----------------------------------------------------------------------


def test_fingerprint_follows_inputs_backend_and_format_not_the_engine(tiny_trained, tmp_path):
    """A rerun resumes only what the same model, backend, dispute, format and input files made;
    the engine does not change the bytes, so a local run may be resumed on Ray."""
    from pipeline.score.run import _fingerprint, load_models

    model = str(tiny_trained[0])
    version = {b: load_models(ScoreConfig(model=model, engine="ray", backend=b)).version for b in ("torch", "int8")}
    assert version["torch"] != version["int8"]
    assert load_models(ScoreConfig(model=model, engine="local", backend="torch")).version == version["torch"]
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.txt").write_text("The union said the offer was fair.")
    fp = lambda v=version["torch"], fmt="jsonl", inputs=(str(folder),), stdin=None: _fingerprint(
        v, DISPUTE, list(inputs), stdin, fmt
    )
    base = fp()
    assert fp() == base
    assert fp(v=version["int8"]) != base and fp(fmt="csv") != base
    assert fp(stdin=b"{}", inputs=("-",)) != fp(stdin=b"[]", inputs=("-",))
    (folder / "b.txt").write_text("Another article.")
    added = fp()
    assert added != base
    st = (folder / "a.txt").stat()
    os.utime(folder / "a.txt", ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))  # the same bytes, touched
    assert fp() != added


def test_a_finished_run_is_not_redone_and_another_format_starts_afresh(tiny_trained, tmp_path):
    from pipeline.score.run import score

    cfg = ScoreConfig(model=str(tiny_trained[0]), dispute=DISPUTE, output=str(tmp_path / "o"), progress=False)
    first = score(cfg, [ARTICLE])
    again = score(cfg, [ARTICLE])
    assert again == first  # the stored summary: nothing scored twice
    csv = score(dataclasses.replace(cfg, format="csv"), [ARTICLE])
    assert csv["passages_file"].endswith("passages.csv") and csv["passages"] == first["passages"]


# -- optional dependencies -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "missing, change, error, message",
    [
        ("pyarrow", {"format": "parquet"}, ConfigError, "--format parquet needs pyarrow (the [parquet] extra)"),
        ("pandas", {"format": "csv"}, ConfigError, "--format csv needs pandas (the [parquet] extra)"),
        ("onnxruntime", {"backend": "onnx"}, ModelError, "--backend onnx needs onnxruntime (the [onnx] extra)"),
        ("onnxscript", {"backend": "onnx-int8"}, ModelError, "--backend onnx-int8 needs onnxscript (the [onnx] extra)"),
    ],
)
def test_missing_extra_is_one_line_naming_it(tiny_trained, tmp_path, monkeypatch, missing, change, error, message):
    from pipeline.score.run import score

    monkeypatch.setitem(sys.modules, missing, None)  # what `import` sees when the package is not installed
    extra = message.split("[")[1].split("]")[0]
    cfg = ScoreConfig(model=str(tiny_trained[0]), dispute=DISPUTE, output=str(tmp_path / "o"), progress=False, **change)
    with pytest.raises(error) as exc:
        score(cfg, [ARTICLE])
    msg = str(exc.value)
    assert msg.startswith(message) and f"pip install 'stance-pipeline[{extra}]'" in msg and "\n" not in msg
    assert not (tmp_path / "o").exists(), "fails before loading or writing anything"


def test_onnx_backend_and_export_without_the_extra(tiny_trained, tmp_path, monkeypatch, capsys):
    from pipeline.cli import main
    from pipeline.score.onnx_export import export_onnx
    from pipeline.score.predictor import Predictor

    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(
        ModelError,
        match=r"^--backend onnx-int8 needs onnx \(the \[onnx\] extra\), which is not "
        r"installed; install with pip install 'stance-pipeline\[onnx\]'",
    ):
        Predictor(tiny_trained[0], backend="onnx-int8")
    with pytest.raises(ModelError, match=r"^--backend onnx \(to export the model\) needs onnx \(the \[onnx\] extra\)"):
        export_onnx(tiny_trained[0], tmp_path / "model.onnx", ["input_ids", "attention_mask"])
    rc = main(
        [
            "-q",
            "score",
            "--model",
            str(tiny_trained[0]),
            "--dispute",
            DISPUTE,
            "--output",
            str(tmp_path / "o"),
            "--backend",
            "onnx",
            ARTICLE,
        ]
    )
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("error: --backend onnx needs onnx (the [onnx] extra)") and err.count("\n") == 1
