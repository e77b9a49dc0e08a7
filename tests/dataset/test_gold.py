"""Gold labels from a Label Studio JSON export, written here, read into the same rows as the JSONL."""

import json

import pytest
from conftest import ROOT

from pipeline.dataset.gold import load_gold
from pipeline.dispute import load_dispute
from pipeline.errors import DataError

D = load_dispute(ROOT / "configs/disputes/port-strike.yaml")


def choice(name, value):
    return {"from_name": name, "to_name": "text", "type": "choices", "value": {"choices": [value]}}


def textarea(name, value):
    return {"from_name": name, "to_name": "text", "type": "textarea", "value": {"text": [value]}}


def export():
    return [
        {
            "id": 11,
            "data": {"doc_id": "ls1", "index": 1, "paragraph": 0, "text": "The union says the cranes will cost jobs."},
            "annotations": [
                {"was_cancelled": True, "result": [choice("stance", "OPERATOR")]},
                {
                    "result": [
                        choice("stance", "UNION"),
                        textarea("source", "UNION"),
                        choice("source_side", "UNION"),
                        textarea("cue", "says"),
                        choice("form", "indirect"),
                        choice("credibility", "none"),
                        choice("confidence", "low"),
                    ]
                },
            ],
        },
        {
            "id": 12,
            "data": {"doc_id": "ls1", "index": 2, "text": "Meridane's figure is the more credible one."},
            "annotations": [{"result": [choice("stance", "OPERATOR"), choice("credibility", "OPERATOR:credible")]}],
        },
        {"id": 13, "data": {"doc_id": "ls1", "index": 3, "text": "Nobody has labelled this yet."}, "annotations": []},
    ]


def without_where(rows):
    """Gold rows less their location (file and line, or export task), which differs by format."""
    return {d: {i: {k: v for k, v in r.items() if k != "where"} for i, r in doc.items()} for d, doc in rows.items()}


def test_label_studio_export_reads_into_gold_rows(tmp_path):
    f = tmp_path / "project.json"
    f.write_text(json.dumps(export()), encoding="utf-8")
    rows, _ = load_gold(str(f), D)
    assert set(rows["ls1"]) == {1, 2}  # the unannotated task is skipped
    one, two = rows["ls1"][1], rows["ls1"][2]
    # the cancelled annotation is ignored; fields land where the JSONL puts them
    assert (
        one["stance"],
        one["source"],
        one["source_side"],
        one["cue"],
        one["form"],
        one["credibility"],
        one["confidence"],
        one["paragraph"],
    ) == ("UNION", "UNION", "UNION", "says", "indirect", None, "low", 0)
    assert (
        two["credibility"] == {"side": "OPERATOR", "judgment": "credible"}
        and two["source"] == "author"
        and two["paragraph"] is None
    )
    assert (one["where"], two["where"]) == (f"{f}: task 0 (id 11)", f"{f}: task 1 (id 12)")
    # the same rows come out of the guidelines' JSONL
    j = tmp_path / "ls1.gold.jsonl"
    j.write_text("".join(json.dumps(r) + "\n" for r in without_where(rows)["ls1"].values()), encoding="utf-8")
    from_jsonl = load_gold(str(j), D)[0]
    assert without_where(from_jsonl) == without_where(rows) and from_jsonl["ls1"][2]["where"] == f"{j}: line 2"
    # a folder may hold exports as *.gold.json
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "batch1.gold.json").write_text(json.dumps(export()), encoding="utf-8")
    assert without_where(load_gold(str(tmp_path / "dir"), D, {"ls1"})[0]) == without_where(rows)


@pytest.mark.parametrize(
    "mutate, message",
    [
        (
            lambda t: {"tasks": t},
            r"project.json: expected a Label Studio export \(a JSON list of tasks\), found a dict",
        ),
        (
            lambda t: [dict(t[0], data={"text": "x", "index": 1})],
            r"project.json: task 0 \(id 11\): data.doc_id is missing; "
            r"import tasks with data.text, data.doc_id and data.index",
        ),
        (
            lambda t: [dict(t[1], annotations=[{"result": [choice("stance", "BOSSES")]}])],
            r"project.json: task 0 \(id 12\): stance 'BOSSES' is not a side of dispute port-strike",
        ),
        (
            lambda t: [
                dict(
                    t[1],
                    annotations=[{"result": [{"from_name": "stance", "value": {"choices": ["UNION", "OPERATOR"]}}]}],
                )
            ],
            r"task 0 \(id 12\): field 'stance' has 2 choices .*pick exactly one",
        ),
        (
            lambda t: [dict(t[1], annotations=[{"result": [choice("sentiment", "UNION")]}])],
            r"task 0 \(id 12\): result field 'sentiment' is unknown; name the controls stance, role",
        ),
    ],
)
def test_bad_label_studio_export_names_file_task_and_fix(tmp_path, mutate, message):
    f = tmp_path / "project.json"
    f.write_text(json.dumps(mutate(export())), encoding="utf-8")
    with pytest.raises(DataError, match=message):
        load_gold(str(f), D)


def test_broken_json_names_the_line(tmp_path):
    f = tmp_path / "project.json"
    f.write_text('[\n{"id": 1,\n"data": }\n]', encoding="utf-8")
    with pytest.raises(DataError, match=r"project.json: line 3: not valid JSON"):
        load_gold(str(f), D)


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ({"author_favors": "Union"}, r"ps9.doc.json: author_favors: 'Union' is not a side of dispute port-strike; "
         r"use one of UNION, OPERATOR or neutral"),
        ({"author_favors": "neutral", "more_credible": "neutral"}, r"more_credible: 'neutral' is not a side .* null"),
    ],
)  # fmt: skip
def test_article_answers_must_name_a_side_of_the_dispute(tmp_path, answers, message):
    row = {"doc_id": "ps9", "index": 1, "paragraph": 0, "text": "The port reopened.", "role": "body"}
    row |= {"source": "author", "stance": "neutral"}
    (tmp_path / "ps9.gold.jsonl").write_text(json.dumps(row) + "\n", encoding="utf-8")
    (tmp_path / "ps9.doc.json").write_text(json.dumps({"doc_id": "ps9", **answers}), encoding="utf-8")
    with pytest.raises(DataError, match=message):
        load_gold(str(tmp_path), D)
    (tmp_path / "ps9.doc.json").write_text(json.dumps({"author_favors": "UNION", "more_credible": None}))
    assert load_gold(str(tmp_path), D)[1]["ps9"]["author_favors"] == "UNION"
