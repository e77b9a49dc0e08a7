"""cross_split_pairs: word-trigram Jaccard between texts of different splits
(the basic near_duplicates case is in test_run.py)."""

from pipeline.dataset.dedup import cross_split_pairs, near_duplicates

OFFER = "Meridane called the pay offer final and fair to every docker"


def pairs(texts, splits, **kw):
    return [(i, j, round(jac, 6)) for i, j, jac in cross_split_pairs(texts, splits, **kw)]


def test_identical_texts_pair_only_across_splits():
    texts = [OFFER, OFFER, OFFER, OFFER]
    assert pairs(texts, ["train", "train", "test", "validation"]) == [
        (0, 2, 1.0),
        (0, 3, 1.0),
        (1, 2, 1.0),
        (1, 3, 1.0),
        (2, 3, 1.0),
    ]  # (0, 1) is one split: no pair
    assert pairs(texts, ["train"] * 4) == []


def test_each_pair_is_yielded_once_with_the_smaller_index_first():
    found = pairs([OFFER, "the union walked out", OFFER], ["test", "train", "train"])
    assert found == [(0, 2, 1.0)]


def test_threshold_is_inclusive_on_the_trigram_jaccard():
    # trigrams {a b c, b c d, c d e} and {a b c, b c d, c d f}: 2 shared of 4
    texts, splits = ["a b c d e", "a b c d f"], ["train", "test"]
    assert pairs(texts, splits, threshold=0.5) == [(0, 1, 0.5)]
    assert pairs(texts, splits, threshold=0.51) == []
    assert pairs(texts, splits) == []  # the default 0.8 wants most trigrams shared


def test_words_are_compared_lowercased_without_punctuation():
    assert pairs(["The UNION said: no, never!", "the union said no never"], ["train", "test"]) == [(0, 1, 1.0)]


def test_texts_under_three_words_are_one_shingle():
    assert pairs(["strike now", "Strike now.", "strike later"], ["train", "test", "validation"]) == [(0, 1, 1.0)]


def test_trigrams_in_more_than_max_df_texts_do_not_find_candidates():
    texts, splits = ["talks resume monday"] * 3, ["train", "validation", "test"]
    assert pairs(texts, splits) == [(0, 1, 1.0), (0, 2, 1.0), (1, 2, 1.0)]
    assert pairs(texts, splits, max_df=3) == [(0, 1, 1.0), (0, 2, 1.0), (1, 2, 1.0)]
    assert pairs(texts, splits, max_df=2) == []  # its one trigram is in three texts: too common to index


def test_max_df_only_narrows_candidates_not_the_similarity():
    # "a b c" is in three texts (over max_df=2); the first two still share the rare "b c d" and are identical
    texts, splits = ["a b c d", "a b c d", "a b c x"], ["train", "test", "train"]
    assert pairs(texts, splits, max_df=None) == [(0, 1, 1.0)]
    assert pairs(texts, splits, max_df=2) == [(0, 1, 1.0)]


def test_near_duplicates_reads_body_passages_of_five_words_or_more():
    long = OFFER + " " + " ".join(["and"] * 40)
    rows = [
        {"doc_id": "a", "index": 1, "role": "body", "split": "train", "text": long},
        {"doc_id": "b", "index": 4, "role": "body", "split": "test", "text": long},
        {"doc_id": "c", "index": 1, "role": "title", "split": "test", "text": long},  # not body
        {"doc_id": "d", "index": 2, "role": "body", "split": "train", "text": "No comment, he said."},  # 4 words
        {"doc_id": "e", "index": 2, "role": "body", "split": "test", "text": "No comment, he said."},
    ]
    assert near_duplicates(rows) == [
        {"a": "a:1", "a_split": "train", "b": "b:4", "b_split": "test", "jaccard": 1.0, "text": long[:120]}
    ]
    assert near_duplicates(rows, threshold=1.01) == []
