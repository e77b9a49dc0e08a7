"""Near-duplicate passages across splits (word-trigram Jaccard), for commentary and benchmark builds."""

from __future__ import annotations

import re
from collections import Counter, defaultdict


def cross_split_pairs(texts: list[str], splits: list[str], threshold: float = 0.8, max_df: int | None = None):
    """Yield ``(i, j, jaccard)`` for texts in different splits whose word-trigram
    Jaccard similarity is >= ``threshold`` (i < j). Trigrams shared by more than
    ``max_df`` texts are not used to find candidates (keeps large sets fast)."""
    shingles = []
    index = defaultdict(list)
    for i, t in enumerate(texts):
        w = re.findall(r"\w+", t.lower())
        s = {" ".join(w[k : k + 3]) for k in range(max(1, len(w) - 2))}
        shingles.append(s)
        for g in s:
            index[g].append(i)
    for i in range(len(texts)):
        cands = Counter(j for g in shingles[i] if max_df is None or len(index[g]) <= max_df for j in index[g] if j > i)
        for j in cands:
            if splits[j] == splits[i]:
                continue
            # frequent trigrams only narrow the candidates; the similarity counts every trigram
            jac = len(shingles[i] & shingles[j]) / len(shingles[i] | shingles[j])
            if jac >= threshold:
                yield i, j, jac


def near_duplicates(rows: list[dict], threshold: float = 0.8) -> list[dict]:
    """Body passages in different splits whose word-trigram Jaccard similarity is >= threshold."""
    body = [r for r in rows if r["role"] == "body" and len(r["text"].split()) >= 5]
    return [
        {
            "a": f"{body[i]['doc_id']}:{body[i]['index']}",
            "a_split": body[i]["split"],
            "b": f"{body[j]['doc_id']}:{body[j]['index']}",
            "b_split": body[j]["split"],
            "jaccard": round(jac, 3),
            "text": body[i]["text"][:120],
        }
        for i, j, jac in cross_split_pairs([r["text"] for r in body], [r["split"] for r in body], threshold)
    ]
