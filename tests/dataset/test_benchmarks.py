"""Public-benchmark builders (against the counts in each SOURCE.md), the
benchmarks' own measures, the generic CSV/JSONL builder and its errors, and a
benchmark run through build -> train -> evaluate -> compare on the tiny model."""

import contextlib
import io
import json
import random
from types import SimpleNamespace

import pytest
import yaml
from conftest import ROOT, SHARED, WORDS, need_shared

from pipeline.analysis.metrics import classification_metrics, fnc_score, semeval_f_avg
from pipeline.dataset.benchmarks import load_benchmark
from pipeline.errors import DataError

DATA = SHARED / "data"


def opts(name, **kw):
    base = dict(
        name=name,
        path=None,
        files=None,
        task=None,
        labels=None,
        targets=None,
        include_none=False,
        variant=None,
        validation=0.1,
        downsample=None,
        max_body_sentences=4,
        seed=13,
    )
    base.update(kw)
    if name != "generic" and base["path"] is None:
        base["path"] = str(
            DATA
            / {
                "semeval2016": "semeval2016-task6",
                "pstance": "pstance",
                "fnc1": "fnc1",
                "liar": "liar",
                "newsmtsc": "newsmtsc",
                "multi-target": "multi-target-stance",
                "persent": "persent",
            }[name]
        )
    return SimpleNamespace(**base)


def count(examples, split=None, label=None):
    return sum(1 for e in examples if (split is None or e["split"] == split) and (label is None or e["label"] == label))


def test_semeval_task_a_matches_the_official_counts():
    need_shared(DATA / "semeval2016-task6")
    ex, notes, spec = load_benchmark(opts("semeval2016"))
    assert (
        count(ex, "test") == 1249 and count(ex, "train") + count(ex, "validation") == 2914
    )  # train + trial, no duplicates
    assert (count(ex, "test", "favor"), count(ex, "test", "against"), count(ex, "test", "none")) == (304, 715, 230)
    assert not any("#SemST" in e["text"] for e in ex)
    assert spec.measure == "semeval_f_avg" and notes["excluded_columns"] == ["Opinion towards", "Sentiment"]
    # the latin-1 rows (IDs 110 and 1828) are read, not dropped
    assert any(e["doc_id"].endswith(":110") for e in ex)
    # validation is carved from train by tweet, reproducibly
    ex2, _, _ = load_benchmark(opts("semeval2016"))
    assert [e["split"] for e in ex] == [e["split"] for e in ex2]


def test_pstance_is_binary_as_in_the_paper():
    need_shared(DATA / "pstance")
    ex, notes, spec = load_benchmark(opts("pstance"))
    assert spec.labels == ["favor", "against"] and notes["dropped_none"] == 2490
    assert len(ex) == 21574 - notes["train_examples_dropped_as_in_eval"] - notes["duplicates_dropped_in_train"]
    assert count(ex, "test") == 777 + 745 + 635
    with_none, _, spec3 = load_benchmark(opts("pstance", include_none=True))
    assert count(with_none, label="none") > 2000


def test_fnc1_splits_by_body_and_keeps_the_competition_test_set():
    need_shared(DATA / "fnc1")
    ex, notes, spec = load_benchmark(opts("fnc1", max_body_sentences=2, downsample={"unrelated": 0.2}))
    assert count(ex, "test") == 25413
    assert (
        count(ex, "test", "unrelated"),
        count(ex, "test", "discuss"),
        count(ex, "test", "agree"),
        count(ex, "test", "disagree"),
    ) == (18349, 4464, 1903, 697)
    bodies = {}
    for e in ex:
        bodies.setdefault(e["doc_id"], set()).add(e["split"])
    assert all(len(s) == 1 for s in bodies.values()), "an FNC-1 body is in two splits"
    assert notes["duplicates_dropped_in_train"] > 300  # SOURCE.md: 402 exact duplicate rows in train
    # downsampling touches train only: 36,545 unrelated pairs in the official train file
    assert count(ex, "train", "unrelated") < 0.25 * (36545 - count(ex, "validation", "unrelated"))
    assert (
        count(ex, "train", "discuss") + count(ex, "validation", "discuss") > 8700
    )  # 8,909 in the file, less duplicates: not down-sampled
    e = next(e for e in ex if e["split"] == "test")
    assert e["text_pair"].startswith("stance toward the headline: ") and e["text"].count(". ") <= 3


def test_liar_drops_the_label_leaking_columns():
    need_shared(DATA / "liar")
    ex, notes, spec = load_benchmark(opts("liar"))
    assert (
        count(ex, "train") + notes["duplicates_dropped_in_train"] + notes["train_examples_dropped_as_in_eval"],
        count(ex, "validation"),
        count(ex, "test"),
    ) == (10269, 1284, 1283)
    assert notes["excluded_columns"] == ["barely_true", "false", "half_true", "mostly_true", "pants_fire"]
    first = next(e for e in ex if e["doc_id"] == "liar:2635.json")
    assert (
        "dwayne bohac" in first["target"] and "republican" in first["target"] and "0" not in first["target"].split(", ")
    )


def test_newsmtsc_marks_the_target_mention_and_groups_by_article():
    need_shared(DATA / "newsmtsc")
    ex, notes, spec = load_benchmark(opts("newsmtsc"))
    assert (count(ex, "validation"), count(ex, "test")) == (343, 803)
    assert all("<< " in e["text"] and " >>" in e["text"] for e in ex[:200])
    e = ex[0]
    assert e["text"][e["text"].index("<< ") + 3 : e["text"].index(" >>")] == e["target"]
    assert all(e["doc_id"].startswith(("newsmtsc:allsides_", "newsmtsc:polusa_v1_")) for e in ex)
    assert len({e["doc_id"] for e in ex}) < 0.7 * len(ex)  # several sentences per article share a split


def test_multi_target_reads_bare_cr_lines_and_gives_two_examples_per_tweet():
    need_shared(DATA / "multi-target-stance")
    ex, notes, _ = load_benchmark(opts("multi-target"))
    assert count(ex, "test") == 2 * 890 and count(ex, "validation") == 2 * 446
    assert {e["target"] for e in ex} == {"Donald Trump", "Hillary Clinton", "Ted Cruz", "Bernie Sanders"}


def test_a_target_missing_from_the_data_is_named():
    need_shared(DATA / "semeval2016-task6")
    with pytest.raises(DataError, match="'Donald Trump' is not a target of semeval2016"):
        load_benchmark(opts("semeval2016", targets=["Atheism", "Donald Trump"]))


def test_fnc_score_and_semeval_f_avg_by_hand():
    gold = ["unrelated", "agree", "discuss", "disagree"]
    assert fnc_score(gold, gold) == 100.0
    # all "unrelated": only the unrelated pair scores (0.25 of 0.25 + 3 * 1.0)
    assert fnc_score(gold, ["unrelated"] * 4) == pytest.approx(100 * 0.25 / 3.25)
    # related but wrong class: 0.25 each
    assert fnc_score(gold, ["unrelated", "discuss", "agree", "agree"]) == pytest.approx(100 * 1.0 / 3.25)
    y = ["favor", "against", "none", "favor", "against"]
    p = ["favor", "none", "none", "against", "against"]
    m = classification_metrics(y, p, ["none", "favor", "against"])
    assert semeval_f_avg(y, p) == pytest.approx((m["per_class"]["favor"]["f1"] + m["per_class"]["against"]["f1"]) / 2)
    assert semeval_f_avg(y, p) == pytest.approx((2 / 3 + 0.5) / 2)


def write_generic(dirpath, n=120, seed=0):
    rng = random.Random(seed)
    dirpath.mkdir(parents=True, exist_ok=True)
    for split, size in (("train", n), ("validation", n // 3), ("test", n // 3)):
        lines = ["doc_id,text,target,label"]
        for i in range(size):
            label = rng.choice(["favor", "against", "none"])
            cue = {"favor": "favor credible deal", "against": "blame against not", "none": "said the data"}[label]
            text = " ".join(rng.sample(WORDS, 6)) + " " + cue
            lines.append(f"{split}-{i},{text},{rng.choice(['port', 'union'])},{label}")
        (dirpath / f"{split}.csv").write_text("\n".join(lines) + "\n")


def test_generic_csv_and_jsonl(tmp_path):
    write_generic(tmp_path)
    ex, _, spec = load_benchmark(
        opts(
            "generic",
            files={s: str(tmp_path / f"{s}.csv") for s in ("train", "validation", "test")},
            labels=["none", "favor", "against"],
        )
    )
    assert spec.labels == ["none", "favor", "against"] and count(ex, "test") == 40
    j = tmp_path / "train.jsonl"
    j.write_text(
        "\n".join(
            json.dumps({"text": f"text {i}", "target": "port", "label": "Favor" if i % 2 else "against"})
            for i in range(20)
        )
        + "\n"
    )
    ex, _, spec = load_benchmark(opts("generic", files={"train": str(j), "test": str(tmp_path / "test.csv")}))
    assert spec.labels == ["against", "favor", "none"]  # sorted labels found, lower-cased
    assert count(ex, "validation") > 0  # carved from train


@pytest.mark.parametrize(
    "content,match",
    [
        ("text,label\nhello,favor\n", r"train.csv: missing column 'target' \(has text, label\); add a target column"),
        (
            "text,target,label\nhello,port,maybe\n",
            r"train.csv: line 2: label 'maybe' is not one of none, favor, against",
        ),
        ("", r"train.csv: empty file"),
        (b"\x00\x01\x02binary", r"train.csv: binary file"),
        ("text,target,label\nhello,,favor\n", r"train.csv: line 2: empty or missing 'target'"),
    ],
)
def test_generic_bad_input_names_file_line_and_fix(tmp_path, content, match):
    write_generic(tmp_path)
    bad = tmp_path / "train.csv"
    bad.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(DataError, match=match):
        load_benchmark(
            opts(
                "generic",
                files={"train": str(bad), "test": str(tmp_path / "test.csv")},
                labels=["none", "favor", "against"],
            )
        )


def test_generic_malformed_jsonl_line(tmp_path):
    write_generic(tmp_path)
    j = tmp_path / "train.jsonl"
    j.write_text('{"text": "a", "target": "b", "label": "favor"}\n{"text": oops}\n')
    with pytest.raises(DataError, match=r"train.jsonl: line 2: not valid JSON"):
        load_benchmark(opts("generic", files={"train": str(j), "test": str(tmp_path / "test.csv")}))


def stance(*args, check=True):
    """The ``stance`` CLI's ``main``, called in this process (its output captured): the same code path as the
    command line without a new interpreter importing torch and transformers for each step; the end-to-end test
    (tests/test_e2e.py) runs the real command."""
    from pipeline.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["-q", *args])
    r = SimpleNamespace(returncode=code, stdout=out.getvalue(), stderr=err.getvalue())
    if check:
        assert r.returncode == 0, r.stderr[-3000:]
    return r


def test_benchmark_build_train_evaluate_compare(tmp_path, tiny_model):
    write_generic(tmp_path / "csv")
    cfg = {
        "run_name": "generic",
        "build": {
            "output": str(tmp_path / "data"),
            "benchmark": {
                "name": "generic",
                "files": {s: str(tmp_path / "csv" / f"{s}.csv") for s in ("train", "validation", "test")},
                "labels": ["none", "favor", "against"],
            },
        },
        "train": {
            "model": str(tiny_model),
            "output_dir": str(tmp_path / "model"),
            "epochs": 2,
            "batch_size": 16,
            "max_length": 64,
            "learning_rate": 1e-3,
            "progress": False,
            "early_stopping_patience": 0,
        },
    }
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(cfg))
    stance("build", str(config))
    manifest = json.loads((tmp_path / "data" / "manifest.json").read_text())
    assert manifest["kind"] == "benchmark" and manifest["task_labels"] == {"stance": ["none", "favor", "against"]}
    assert "## Near-duplicates across splits" in (tmp_path / "data" / "data_report.md").read_text()
    stance("train", str(config))
    label_map = json.loads((tmp_path / "model" / "label_map.json").read_text())
    assert label_map["kind"] == "benchmark" and label_map["tasks"] == {"stance": ["none", "favor", "against"]}
    out = stance("evaluate", str(config)).stdout
    assert "tfidf_logreg" in out and "per-class F1" in out
    report = tmp_path / "model" / "report"
    metrics = json.loads((report / "metrics.json").read_text())
    preds = [json.loads(line) for line in (report / "predictions.jsonl").read_text().splitlines()]
    assert len(preds) == 40
    m = classification_metrics([p["gold"] for p in preds], [p["pred"] for p in preds], ["none", "favor", "against"])
    assert metrics["summary"]["macro_f1"] == pytest.approx(m["macro_f1"])
    assert metrics["splits"]["test"]["task"]["official"] == pytest.approx(m["macro_f1"])
    assert set(metrics["splits"]["test"]["baselines"]) == {"majority", "tfidf_logreg"}
    page = (report / "report.html").read_text()
    assert "data:image/png;base64," in page and "Per target" in page

    # a second version, compared on the same data
    stance("train", str(config), "--train.output_dir", str(tmp_path / "model_b"), "--train.seed", "7")
    stance("evaluate", str(config), "--train.output_dir", str(tmp_path / "model_b"))
    stance("compare", str(report), str(tmp_path / "model_b" / "report"), "--output", str(tmp_path / "cmp"))
    cmp = json.loads((tmp_path / "cmp" / "comparison.json").read_text())
    assert set(cmp["metrics"]) == {"accuracy", "macro_f1"} and cmp["n"] == 40 and "stance" in cmp["mcnemar"]

    # a benchmark model with other labels cannot score commentary: one line, no traceback
    cfg2 = json.loads(json.dumps(cfg))
    cfg2["build"]["benchmark"]["labels"] = ["against", "favor", "none"]
    cfg2["build"]["output"] = str(tmp_path / "data2")
    cfg2["train"]["output_dir"] = str(tmp_path / "model2")
    cfg2["train"]["epochs"] = 1
    config2 = tmp_path / "config2.yaml"
    config2.write_text(yaml.safe_dump(cfg2))
    stance("build", str(config2))
    stance("train", str(config2))
    r = stance(
        "score",
        "--model",
        str(tmp_path / "model2"),
        "--dispute",
        str(ROOT / "configs/disputes/port-strike.yaml"),
        str(ROOT / "data/corpus/port-strike"),
        "--output",
        str(tmp_path / "scored"),
        check=False,
    )
    assert r.returncode == 2 and "Traceback" not in r.stderr and "scoring commentary cannot use" in r.stderr
    # and evaluating it on commentary data is refused before scoring
    r = stance("evaluate", "--model", str(tmp_path / "model2"), "--data", str(tmp_path / "data"), check=False)
    assert r.returncode == 2 and "labels" in r.stderr and "Traceback" not in r.stderr


def test_config_refuses_benchmark_and_sources_together(tmp_path):
    from pipeline.config import ConfigError, load_config

    p = tmp_path / "c.yaml"
    p.write_text(
        yaml.safe_dump(
            {
                "build": {
                    "benchmark": {"name": "semeval2016"},
                    "sources": [{"inputs": ["x"], "dispute": str(ROOT / "configs/disputes/port-strike.yaml")}],
                }
            }
        )
    )
    with pytest.raises(ConfigError, match="either sources .* or benchmark"):
        load_config(p)
    p.write_text(yaml.safe_dump({"build": {"benchmark": {"name": "semeval2016", "downsample": {"none": 2}}}}))
    with pytest.raises(ConfigError, match=r"build.benchmark.downsample.none: must be a fraction"):
        load_config(p)


def test_unknown_benchmark_gets_a_hint():
    with pytest.raises(DataError, match="did you mean 'pstance'"):
        load_benchmark(opts("p-stance", path="."))


def test_shipped_benchmark_configs_load():
    from pipeline.config import load_config

    names = sorted(p.stem for p in (ROOT / "configs" / "benchmarks").glob("*.yaml"))
    assert names == [
        "fnc1", "liar", "multi-target", "newsmtsc", "persent", "persent-document", "pstance", "semeval2016"
    ]  # fmt: skip
    for n in names:
        cfg = load_config(ROOT / "configs" / "benchmarks" / f"{n}.yaml")
        b = cfg.build.benchmark
        assert n in (b.name, f"{b.name}-{b.variant}") and cfg.train.output_dir == f"models/{n}"


def test_persent_paragraphs_match_the_published_counts_with_the_person_marked():
    from pipeline.dataset.benchmarks import SPECS, read_persent

    need_shared(DATA / "persent")
    raw, _ = read_persent(DATA / "persent", opts("persent"), SPECS["persent"])
    # SOURCE.md's paragraph labels: fixed_test trains, dev validates, random_test tests
    for split, counts in {
        "train": (964, 2857, 2148),
        "validation": (388, 1997, 1784),
        "test": (536, 1934, 1791),
    }.items():
        assert tuple(count(raw, split, lab) for lab in ("negative", "neutral", "positive")) == counts, split
    ex, notes, spec = load_benchmark(opts("persent"))  # the build's cleaning drops repeated training paragraphs
    assert spec.task == "sentiment" and spec.labels == ["negative", "neutral", "positive"]
    assert count(ex, "test") == count(raw, "test") and count(raw, "train") - count(ex, "train") == sum(
        notes[k] for k in ("duplicates_dropped_in_train", "train_examples_dropped_as_in_eval")
    )
    # the four frequent entities are the training split's only ones, and no other split's
    targets = {s: {e["target"] for e in ex if e["split"] == s} for s in ("train", "validation", "test")}
    assert targets["train"] == {"Donald Trump", "Trump", "Barack Obama", "Obama"}
    assert not targets["train"] & (targets["validation"] | targets["test"])
    assert sum("<< " in e["text"] for e in ex) > 0.8 * len(ex)  # the person's mentions are marked
    doc, _ = read_persent(DATA / "persent", opts("persent", variant="document"), SPECS["persent"])
    assert (count(doc, "test", "negative"), count(doc, "test", "neutral"), count(doc, "test", "positive")) == (
        73,
        213,
        293,
    )


def test_persent_marks_full_and_last_name_and_refuses_unknown_labels(tmp_path):
    from pipeline.dataset.benchmarks import mark_entity

    assert mark_entity("Koellmann said Benjamin Koellmann sold; the Koellmanns left.", "Benjamin Koellmann") == (
        "<< Koellmann >> said << Benjamin Koellmann >> sold; the Koellmanns left."
    )
    header = "DOCUMENT_INDEX,TITLE,TARGET_ENTITY,DOCUMENT,MASKED_DOCUMENT,TRUE_SENTIMENT,Paragraph0,Paragraph1\n"
    row = '7,t,Ann Lee,"Ann Lee {verb}.\nLee lost.",x,Positive,Positive,{second}\n'
    for name, verb in (("fixed_test.csv", "ran"), ("dev.csv", "spoke"), ("random_test.csv", "won")):
        (tmp_path / name).write_text(header + row.format(verb=verb, second="Negative"), encoding="utf-8")
    ex, _, _ = load_benchmark(opts("persent", path=str(tmp_path)))
    assert [(e["text"], e["label"]) for e in ex if e["split"] == "test"] == [
        ("<< Ann Lee >> won.", "positive"),
        ("<< Lee >> lost.", "negative"),
    ]
    (tmp_path / "dev.csv").write_text(header + row.format(verb="spoke", second="Mixed"), encoding="utf-8")
    with pytest.raises(DataError, match=r"dev.csv: record 2: label 'mixed' is not one of negative, neutral, positive"):
        load_benchmark(opts("persent", path=str(tmp_path)))
