"""The file contracts between stages: the dataset, model and report folders, read and written through one module."""

import json
import re

import pytest

from pipeline.contracts import (
    DATASET_FORMAT,
    MODEL_FORMAT,
    REPORT_FORMAT,
    dispute_paths,
    is_model_folder,
    model_identity,
    partial_dir,
    publish_dataset,
    read_article_answers,
    read_calibration,
    read_label_map,
    read_manifest,
    read_provenance,
    read_report,
    report_dir_of,
    write_article_answers,
    write_model_files,
    write_report,
)
from pipeline.errors import DataError, ModelError, ReportError, StanceError


def raises(exc, message):
    """pytest.raises pinned to the whole message (not a pattern)."""
    return pytest.raises(exc, match=re.escape(message))


def write(path, obj):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj), encoding="utf-8")
    return path


# -- dataset folder -----------------------------------------------------------


def test_read_manifest_names_a_missing_folder_and_says_how_to_fix_it(tmp_path):
    d = tmp_path / "nowhere"
    with raises(DataError, f"{d}: not a dataset folder (no manifest.json); run `stance build` first or fix the path"):
        read_manifest(d)


def test_read_manifest_on_a_folder_without_manifest_uses_the_callers_hint(tmp_path):
    with raises(DataError, f"{tmp_path}: not a dataset folder (no manifest.json); fix build.output"):
        read_manifest(tmp_path, "fix build.output")


def test_read_manifest_rejects_another_format_version(tmp_path):
    p = write(tmp_path / "manifest.json", {"format_version": DATASET_FORMAT + 1, "splits": {}})
    message = f"{p}: dataset format {DATASET_FORMAT + 1} is not {DATASET_FORMAT}; rebuild it with `stance build`"
    with raises(DataError, message):
        read_manifest(tmp_path)


def test_read_manifest_returns_the_manifest_and_takes_a_missing_version_as_current(tmp_path):
    write(tmp_path / "manifest.json", {"format_version": DATASET_FORMAT, "data_hash": "abc"})
    assert read_manifest(tmp_path) == {"format_version": DATASET_FORMAT, "data_hash": "abc"}
    write(tmp_path / "manifest.json", {"data_hash": "abc"})
    assert read_manifest(str(tmp_path)) == {"data_hash": "abc"}


def test_read_manifest_names_the_line_of_malformed_json(tmp_path):
    (tmp_path / "manifest.json").write_text('{"splits":\n', encoding="utf-8")
    with raises(StanceError, f"{tmp_path / 'manifest.json'}: line 2: malformed JSON"):
        read_manifest(tmp_path)


def test_partial_dir_is_an_empty_sibling_folder(tmp_path):
    out = tmp_path / "data"
    stale = tmp_path / "data.partial"
    stale.mkdir()
    (stale / "leftover.arrow").write_text("x")
    tmp = partial_dir(out)
    assert tmp == stale and not tmp.exists()  # a failed build's leftovers are gone


def test_publish_dataset_writes_the_contract_files_and_moves_the_partial_folder_in_place(tmp_path):
    out = tmp_path / "data"
    tmp = partial_dir(out)
    (tmp / "train").mkdir(parents=True)
    (tmp / "train" / "part.arrow").write_text("rows")
    manifest = {"format_version": DATASET_FORMAT, "splits": {"train": 1}}
    publish_dataset(tmp, out, manifest, {"passages": 1}, "# data report\n")
    assert not tmp.exists()
    assert sorted(p.name for p in out.iterdir()) == ["data_report.json", "data_report.md", "manifest.json", "train"]
    assert read_manifest(out)["splits"] == {"train": 1}
    assert json.loads((out / "data_report.json").read_text()) == {"passages": 1}
    assert (out / "data_report.md").read_text() == "# data report\n"
    assert (out / "train" / "part.arrow").read_text() == "rows"


def test_publish_dataset_replaces_an_existing_folder_entirely(tmp_path):
    out = tmp_path / "data"
    (out / "old_split").mkdir(parents=True)
    write(out / "manifest.json", {"format_version": DATASET_FORMAT, "data_hash": "old"})
    tmp = partial_dir(out)
    tmp.mkdir()
    publish_dataset(tmp, out, {"format_version": DATASET_FORMAT, "data_hash": "new"}, {}, "")
    assert read_manifest(out)["data_hash"] == "new"
    assert not (out / "old_split").exists() and not tmp.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["data"]


def test_dispute_paths_resolve_inside_the_dataset_folder(tmp_path):
    manifest = {"disputes": {"port-strike": "disputes/port-strike.yaml", "river-border": "disputes/river-border.yaml"}}
    assert dispute_paths(tmp_path, manifest) == {
        "port-strike": tmp_path / "disputes/port-strike.yaml",
        "river-border": tmp_path / "disputes/river-border.yaml",
    }
    assert dispute_paths(str(tmp_path), {}) == {}


def test_article_answers_round_trip_and_default_to_empty(tmp_path):
    assert read_article_answers(tmp_path) == {}
    answers = {"port-strike_01": {"author_favors": "UNION", "more_credible": None}}
    write_article_answers(tmp_path, answers)
    assert read_article_answers(tmp_path) == answers


# -- model folder -------------------------------------------------------------


def test_read_label_map_names_a_missing_model_folder(tmp_path):
    d = tmp_path / "no-model"
    with raises(ModelError, f"{d}: model folder not found; train one with `stance train` or fix the path"):
        read_label_map(d)


def test_read_label_map_rejects_a_folder_without_label_map(tmp_path):
    with raises(
        ModelError,
        f"{tmp_path}: no label_map.json; this folder was not written by `stance train` "
        "(retrain, or copy the label map beside the weights)",
    ):
        read_label_map(tmp_path)
    assert not is_model_folder(tmp_path)


@pytest.mark.parametrize("version", [None, MODEL_FORMAT + 1])
def test_read_label_map_rejects_another_format_version(tmp_path, version):
    label_map = {"tasks": {}} if version is None else {"format_version": version, "tasks": {}}
    p = write(tmp_path / "label_map.json", label_map)
    with raises(ModelError, f"{p}: model format {version} is not {MODEL_FORMAT}; retrain the model with this version"):
        read_label_map(tmp_path)


def test_calibration_and_provenance_default_to_empty(tmp_path):
    assert read_calibration(tmp_path) == {} and read_provenance(tmp_path) == {}
    assert model_identity(tmp_path / "m1") == ("m1", "?:?")


def test_write_model_files_is_read_back_by_the_readers(tmp_path):
    out = tmp_path / "my-model"
    out.mkdir()
    provenance = {"code_version": "1a2b3c", "data_hash": "0123456789abcdef0123", "base_model": "tiny"}
    write_model_files(
        out,
        label_map={"tasks": {"stance": ["none", "favor", "against"]}},
        calibration={"temperature": 1.7, "abstain_threshold": None},
        train_config_yaml="train: {}\n",
        provenance=provenance,
        metrics={"test": {"macro_f1": 0.5}},
        card="# my-model\n",
    )
    assert is_model_folder(out)
    assert read_label_map(out) == {"format_version": MODEL_FORMAT, "tasks": {"stance": ["none", "favor", "against"]}}
    assert read_calibration(out) == {"temperature": 1.7, "abstain_threshold": None}
    assert read_provenance(out) == provenance
    assert model_identity(out) == ("my-model", "1a2b3c:0123456789ab")  # data hash cut to 12 characters
    assert (out / "train_config.yaml").read_text() == "train: {}\n"
    assert (out / "README.md").read_text() == "# my-model\n"


# -- report folder ------------------------------------------------------------


def test_write_report_then_read_report_round_trips(tmp_path):
    out = tmp_path / "model" / "report"
    assert report_dir_of(tmp_path / "model") == out
    preds = [{"id": "d:1", "stance": "favor", "text": "“quoted” — é"}, {"id": "d:2", "stance": None}]
    write_report(
        out,
        metrics={"splits": {"test": {}}},
        predictions=iter(preds),
        verdicts={"d": {"author_favors": "A"}},
        html="<html></html>",
        markdown="# report\n",
    )
    metrics, rows = read_report(out)
    assert metrics == {"format_version": REPORT_FORMAT, "splits": {"test": {}}}
    assert rows == preds
    assert json.loads((out / "verdicts.json").read_text()) == {"d": {"author_favors": "A"}}
    assert (out / "report.html").read_text() == "<html></html>" and (out / "report.md").read_text() == "# report\n"


def test_read_report_without_metrics_says_what_to_pass(tmp_path):
    with raises(
        ReportError,
        f"{tmp_path}: no metrics.json; pass a report folder written by `stance evaluate` "
        "(or a model folder with --data)",
    ):
        read_report(tmp_path)


def test_read_report_rejects_another_format_version(tmp_path):
    # a metrics dict that already names its version is written as is, so an old report can be made here
    old = {"format_version": REPORT_FORMAT + 1}
    write_report(tmp_path, metrics=old, predictions=[], verdicts={}, html="", markdown="")
    with raises(
        ReportError,
        f"{tmp_path / 'metrics.json'}: report format {REPORT_FORMAT + 1} is not {REPORT_FORMAT}; "
        "re-run `stance evaluate` with this version",
    ):
        read_report(tmp_path)


def test_read_report_without_predictions_says_to_rerun_evaluate(tmp_path):
    write_report(tmp_path, metrics={}, predictions=[], verdicts={}, html="", markdown="")
    (tmp_path / "predictions.jsonl").unlink()
    with raises(ReportError, f"{tmp_path}: no predictions.jsonl; re-run `stance evaluate` to write it"):
        read_report(tmp_path)
