"""The ``stance`` command: instant help, one-line user errors, tracebacks only with -v,
config checks, the summary table."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import ROOT

from pipeline import __version__
from pipeline.cli import main, summary_table

SUBCOMMANDS = ("build", "train", "evaluate", "score", "compare")
HEAVY = ("torch", "transformers", "datasets", "sklearn", "onnxruntime", "ray")
MISSING_CONFIG = "error: no/such.yaml: config file not found; pass an existing file, e.g. configs/default.yaml"


def stance(*args, cwd=ROOT):
    """Run the installed ``stance`` script (``python -m pipeline`` where the venv has none)."""
    script = Path(sys.executable).parent / "stance"
    cmd = [str(script)] if script.is_file() else [sys.executable, "-m", "pipeline"]
    return subprocess.run(cmd + list(args), capture_output=True, text=True, cwd=cwd, timeout=120)


def stderr_lines(r) -> list[str]:
    return [line for line in r.stderr.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def port_strike_data(tmp_path_factory) -> Path:
    """A dataset folder built from one embedded dispute (a few seconds, no model)."""
    from pipeline.config import Config, from_dict
    from pipeline.dataset.run import build

    out = tmp_path_factory.mktemp("cli") / "data"
    source = {
        "inputs": [str(ROOT / "data/corpus/port-strike")],
        "labels": str(ROOT / "data/labels"),
        "dispute": str(ROOT / "configs/disputes/port-strike.yaml"),
    }
    return build(from_dict(Config, {"build": {"output": str(out), "sources": [source]}}))


# -- help and version ---------------------------------------------------------


@pytest.mark.parametrize("command", [(), *((c,) for c in SUBCOMMANDS)], ids=["stance", *SUBCOMMANDS])
def test_help_imports_no_heavy_library(command):
    code = (
        "import sys\n"
        "from pipeline.cli import main\n"
        "try:\n"
        f"    main({list(command) + ['--help']!r})\n"
        "except SystemExit as exc:\n"
        "    assert exc.code == 0, exc.code\n"
        f"print('heavy:', sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith(f"usage: stance {' '.join(command)}".rstrip())
    assert lines[-1] == "heavy: []"  # nothing heavy was imported to print the help


def test_top_level_help_lists_every_stage(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert all(f"    {c} " in out for c in SUBCOMMANDS) and "--verbose" in out


def test_the_installed_script_reports_the_version():
    r = stance("--version")
    assert r.returncode == 0 and r.stdout.strip() == f"stance {__version__}"


# -- user mistakes: one line, non-zero, no traceback ------------------------------


def write_config(tmp_path, data) -> Path:
    p = tmp_path / "c.yaml"
    p.write_text(yaml.safe_dump(data))
    return p


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", "no/such.yaml"], MISSING_CONFIG),
        (["build", "no/such.yaml"], MISSING_CONFIG),
        (
            ["train", "configs/default.yaml", "--train.epoch", "3"],
            "error: configs/default.yaml: train.epoch: unknown key; did you mean 'epochs'?",
        ),
        (
            ["train", "configs/default.yaml", "--trian.epochs", "3"],
            "error: configs/default.yaml: trian: unknown key; did you mean 'train'?",
        ),
        (
            ["train", "configs/default.yaml", "--nosuch.key", "3"],
            "error: configs/default.yaml: nosuch: unknown key; known keys: run_name, build, train, evaluate, score",
        ),
        (
            ["train", "configs/default.yaml", "--trainepochs", "3"],
            "error: override '--trainepochs': expected --section.key VALUE, e.g. --train.learning_rate 3e-5",
        ),
        (
            ["train", "configs/default.yaml", "--train.epochs"],
            "error: override '--train.epochs': missing value; write --train.epochs VALUE",
        ),
        (["evaluate"], "error: evaluate: pass --model MODEL_DIR and --data DATASET_DIR, or a CONFIG"),
        (
            ["score", "x.txt", "--model", "m", "--dispute", "d.yaml", "--output", "o", "--bogus", "1"],
            "error: score: unexpected arguments --bogus 1; see stance score --help",
        ),
        (["compare", "a", "b", "--bogus"], "error: compare: unexpected arguments --bogus; see stance compare --help"),
    ],
    ids=[
        "missing-config",
        "missing-config-build",
        "did-you-mean",
        "did-you-mean-section",
        "unknown-section",
        "not-dotted",
        "no-value",
        "evaluate-no-paths",
        "score-extra",
        "compare-extra",
    ],
)
def test_a_user_mistake_is_one_line_on_stderr(args, message):
    r = stance(*args)
    assert r.returncode == 2
    assert stderr_lines(r) == [message]
    assert r.stdout == ""


def test_an_unknown_key_in_the_file_names_file_key_and_suggestion(tmp_path):
    p = write_config(tmp_path, {"build": {"tasks": ["stance"], "contxt_sentences": 2}})
    r = stance("build", str(p))
    assert r.returncode == 2
    assert stderr_lines(r) == [f"error: {p}: build.contxt_sentences: unknown key; did you mean 'context_sentences'?"]


def test_verbose_shows_the_traceback_of_a_user_mistake():
    r = stance("-v", "train", "no/such.yaml")
    assert r.returncode == 2
    assert "Traceback (most recent call last)" in r.stderr and "pipeline.errors.ConfigError" in r.stderr
    assert stderr_lines(r)[-1] == MISSING_CONFIG


def test_a_bug_is_one_line_and_verbose_raises_it(monkeypatch, capsys, tmp_path):
    import pipeline.compare.run

    def broken(*args, **kwargs):
        raise RuntimeError("list index out of range\nsecond line")

    # a stand-in for a bug inside a stage: the CLI's handling of it is what is tested
    monkeypatch.setattr(pipeline.compare.run, "compare", broken)
    assert main(["-q", "compare", str(tmp_path / "a"), str(tmp_path / "b")]) == 1
    err = capsys.readouterr().err
    assert err == "internal error: RuntimeError: list index out of range (rerun with --verbose for the traceback)\n"
    with pytest.raises(RuntimeError, match="list index out of range"):
        main(["-v", "compare", str(tmp_path / "a"), str(tmp_path / "b")])


def test_an_interrupt_says_a_rerun_resumes(monkeypatch, capsys, tmp_path):
    import pipeline.compare.run

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline.compare.run, "compare", interrupted)
    assert main(["-q", "compare", str(tmp_path / "a"), str(tmp_path / "b")]) == 130
    assert capsys.readouterr().err == "interrupted; partial outputs are kept and a rerun resumes\n"


# -- stance train --check -----------------------------------------------------------


def test_train_check_validates_config_dataset_and_model_without_training(port_strike_data, tmp_path):
    out = tmp_path / "model"
    r = stance(
        "-q",
        "train",
        "configs/default.yaml",
        "--check",
        "--build.output",
        str(port_strike_data),
        "--train.output_dir",
        str(out),
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout == "config ok: configs/default.yaml\n" and r.stderr == ""
    assert not out.exists()


def test_train_check_imports_no_heavy_library(port_strike_data):
    code = (
        "import sys\n"
        "from pipeline.cli import main\n"
        f"rc = main(['-q', 'train', 'configs/default.yaml', '--check', '--build.output', {str(port_strike_data)!r}])\n"
        f"print(rc, sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[-1] == "0 []"


def test_train_check_without_a_dataset_says_to_build_first(tmp_path):
    d = tmp_path / "none"
    r = stance("-q", "train", "configs/default.yaml", "--check", "--build.output", str(d))
    assert r.returncode == 2
    assert stderr_lines(r) == [
        f"error: {d}: not a dataset folder (no manifest.json); run `stance build` first or fix build.output"
    ]


# -- summary_table ------------------------------------------------------------------


def test_summary_table_formats_a_commentary_report(tmp_path):
    metrics = {
        "format_version": 1,
        "splits": {
            "test": {
                "passages": {
                    "side_favored": {"n": 10, "accuracy": 0.8125, "macro_f1": 0.75},
                    "credibility_judged": {"n": 10, "accuracy": 0.9, "macro_f1": 0.5},
                    "by_side_name": {
                        "stance": {"accuracy": 0.8125, "macro_f1": 0.5},
                        "credibility": {"accuracy": 0.9, "macro_f1": 0.25},
                    },
                },
                "examples": {
                    "stance": {"n": 20, "accuracy": 0.85, "macro_f1": 0.8},
                    "credibility": {"n": 20, "accuracy": 0.95, "macro_f1": 0.6},
                },
                "baselines": {
                    "majority": {
                        "side_favored": {"macro_f1": 0.25},
                        "credibility_judged": {"macro_f1": 0.3},
                        "examples": {"stance": {"macro_f1": 0.2}},
                    },
                    "tfidf_logreg": {"side_favored": {"macro_f1": 0.6}},
                },
                "articles": {
                    "author_favors_accuracy": 0.875,
                    "more_credible_accuracy": 0.5,
                    "n_with_gold": 8,
                    "neutral_reports": {"n": 3, "judged_neutral": 2 / 3},
                    "side_taking": {"n": 5, "right_side": 1.0},
                },
                "side_swap": {"consistency": 0.9},
            },
            "seed": {"passages": {"credibility_judged": {"n": 3, "accuracy": 1.0, "macro_f1": 1.0}}},
        },
    }
    p = tmp_path / "metrics.json"
    p.write_text(json.dumps(metrics))
    assert summary_table(p).splitlines() == [
        "role labels: side favored side 1 / side 2 / neutral (dispute config order); stance and credibility "
        "per (passage, side): favor / against / none, credible / not_credible / none",
        "split      task               model acc  macro-F1  tfidf F1 majority F1",
        "test       side favored           0.812     0.750     0.600       0.250",
        "test       stance/side            0.850     0.800         -       0.200",
        "test       credibility/side       0.950     0.600         -           -",
        "test       credibility judged     0.900     0.500         -       0.300",
        "test       over side names (as before): side favored accuracy 0.812 macro-F1 0.500, "
        "credibility accuracy 0.900 macro-F1 0.250",
        "test       articles: author-favors accuracy 0.875, more-credible accuracy 0.500 (n=8; neutral reports "
        "judged neutral 0.667 of 3, side-taking right 1.000 of 5); side-swap consistency 0.9",
        "seed       credibility judged     1.000     1.000         -           -",
    ]


def test_summary_table_shows_the_source_side_rows(tmp_path):
    passages = {
        "source_side": {"accuracy": 0.7},
        "source_side_rules": {"accuracy": 0.8},
        "source_side_rules_then_model": {"accuracy": 0.85},
    }
    p = tmp_path / "metrics.json"
    p.write_text(json.dumps({"splits": {"test": {"passages": passages}}}))
    assert summary_table(p).splitlines()[2:] == [
        "test       source side accuracy: classifier 0.700, rules 0.800, rules then classifier 0.850"
    ]


def test_summary_table_formats_a_benchmark_report(tmp_path):
    task = {
        "accuracy": 0.6,
        "macro_f1": 0.55,
        "official": 0.5,
        "per_class": {"favor": {"f1": 0.7}, "against": {"f1": 0.4}},
    }
    metrics = {
        "kind": "benchmark",
        "official_measure": "f_avg",
        "splits": {
            "test": {"task": task, "baselines": {"majority": {"accuracy": 0.5, "macro_f1": 0.2, "official": None}}}
        },
    }
    p = tmp_path / "metrics.json"
    p.write_text(json.dumps(metrics))
    assert summary_table(p).splitlines() == [
        "split      system          accuracy  macro-F1          f_avg",
        "test       model              0.600     0.550          0.500",
        "test       majority           0.500     0.200              -",
        "test       per-class F1: favor 0.700, against 0.400",
    ]


def test_quiet_turns_off_the_model_loading_bars(monkeypatch):
    """-q: warnings and errors only, so no "Loading weights" bars from the hub or transformers either."""
    from pipeline.cli import _setup_logging

    monkeypatch.delenv("HF_HUB_DISABLE_PROGRESS_BARS", raising=False)
    _setup_logging(False, False)
    assert "HF_HUB_DISABLE_PROGRESS_BARS" not in os.environ
    _setup_logging(False, True)
    assert os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] == "1"
