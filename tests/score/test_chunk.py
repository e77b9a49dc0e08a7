"""score_chunk: one chunk of articles -> the passage and article lines both scoring engines write."""

import json

import pytest
from conftest import ROOT

from pipeline.analysis.verdicts import article_verdict
from pipeline.contracts import model_identity
from pipeline.dispute import load_dispute
from pipeline.score.chunk import PASSAGE_FIELDS, release_freed_memory, score_chunk
from pipeline.text.readers import read_inputs
from pipeline.text.rows import article_rows

FILES = [ROOT / f"data/corpus/port-strike/port-strike_0{i}.txt" for i in (1, 2, 3)]


@pytest.fixture(scope="module")
def predictor(tiny_trained):
    from pipeline.score.predictor import Predictor

    return Predictor(tiny_trained[0], batch_size=16)


@pytest.fixture(scope="module")
def dispute():
    return load_dispute(ROOT / "configs/disputes/port-strike.yaml")


def articles():
    """Freshly read articles (segmentation fills in their header fields)."""
    arts, rejects = read_inputs([str(f) for f in FILES])
    assert not rejects and len(arts) == len(FILES)
    return arts


def lines(blob: bytes) -> list[dict]:
    text = blob.decode("utf-8")
    assert text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]


@pytest.fixture(scope="module")
def chunk(predictor, dispute):
    return score_chunk(predictor, articles(), dispute)


def test_one_line_per_passage_with_the_passage_fields_in_order(chunk, dispute, tiny_trained):
    expected = [r for a in articles() for r in article_rows(a, dispute)]
    passages = lines(chunk["passages"])
    assert chunk["n_passages"] == len(passages) == len(expected) > 30
    assert all(list(p) == list(PASSAGE_FIELDS) for p in passages)
    assert [(p["doc_id"], p["index"], p["text"], p["role"], p["source"]) for p in passages] == [
        (r["doc_id"], r["index"], r["text"], r["role"], r["source"]) for r in expected
    ]
    assert {(p["model_id"], p["model_version"]) for p in passages} == {model_identity(tiny_trained[0])}


def test_body_passages_are_scored_and_other_rows_are_not(chunk, dispute):
    sides = set(dispute.side_names)
    for p in lines(chunk["passages"]):
        if p["role"] == "body":
            assert p["stance"] in sides | {"neutral"} and set(p["stance_probs"]) == sides | {"neutral"}
            assert sum(p["stance_probs"].values()) == pytest.approx(1.0, abs=1e-5)
            assert p["abstained"] is False  # the tiny model has no abstain threshold
        else:
            assert p["stance"] is None and p["stance_probs"] is None


def test_one_article_verdict_per_article_from_its_own_passages(chunk, dispute, tiny_trained):
    passages, verdicts = lines(chunk["passages"]), lines(chunk["articles"])
    arts = articles()
    assert [v["doc_id"] for v in verdicts] == [a.doc_id for a in arts]
    for a, v in zip(arts, verdicts):
        assert (v["file"], v["file_hash"]) == (a.path, a.file_hash)
        assert (v["model_id"], v["model_version"]) == model_identity(tiny_trained[0])
        assert v["author_favors"] in dispute.side_names + ["neutral"] and v["title"]
        # the verdict agrees with the passage lines written beside it
        again = article_verdict([p for p in passages if p["doc_id"] == a.doc_id], dispute.side_names)
        for key in (
            "author_favors",
            "author_favors_weights",
            "author_favors_evidence",
            "more_credible",
            "quoted_sources",
            "author_passages",
            "body_passages",
        ):
            assert v[key] == again[key], key


def test_the_same_input_gives_the_same_bytes(chunk, predictor, dispute):
    again = score_chunk(predictor, articles(), dispute)
    assert again["passages"] == chunk["passages"] and again["articles"] == chunk["articles"]
    assert again["segment_s"] > 0 and again["model_s"] > 0


def test_chunks_split_differently_give_the_same_rows(chunk, predictor, dispute):
    arts = articles()
    first, rest = score_chunk(predictor, arts[:1], dispute), score_chunk(predictor, arts[1:], dispute)
    for a, b in zip(lines(first["articles"]) + lines(rest["articles"]), lines(chunk["articles"]), strict=True):
        assert {k: v for k, v in a.items() if not k.endswith("_weights")} == {
            k: v for k, v in b.items() if not k.endswith("_weights")
        }
        assert a["author_favors_weights"] == pytest.approx(b["author_favors_weights"], abs=1e-4)
    split = lines(first["passages"]) + lines(rest["passages"])
    whole = lines(chunk["passages"])
    for a, b in zip(split, whole, strict=True):
        assert (a["doc_id"], a["index"], a["stance"], a["credibility"]) == (
            b["doc_id"],
            b["index"],
            b["stance"],
            b["credibility"],
        )
        if a["stance_probs"] is not None:  # other batches pad differently: equal up to float noise
            assert a["stance_probs"] == pytest.approx(b["stance_probs"], abs=1e-5)


def test_an_empty_chunk_writes_nothing(predictor, dispute):
    out = score_chunk(predictor, [], dispute)
    assert (out["passages"], out["articles"], out["n_passages"]) == (b"", b"", 0)


def test_release_freed_memory_is_callable_anywhere():
    assert release_freed_memory() is None
    assert release_freed_memory() is None  # and again: it holds no state
