"""Public-benchmark builders (against the counts in each SOURCE.md), the
benchmarks' own measures, the generic CSV/JSONL builder and its errors, and a
benchmark run through build -> train -> evaluate -> compare on the tiny model."""

import contextlib
import io
import json
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from conftest import ROOT, SHARED, need_shared, write_generic

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
        validation_to_train=0.0,
        downsample=None,
        max_body_sentences=4,
        hub=None,
        hub_config=None,
        hub_splits=None,
        columns=None,
        shape=None,
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
                "emergent": "emergent",
                "commitmentbank": "commitmentbank",
                "ibm-claim-stance": "ibm-claim-stance",
                "perspectrum": "perspectrum",
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
    assert manifest["shape"] == "commentary"  # a user's CSV becomes the commentary input by default
    from datasets import load_from_disk

    first = load_from_disk(str(tmp_path / "data" / "examples"))["train"][0]
    assert first["text"].startswith("[author] ") and first["text_pair"].startswith(
        "stance toward the side marked << >> | side: "
    )
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

    # a benchmark model in its own input (shape: native) with other labels cannot score commentary: one
    # line, no traceback
    cfg2 = json.loads(json.dumps(cfg))
    cfg2["build"]["benchmark"]["labels"] = ["against", "favor", "none"]
    cfg2["build"]["benchmark"]["shape"] = "native"
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
        "commitmentbank", "emergent", "fnc1", "ibm-claim-stance", "liar", "multi-target", "newsmtsc", "persent",
        "persent-devtrain", "persent-document", "perspectrum", "pstance", "semeval2016",
    ]  # fmt: skip
    for n in names:
        cfg = load_config(ROOT / "configs" / "benchmarks" / f"{n}.yaml")
        b = cfg.build.benchmark
        assert n in (b.name, f"{b.name}-{b.variant}", f"{b.name}-devtrain") and cfg.train.output_dir == f"models/{n}"
        assert (b.validation_to_train > 0) == n.endswith("-devtrain")


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


def test_validation_to_train_moves_whole_documents_and_keeps_the_rest_for_selection():
    need_shared(DATA / "persent")
    base, _, _ = load_benchmark(opts("persent"))
    moved, notes, _ = load_benchmark(opts("persent", validation_to_train=0.7))
    docs = lambda ex, s: {e["doc_id"] for e in ex if e["split"] == s}  # noqa: E731
    dev = docs(base, "validation")
    assert docs(moved, "test") == docs(base, "test")  # the test split is untouched
    to_train = docs(moved, "train") & dev
    assert 0.6 < len(to_train) / len(dev) < 0.8 and not to_train & docs(moved, "validation")  # whole documents
    assert docs(moved, "validation") | to_train == dev
    assert notes["validation_to_train"].startswith(f"{len(to_train)} validation documents")
    paragraphs_of = lambda ex, d: sum(e["doc_id"] == d for e in ex)  # noqa: E731
    d = sorted(to_train)[0]
    assert paragraphs_of(moved, d) == paragraphs_of(base, d)  # every paragraph of a moved document moves


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


def raw(name, **kw):
    """A benchmark as its reader gives it, before the build's cleaning (the counts SOURCE.md gives)."""
    from pipeline.dataset.benchmarks import READERS, SPECS

    o = opts(name, **kw)
    need_shared(Path(o.path))
    return READERS[name](Path(o.path), o, SPECS[name])[0]


def splits_of(examples, key=lambda e: e["doc_id"]):
    out = {}
    for e in examples:
        out.setdefault(key(e), set()).add(e["split"])
    return out


def test_emergent_matches_source_md_and_splits_by_claim():
    rows = raw("emergent")
    assert len(rows) == 2595 and len({e["doc_id"] for e in rows}) == 300  # 300 claims
    assert tuple(count(rows, label=lab) for lab in ("for", "against", "observing")) == (1238, 395, 962)
    ex, notes, spec = load_benchmark(opts("emergent"))
    assert spec.task == "claim_stance" and spec.labels == ["for", "against", "observing"] and spec.measure == "macro_f1"
    # by claim, never by row: no claim in two splits, every split has claims, test is about 20% of them
    claims = splits_of(ex)
    assert all(len(s) == 1 for s in claims.values()), "an Emergent claim is in two splits"
    per_split = {s: sum(1 for v in claims.values() if s in v) for s in ("train", "validation", "test")}
    assert 40 <= per_split["test"] <= 80 and per_split["validation"] > 0, per_split
    assert count(ex, "test") == count(rows, "test")  # the build's cleaning touches train only
    assert count(rows, "train") - count(ex, "train") - count(ex, "validation") == sum(
        notes[k] for k in ("duplicates_dropped_in_train", "train_examples_dropped_as_in_eval")
    )
    assert "FNC-1" in notes["leakage"] and "by claim" in notes["split"]
    e = next(e for e in ex if e["text"].startswith("BMO forecasts 19M Apple Watch sales"))
    assert e["text_pair"] == "stance toward the claim: Apple will sell 19 million Apple Watches in 2015"
    assert [e["split"] for e in ex] == [e["split"] for e in load_benchmark(opts("emergent"))[0]]  # seeded


def test_commitmentbank_labels_from_the_mean_rating_and_splits_by_item():
    rows = raw("commitmentbank")
    # SOURCE.md: Mean >= 1 for 390 items, <= -1 for 386, the rest (424) in between
    assert len(rows) == 1200 and len({e["doc_id"] for e in rows}) == 1200
    assert tuple(count(rows, label=lab) for lab in ("committed", "not_committed", "uncommitted")) == (390, 386, 424)
    ex, notes, spec = load_benchmark(opts("commitmentbank"))
    assert spec.task == "commitment" and spec.labels == ["uncommitted", "committed", "not_committed"]
    assert all(len(s) == 1 for s in splits_of(ex).values())
    assert 200 <= count(ex, "test") <= 280 and count(ex, "validation") > 0
    # WSJ-12 (test) and WSJ-35 repeat one item but for a double space: the training copy goes
    assert notes["train_examples_dropped_as_in_eval"] == 1 and count(ex) == 1199
    first = next(e for e in ex if e["doc_id"] == "cb:BNC-1")  # Mean 2
    assert first["text"].startswith("Polly had to think quickly. They were still close enough to shore")
    assert first["target"] == "Polly was not an experienced ocean sailor" and first["label"] == "committed"
    assert first["text_pair"] == "speaker commitment to: Polly was not an experienced ocean sailor"
    empty_context = next(e for e in ex if e["doc_id"] == "cb:WSJ-76")  # no Context: the Target alone, no gap
    assert empty_context["text"].startswith("Is an American Secretary of State seriously suggesting")


def test_commitmentbank_non_numeric_mean_names_file_and_record(tmp_path):
    header = ",uID,Verb,Embedding,Context,Target,Prompt,Embedding,genre,Mean,SD\n"
    good = (
        '1,BNC-1,admit,conditional,Polly thought.,"If she admitted it, fine.",she admitted it,conditional,BNC,2,0.8\n'
    )
    bad = "2,BNC-2,say,modal,,He might have said so.,he said so,modal,BNC,n/a,0.5\n"
    (tmp_path / "CommitmentBank-items.csv").write_text(header + good + bad, encoding="utf-8")
    with pytest.raises(
        DataError, match=r"CommitmentBank-items.csv: record 3 \(uID 'BNC-2'\): Mean 'n/a' is not a number"
    ):
        load_benchmark(opts("commitmentbank", path=str(tmp_path)))
    (tmp_path / "CommitmentBank-items.csv").write_text(header.replace("Mean", "Rating") + good, encoding="utf-8")
    with pytest.raises(DataError, match=r"CommitmentBank-items.csv: missing column 'Mean'"):
        load_benchmark(opts("commitmentbank", path=str(tmp_path)))


def test_ibm_claim_stance_keeps_the_cross_topic_split():
    rows = raw("ibm-claim-stance")
    # SOURCE.md: train PRO 625 / CON 414 (25 topics), test PRO 700 / CON 655 (30 topics)
    assert (count(rows, "train", "pro"), count(rows, "train", "con")) == (625, 414)
    assert (count(rows, "test", "pro"), count(rows, "test", "con")) == (700, 655)
    assert len({e["doc_id"] for e in rows if e["split"] == "train"}) == 25
    assert len({e["doc_id"] for e in rows if e["split"] == "test"}) == 30
    ex, notes, spec = load_benchmark(opts("ibm-claim-stance"))
    assert spec.task == "topic_stance" and spec.labels == ["pro", "con"]
    assert (count(ex, "test", "pro"), count(ex, "test", "con")) == (700, 655)
    # train and test topics disjoint, and validation carved from train by topic
    topics = splits_of(ex)
    assert all(len(s) == 1 for s in topics.values()), "an IBM topic is in two splits"
    assert count(ex, "validation") > 0 and count(ex, "train") + count(ex, "validation") == 1039
    assert "claims.claimSentiment" in notes["excluded_columns"]  # with the topic's, it gives the stance
    e = next(e for e in ex if e["split"] == "test")
    assert e["text_pair"].startswith("stance toward the motion: This house ")


def test_perspectrum_expands_clusters_to_the_source_md_pair_counts():
    rows = raw("perspectrum")
    # SOURCE.md's claim-perspective pairs, SUPPORT / UNDERMINE, before the build's cleaning
    for split, counts in {"train": (3599, 3379), "validation": (1047, 1024), "test": (1471, 1302)}.items():
        assert (count(rows, split, "support"), count(rows, split, "undermine")) == counts, split
    assert {s: len({e["doc_id"] for e in rows if e["split"] == s}) for s in ("train", "validation", "test")} == {
        "train": 541,
        "validation": 139,
        "test": 227,
    }
    ex, notes, spec = load_benchmark(opts("perspectrum"))
    assert spec.task == "perspective_stance" and spec.labels == ["support", "undermine"]
    assert all(len(s) == 1 for s in splits_of(ex).values())
    # cleaning touches train only: 17 repeated pairs, and claim 241's 30 pairs, which claim 542 (dev, the
    # same text) repeats
    assert count(ex, "validation") == 2071 and count(ex, "test") == 2773
    assert (notes["duplicates_dropped_in_train"], notes["train_examples_dropped_as_in_eval"]) == (17, 30)
    assert count(ex, "train") == 6978 - 17 - 30 and "perspectrum:241" not in {e["doc_id"] for e in ex}
    assert "241 (train), 542 (validation)" in notes["claims_with_one_text_in_two_splits"]


def test_generic_and_persent_read_from_a_hub_dataset(tmp_path):
    """``build.benchmark.hub`` goes through ``datasets.load_dataset``; a local folder of split files is read
    the same way a hub name is (no network here), its columns renamed and ClassLabel ids named."""
    import datasets

    hub = tmp_path / "hub"
    hub.mkdir()
    for split, n in (("train", 6), ("validation", 3), ("test", 3)):
        rows = [
            {"tweet": f"{split} tweet {i} about the port", "topic": "port", "stance": i % 3, "tweet_id": f"{split}{i}"}
            for i in range(n)
        ]
        feats = datasets.Features(
            {
                "tweet": datasets.Value("string"),
                "topic": datasets.Value("string"),
                "stance": datasets.ClassLabel(names=["none", "favor", "against"]),
                "tweet_id": datasets.Value("string"),
            }
        )
        datasets.Dataset.from_list(rows, features=feats).to_parquet(str(hub / f"{split}.parquet"))
    ex, notes, spec = load_benchmark(
        opts(
            "generic",
            hub=str(hub),
            columns={"text": "tweet", "target": "topic", "label": "stance", "doc_id": "tweet_id"},
            labels=["none", "favor", "against"],
        )
    )
    assert notes["hub"] == str(hub) and len(ex) == 12
    first = next(e for e in ex if e["doc_id"] == "generic:train1")
    assert (first["label"], first["target"], first["split"]) == ("favor", "port", "train")

    with pytest.raises(DataError, match="'dev' is not a split of"):
        load_benchmark(opts("generic", hub=str(hub), hub_splits={"train": "train", "test": "dev"}))

    # PerSenT's hub copy: the same columns as its CSV files, labels as ClassLabel ids
    ps = tmp_path / "per_sent"
    ps.mkdir()
    sentiment = datasets.ClassLabel(names=["Negative", "Neutral", "Positive"])
    feats = datasets.Features(
        {
            "DOCUMENT_INDEX": datasets.Value("int64"),
            "TARGET_ENTITY": datasets.Value("string"),
            "DOCUMENT": datasets.Value("string"),
            "TRUE_SENTIMENT": sentiment,
            "Paragraph0": sentiment,
            "Paragraph1": sentiment,
        }
    )
    for split in ("train", "validation", "test"):
        rows = [
            {
                "DOCUMENT_INDEX": i,
                "TARGET_ENTITY": "Ann Lee",
                "DOCUMENT": f"Lee won race {i} in {split}.\nCritics in {split} said Ann Lee lied {i} times.",
                "TRUE_SENTIMENT": 2,
                "Paragraph0": 2,
                "Paragraph1": 0 if i else -1,
            }
            for i in range(3)
        ]
        datasets.Dataset.from_list(rows, features=feats).to_parquet(str(ps / f"{split}.parquet"))
    ex, notes, _ = load_benchmark(
        opts("persent", hub=str(ps), hub_splits={s: s for s in ("train", "validation", "test")})
    )
    train = [e for e in ex if e["split"] == "train"]
    assert notes["hub"] == str(ps) and [e["label"] for e in train] == [
        "positive",
        "positive",
        "negative",
        "positive",
        "negative",
    ]
    assert train[0]["text"] == "<< Lee >> won race 0 in train." and train[0]["doc_id"] == "persent:train:0"
