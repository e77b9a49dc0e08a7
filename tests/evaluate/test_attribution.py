"""The attribution model through the CLI, on a small PolNeAR-format folder written here: build -> train ->
evaluate (spans beside the rules, passages on commentary for rules / model / combined), then the model
used by `stance build` and `stance score` (every passage row says who attributed it)."""

import json

import pytest
import yaml
from conftest import ROOT, TEST_ARTICLES

from pipeline.cli import main

SENTENCES = [
    ("Mara Lind", "said", "the port would reopen on Monday"),
    ("The union", "insisted", "that the offer was an insult"),
    ("Officials", "told", "reporters the strike had cost millions"),
    ("Conrad Wyle", "argued", "the pay rise was fair"),
    ("The board", "warned", "that the crane logs were missing"),
    ("Rosa Ketteridge", "added", "that talks would resume"),
]


def write_article(folder, split: str, name: str, k: int) -> None:
    """One article in PolNeAR's layout: text, and a brat .ann file of source / cue / content spans."""
    (folder / split / "text").mkdir(parents=True, exist_ok=True)
    (folder / split / "attributions").mkdir(parents=True, exist_ok=True)
    text, ann, t, e = "", [], 1, 1
    for i in range(4):
        src, cue, content = SENTENCES[(k + i) % len(SENTENCES)]
        filler = "The weather at the harbour was grey. " if i % 2 else ""
        start = len(text) + len(filler)
        text += f"{filler}{src} {cue} {content}.\n"
        spans = {}
        for role, words in (("Source", src), ("Cue", cue), ("Content", content)):
            a = text.index(words, start)
            ann.append(f"T{t}\t{role} {a} {a + len(words)}\t{words}")
            spans[role] = f"T{t}"
            t += 1
        ann.append(
            f"E{e}\tAttribution:{spans['Cue']} Content:{spans['Content']} Cue:{spans['Cue']} Source:{spans['Source']}"
        )
        e += 1
    (folder / split / "text" / f"{name}.txt").write_text(text, encoding="utf-8")
    (folder / split / "attributions" / f"{name}_ab12.ann").write_text("\n".join(ann) + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def polnear_folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("polnear")
    for split, n in (("train", 12), ("dev", 3), ("test", 3)):
        for k in range(n):
            write_article(root, split, f"{'wire' if k % 2 else 'daily'}_2016-01-0{k % 9 + 1}_story-{split}-{k}", k)
    return root


def run(*args):
    assert main(["-q", *args]) == 0


@pytest.fixture(scope="module")
def tiny_tagger(tmp_path_factory, polnear_folder, tiny_model):
    """(model folder, dataset folder, config): a tiny attribution model built and trained through the CLI."""
    tmp = tmp_path_factory.mktemp("tagger")
    cfg = {
        "run_name": "attribution-test",
        "build": {"output": str(tmp / "data"), "polnear": {"path": str(polnear_folder)}},
        "train": {
            "model": str(tiny_model),
            "tiny": {"hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 37},
            "output_dir": str(tmp / "model"),
            "epochs": 2,
            "batch_size": 4,
            "max_length": 64,
            "window_stride": 16,
            "metric_for_best_model": "span_f1",
            "early_stopping_patience": 0,
        },
    }
    config = tmp / "attribution.yaml"
    config.write_text(yaml.safe_dump(cfg))
    run("build", str(config))
    run("train", str(config))
    return tmp / "model", tmp / "data", config


def test_attribution_model_end_to_end(tmp_path, tiny_tagger, corpus_config, capsys):
    commentary = json.loads(json.dumps(corpus_config))
    commentary["build"]["output"] = str(tmp_path / "commentary")
    commentary["build"]["sources"] = [s for s in commentary["build"]["sources"] if "port-strike" in s["dispute"]]
    (tmp_path / "commentary.yaml").write_text(yaml.safe_dump(commentary))
    run("build", str(tmp_path / "commentary.yaml"))

    model, data, config = tiny_tagger
    report = json.loads((data / "data_report.json").read_text())
    assert report["articles"] == {"train": 12, "validation": 3, "test": 3}
    assert report["spans"]["train"] == {"source": 48, "cue": 48, "content": 48}
    assert report["publishers"]["test"] == {"daily": 2, "wire": 1}
    label_map = json.loads((model / "label_map.json").read_text())
    assert label_map["kind"] == "attribution" and label_map["input"] == {"max_length": 64, "window_stride": 16}
    assert not (model / "checkpoints").exists() and not (model / "training_args.bin").exists()
    metrics = json.loads((model / "metrics.json").read_text())
    assert {"source_exact", "cue_exact", "content_exact"} <= set(metrics["validation_documents"])

    capsys.readouterr()
    run("evaluate", str(config), "--passages-from", str(tmp_path / "commentary"), "--output", str(tmp_path / "report"))
    printed = capsys.readouterr().out
    assert "PolNeAR test (3 articles)" in printed and "combined" in printed
    m = json.loads((tmp_path / "report" / "metrics.json").read_text())
    pn = m["polnear"]
    assert pn["articles"] == 3 and pn["relations"] == 12
    assert pn["rules"]["source_exact"]["gold"] == pn["model"]["source_exact"]["gold"] == 12
    assert "content_exact" in pn["model"] and "content_exact" not in pn["rules"]  # the rules find no contents
    assert set(pn["by_publisher"]["model"]) == {"daily", "wire"}
    passages = m["passages"]
    assert set(passages) >= {"train", "test"}
    for modes in passages.values():
        assert set(modes) == {"rules", "model", "combined"}
        assert modes["rules"]["source_by"] == {"rules": modes["rules"]["passages"]}
        assert set(modes["model"]["source_by"]) == {"model"}
    html = (tmp_path / "report" / "report.html").read_text()
    assert "data:image/png;base64," in html and "Per publisher" in html and "who says each one" in html

    # the model at work in stance build and stance score
    commentary["build"]["output"] = str(tmp_path / "commentary_model")
    commentary["build"]["attribution"] = {"model": str(model), "by": "combined"}
    (tmp_path / "commentary_model.yaml").write_text(yaml.safe_dump(commentary))
    run("build", str(tmp_path / "commentary_model.yaml"))
    manifest = json.loads((tmp_path / "commentary_model" / "manifest.json").read_text())
    assert manifest["attribution"]["by"] == "combined" and manifest["attribution"]["model"] == str(model.resolve())
    from datasets import load_from_disk

    rows = load_from_disk(str(tmp_path / "commentary_model" / "passages"))["train"].to_list()
    assert {r["source_by"] for r in rows if r["role"] == "body"} <= {"model", "rules"}
    assert {r["source_by"] for r in rows if r["role"] != "body"} == {None}


def test_score_rows_say_who_attributed_them(tmp_path, tiny_trained, tiny_tagger):
    article = TEST_ARTICLES("port-strike")[0]
    for by, backend in (("model", "torch"), ("rules", "torch"), ("combined", "onnx")):
        out = tmp_path / f"scored-{by}"
        run(
            "score", "--model", str(tiny_trained[0]), "--dispute", str(ROOT / "configs/disputes/port-strike.yaml"),
            str(article), "--output", str(out), "--attribution-model", str(tiny_tagger[0]),
            "--attribution-by", by, "--attribution-backend", backend, "--no-progress",
        )  # fmt: skip
        rows = [json.loads(l) for l in (out / "passages.jsonl").read_text().splitlines()]
        assert {r["source_by"] for r in rows if r["role"] == "body"} <= (
            {by} if by != "combined" else {"model", "rules"}
        )
        assert all(r["model_version"] for r in rows)


def test_the_scoring_backends_run_the_attribution_model(tiny_tagger):
    """The same tagger through torch, onnx and int8: onnx gives torch's probabilities; int8 (dynamic
    activation scales) stays close."""
    import numpy as np
    from datasets import load_from_disk

    from pipeline.score.tagging import load_tagger

    texts = [r["text"] for r in load_from_disk(str(tiny_tagger[1] / "documents"))["test"].to_list()]
    ref = load_tagger(str(tiny_tagger[0]), "torch").token_probs(texts)
    for backend, tol in (("onnx", 1e-4), ("int8", 0.1)):
        got = load_tagger(str(tiny_tagger[0]), backend).token_probs(texts)
        for (o1, p1), (o2, p2) in zip(ref, got):
            assert o1 == o2
            assert np.abs(p1 - p2).max() < tol, backend


def test_a_commentary_model_is_refused_as_an_attribution_model(tmp_path, tiny_trained, capsys):
    from pipeline.errors import ModelError
    from pipeline.text.tagger import SpanTagger

    with pytest.raises(ModelError, match="not an attribution model"):
        SpanTagger.from_folder(tiny_trained[0])
    code = main(["score", "--model", str(tiny_trained[0]), "--dispute", str(ROOT / "configs/disputes/port-strike.yaml"),
                 str(ROOT / "data/corpus/port-strike"), "--output", str(tmp_path / "o"),
                 "--attribution-model", str(tmp_path / "nowhere")])  # fmt: skip
    assert code != 0 and "is not a model folder" in capsys.readouterr().err


def test_commentary_register_spans_come_from_gold_and_leave_test_out(tiny_trained):
    """The corpus's gold sources and cues as attribution spans: train and validation articles only; every
    cue is the gold cue's word, every source names the gold source (or a pronoun), author passages carry none."""
    from datasets import load_from_disk

    from pipeline.dataset.attribution import commentary_documents

    docs = commentary_documents(tiny_trained[1])
    passages = load_from_disk(str(tiny_trained[1] / "passages"))
    assert set(docs) == {"train", "validation"}
    assert {r["doc_id"] for r in docs["train"]} == set(passages["train"]["doc_id"])
    held_out = set(passages["test"]["doc_id"])
    assert not held_out & {r["doc_id"] for rows in docs.values() for r in rows}
    gold_cues = {c.split(" ... ")[-1].lower() for c in passages["train"]["gold_cue"] if c}
    n = 0
    for r in docs["train"]:
        for rel in r["relations"]:
            assert r["text"][slice(*rel["cue"])].lower() in gold_cues
            if rel["source"]:
                assert r["text"][slice(*rel["source"])].strip()
            n += 1
        ends = [(s["start"], s["end"]) for s in r["spans"]]
        assert all(a[1] <= b[0] for a, b in zip(ends, ends[1:]))  # one role per character
    assert n > 20
