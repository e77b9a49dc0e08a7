"""Labelling functions on sentences written here, the summary's arithmetic, and
gold winning over weak labels in the builder."""

import json

import yaml

from pipeline.config import load_config
from pipeline.dataset.run import build, make_examples
from pipeline.dispute import parse_dispute
from pipeline.text.cues import (
    LABELLING_FUNCTIONS,
    LabellingFunction,
    apply_weak,
    combine,
    summarize,
)

D = parse_dispute(
    {
        "sides": {
            "NORTH": {
                "aliases": ["Nordland", "the northern delegation"],
                "actors": {"Anna Lind": ["Lind", "Ms. Lind"]},
            },
            "SOUTH": {
                "aliases": ["Sudmark", "the southern delegation"],
                "actors": {"Tomas Reyes": ["Reyes", "Mr. Reyes"]},
            },
        }
    },
    "test.yaml",
)


def row(text, source="author", side=None, form=None, **gold):
    r = {
        "dispute": "d",
        "doc_id": "a",
        "index": 1,
        "role": "body",
        "text": text,
        "source": source,
        "source_side": side,
        "form": form,
        "has_gold": bool(gold),
        "gold_role": "body" if gold else None,
        "gold_stance": gold.get("stance"),
        "gold_credibility_side": gold.get("cred_side"),
        "gold_credibility_judgment": gold.get("cred_judgment"),
        "gold_confidence": "high",
        "split": "train",
        "context": None,
    }
    return r


def lf(name, text, **kw):
    return LABELLING_FUNCTIONS[name].fn(row(text, **kw), D)


def test_quoted_source_side():
    assert (
        lf("quoted_source_side", "Lind said the offer stands.", source="Anna Lind", side="NORTH", form="indirect")
        == "NORTH"
    )
    assert lf("quoted_source_side", "The offer stands.") is None
    assert (
        lf("quoted_source_side", "Analysts said exports fell.", source="analysts", side="other", form="indirect")
        is None
    )


def test_blame_and_praise():
    assert lf("blame", "Sudmark walked out of the talks before the final session.") == "NORTH"
    assert lf("blame", "Observers blamed Nordland for the collapse.") == "SOUTH"
    assert lf("blame", "The talks ended at midnight.") is None
    # blame inside a quotation is the speaker's, not the writer's framing of the side
    assert lf("blame", "The headline read “Sudmark refused everything”.") is None
    assert lf("praise", "Nordland made a generous offer on the quota.") == "NORTH"
    assert lf("praise", "Sudmark was not patient with anyone.") is None


def test_credibility_cues():
    assert lf("credibility_cue", "On the numbers, Nordland's account is the more credible one.") == "NORTH:credible"
    assert (
        lf("credibility_cue", "Sudmark's casualty figure comes without evidence of any kind.") == "SOUTH:not_credible"
    )
    assert lf("credibility_cue", "Sudmark's account is not credible.") == "SOUTH:not_credible"
    assert lf("credibility_cue", "The weather was credible.") is None
    assert lf("claimed_admitted", "Reyes claimed the border post had been shelled first.") == "SOUTH:not_credible"
    assert (
        lf("claimed_admitted", "As the northern delegation later admitted, no such map existed.")
        == "NORTH:not_credible"
    )
    assert lf("claimed_admitted", "Reyes spoke to reporters on Tuesday.") is None
    assert lf("scare_quotes", "Nordland's “final offer” arrived a week late.") == "NORTH:not_credible"
    assert (
        lf(
            "scare_quotes",
            "Nordland's “final offer” arrived a week late.",
            source="Tomas Reyes",
            side="SOUTH",
            form="direct",
        )
        is None
    )
    assert lf("scare_quotes", "Lind said, “We will sign nothing that we have not read in full.”") is None
    assert lf("hedge", "The so-called Sudmark inquiry met twice.") == "SOUTH:not_credible"
    assert lf("hedge", "The Sudmark inquiry met twice.") is None


def test_summary_arithmetic_and_weighted_vote():
    fns = {
        "a": LabellingFunction("a", "stance", lambda r, d: "NORTH" if "x" in r["text"] else None, ""),
        "b": LabellingFunction("b", "stance", lambda r, d: "SOUTH" if "y" in r["text"] else None, ""),
        "c": LabellingFunction("c", "credibility", lambda r, d: "NORTH:credible" if "x" in r["text"] else None, ""),
    }
    rows = [row("x", stance="NORTH"), row("x y", stance="SOUTH"), row("y"), row("z", stance="neutral")]
    votes = [{n: f.fn(r, D) for n, f in fns.items() if f.fn(r, D)} for r in rows]
    table = {t["function"]: t for t in summarize(rows, votes, fns)}
    # a votes on rows 0 and 1 (2 of 4), overlaps and conflicts with b on row 1; right on row 0 only
    assert table["a"] == {
        "function": "a",
        "task": "stance",
        "votes": 2,
        "coverage": 0.5,
        "overlaps": 0.25,
        "conflicts": 0.25,
        "gold_votes": 2,
        "correct": 1,
        "accuracy": 0.5,
    }
    # b votes on rows 1 and 2; only row 1 has gold, and b is right there
    assert table["b"]["votes"] == 2 and table["b"]["gold_votes"] == 1 and table["b"]["accuracy"] == 1.0
    # c has no other credibility function to overlap with; gold credibility is none on both rows
    assert table["c"]["overlaps"] == 0.0 and table["c"]["accuracy"] == 0.0
    assert combine({"a": "NORTH", "b": "SOUTH"}, {"a": 0.5, "b": 1.0}, "stance", fns) == ("SOUTH", ["b"])
    assert combine({"a": "NORTH", "b": "SOUTH"}, {}, "stance", fns) == (None, [])  # equal weights tie: abstain
    assert combine({"c": "NORTH:credible"}, {}, "stance", fns) == (None, [])


def test_gold_wins_over_weak():
    rows = [
        row("Sudmark walked out of the talks.", stance="SOUTH"),  # gold says SOUTH, blame would say NORTH
        row("Sudmark walked out of the talks again."),  # no gold: weak label
        row("The talks ended at midnight."),  # no gold, every function abstains
    ]
    for i, r in enumerate(rows):
        r["index"] = i + 1
    summary = apply_weak(rows, {"d": D}, ["stance", "credibility"], use=True)
    assert [r["label_source"] for r in rows] == ["gold", "weak", None]
    assert rows[0]["weak_stance"] is None and rows[1]["weak_stance"] == "NORTH"
    assert json.loads(rows[1]["weak_provenance"]) == {"stance": ["blame"]}
    assert summary["weak_labelled_passages"] == {"stance": 1}
    ex = make_examples(rows, {"d": D}, ["stance", "credibility"], False, True, weak=True)
    labels = {(e["index"], e["task"], e["target"]): (e["label"], e["label_source"]) for e in ex}
    assert labels[(1, "stance", "SOUTH")] == ("favor", "gold")
    assert labels[(2, "stance", "NORTH")] == ("favor", "weak")
    assert (2, "credibility", "NORTH") not in labels and not any(k[0] == 3 for k in labels)
    # without the flag, the same rows give gold examples only
    assert {e["label_source"] for e in make_examples(rows, {"d": D}, ["stance"], False, True, weak=False)} == {"gold"}


def test_build_reports_functions_and_trains_on_weak_labels(tmp_path, corpus_config):
    art = tmp_path / "unlabelled" / "port-strike_new.txt"
    art.parent.mkdir()
    art.write_text(
        "Dock talks stall again at the terminal\n\nOct 2, 2024\n\nBy Aino Vettel\n\n"
        "The second round of talks at the port ended early on Thursday after a long and tense morning session. "
        "Meridane refused to publish its review of the accident, as it has done since the summer.\n\n"
        "The union walked out of the meeting before lunch, and the mediator went home. "
        "The quay stayed quiet for the rest of the week, with most cranes parked.\n",
        encoding="utf-8",
    )
    cfg = json.loads(json.dumps(corpus_config))
    cfg["build"]["output"] = str(tmp_path / "data")
    cfg["build"]["sources"].append({"inputs": [str(art.parent)], "dispute": cfg["build"]["sources"][0]["dispute"]})
    for flag in (False, True):
        cfg["build"]["weak_supervision"] = flag
        p = tmp_path / "config.yaml"
        p.write_text(yaml.safe_dump(cfg))
        out = build(load_config(p), str(p))
        report = json.loads((out / "data_report.json").read_text())
        table = {t["function"]: t for t in report["weak_supervision"]["functions"]}
        assert set(table) == set(LABELLING_FUNCTIONS) and table["quoted_source_side"]["gold_votes"] > 0
        assert "Labelling functions (weak supervision)" in (out / "data_report.md").read_text()
        assert report["label_source"].get("weak", 0) == (
            4 if flag else 0
        )  # two blamed passages x stance x two sides; credibility abstains
