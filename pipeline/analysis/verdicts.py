"""Per-article verdicts from scored passages (pure functions), and the rule they follow.

- ``author_favors``: from author-voice body passages only (quoting a side at
  length is reporting, not siding with it). Each side's weight is the sum of
  its probability over the author passages the model gives to that side; its
  *share* is that weight per author passage (passages given a side with less
  than ``rule.min_prob`` count for none). The top side wins when its share
  is at least ``rule.min_share`` and its weight ``rule.ratio`` times the
  runner-up's; otherwise the verdict is ``neutral``. Per author passage, not in
  total: a long neutral news report has many author passages, and a few that
  lean one way must not add up to a side.
- ``more_credible``: the side whose account the author's own passages treat as
  credible (a "credible" judgment of that side, or "not credible" of the
  other), by the same rule with ``rule.cred_min_share`` and ``rule.cred_ratio``;
  None when the author makes no such judgment.
- Two optional steps, off unless validation data chose them (see
  :func:`fit_rule`): ``credibility_breaks_ties`` (a neutral stance verdict takes
  the credibility verdict's side) and ``cue_is_certain`` (an explicit
  credibility cue counts as one sure passage rather than at the model's
  probability).
- Every verdict has a confidence: the share of bootstrap resamples of the
  article's author passages that give the same verdict, mapped through the
  rule's calibration (``confidence_power``, fitted on validation articles).
  A verdict that hangs on one passage gets a low one; ``neutral`` has its own.
- ``quoted_sources``: every quoted or paraphrased source with its side and count.

- A learned alternative to the thresholds (``rule.favors_model``,
  ``rule.credible_model``): a conditional logit (:mod:`pipeline.analysis.choice`)
  over each side's share of author passages that favor it, its mean
  probability and its share of credibility judgments in its favour, against
  the neutral option's mean neutral probability. Its confidence is the mean,
  over bootstrap resamples of the author passages, of the probability it gives
  its verdict: a probability, and low when the verdict hangs on one passage.

The rule's settings are chosen on validation articles (:func:`fit_rule`), never
on a test split or the seed; ``stance train`` fits them and stores them with
the model.
"""

from __future__ import annotations

import hashlib
import itertools
from collections import Counter
from dataclasses import asdict, dataclass, field, fields, replace

import numpy as np

from pipeline.analysis.choice import ChoiceModel, cross_predict, fit_choice_cv
from pipeline.labels import NEUTRAL

RESAMPLES = 200


@dataclass(frozen=True)
class VerdictRule:
    """How passages add up to an article verdict (see the module docstring)."""

    min_share: float = 0.2
    ratio: float = 1.5
    min_prob: float = 0.0  # author passages the model gives a side with less probability do not count
    cred_min_share: float = 0.05
    cred_ratio: float = 1.5
    credibility_breaks_ties: bool = False
    cue_is_certain: bool = False
    confidence_power: float = 1.0  # confidence = bootstrap agreement ** power (1: as measured)
    favors_model: dict | None = None  # a fitted ChoiceModel for author_favors instead of the thresholds
    credible_model: dict | None = None  # a fitted ChoiceModel for more_credible instead of the thresholds
    fitted_on: str = "default"  # where the settings come from: "default", or the validation data they were fitted on

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict | None) -> VerdictRule:
        """A rule from a stored dict (unknown keys ignored, missing ones default); the default for None."""
        if not data:
            return cls()
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


DEFAULT_RULE = VerdictRule()

# the settings fit_rule tries; the default rule is among them
STANCE_GRID = {
    "min_share": (0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4),
    "ratio": (1.0, 1.5, 2.0, 3.0),
    "min_prob": (0.0, 0.5, 0.6, 0.7),
}
CREDIBILITY_GRID = {"cred_min_share": (0.02, 0.05, 0.1, 0.15, 0.2), "cred_ratio": (1.0, 1.5, 2.0)}
STEPS_GRID = {"credibility_breaks_ties": (False, True), "cue_is_certain": (False, True)}


def _author_passages(passages: list[dict]) -> list[dict]:
    body = [p for p in passages if p["role"] == "body" and p.get("stance_probs")]
    return [p for p in body if p["source"] == "author" and not p.get("abstained")]


def _contributions(author: list[dict], sides: list[str], rule: VerdictRule) -> tuple[np.ndarray, np.ndarray]:
    """Per author passage, its stance weight toward each side and its credibility support of each side."""
    weight = lambda p, s: p["stance_probs"][s] if p["stance"] == s and p["stance_probs"][s] >= rule.min_prob else 0.0  # noqa: E731
    stance = np.array([[weight(p, s) for s in sides] for p in author])
    cred = np.zeros((len(author), len(sides)))
    for i, p in enumerate(author):
        c = p.get("credibility")
        if not c:
            continue
        sure = rule.cue_is_certain and p.get("credibility_by") in ("cue", "model+cue")
        w = 1.0 if sure or p.get("credibility_prob") is None else float(p["credibility_prob"])
        for j, s in enumerate(sides):
            if (c["side"] == s and c["judgment"] == "credible") or (c["side"] != s and c["judgment"] == "not_credible"):
                cred[i, j] = w
    return stance.reshape(len(author), len(sides)), cred


# the learned aggregation's features: per side (the same weights for every side), and for the none option;
# each is a mean over the article's author passages (so a bootstrap resample is a mean over resampled rows)
FAVOR_SIDE_FEATURES = ("vote", "mean_prob", "credible")
FAVOR_NONE_FEATURES = ("mean_neutral",)
CREDIBLE_SIDE_FEATURES = ("judged", "mean_support")
CREDIBLE_NONE_FEATURES = ("mean_none",)


def _supports(p: dict, side: str) -> bool:
    """Whether the passage's credibility judgment (model or cue) is in ``side``'s favour."""
    c = p.get("credibility")
    return bool(c) and ((c["side"] == side) == (c["judgment"] == "credible"))


def passage_features(author: list[dict], sides: list[str]) -> tuple[np.ndarray, ...]:
    """Per author passage: favor features [n, sides, 3], neutral features [n, 1], credibility features
    [n, sides, 2] and no-judgment features [n, 1] (see :data:`FAVOR_SIDE_FEATURES` and the others).

    - ``vote``: 1 when the passage's side favored is the side; ``mean_prob``: its probability for the
      side; ``credible``: 1 when its credibility judgment is in the side's favour (a "credible" judgment
      of it, or "not credible" of another side); ``mean_neutral``: its neutral probability.
    - ``judged``: as ``credible``; ``mean_support``: the model's probability that the passage judges the
      side credible plus the mean probability that it judges another side not credible;
      ``mean_none``: the mean probability of no judgment over the sides (1 without the model's
      credibility output).
    """
    n, k = len(author), len(sides)
    fav, neu = np.zeros((n, k, len(FAVOR_SIDE_FEATURES))), np.zeros((n, 1))
    cred, none = np.zeros((n, k, len(CREDIBLE_SIDE_FEATURES))), np.ones((n, 1))
    for i, p in enumerate(author):
        probs, cp = p["stance_probs"], p.get("credibility_probs")
        neu[i, 0] = probs.get(NEUTRAL, 0.0)
        for j, s in enumerate(sides):
            judged = float(_supports(p, s))
            fav[i, j] = (float(p["stance"] == s), probs.get(s, 0.0), judged)
            support = 0.0
            if cp:
                others = [cp[o]["not_credible"] for o in sides if o != s]
                support = cp[s]["credible"] + (sum(others) / len(others) if others else 0.0)
            cred[i, j] = (judged, support)
        if cp:
            none[i, 0] = float(np.mean([cp[s]["none"] for s in sides]))
    return fav, neu, cred, none


def _means(x: np.ndarray, empty: float) -> np.ndarray:
    """The mean over passages (axis 0), ``empty`` where there is none."""
    return x.mean(0) if len(x) else np.full(x.shape[1:], empty)


def _choose(model: dict, side_x: np.ndarray, none_x: np.ndarray, idx: np.ndarray | None) -> tuple:
    """(answer index, -1 for none; the mean over the resamples ``idx`` of its probability; the article's
    probabilities, none last) from a fitted :class:`ChoiceModel`."""
    m = ChoiceModel.from_dict(model)
    probs = m.probs(_means(side_x, 0.0), _means(none_x, 1.0))
    j = int(np.argmax(probs))
    agree = float(probs[j]) if idx is None else float(m.probs(side_x[idx].mean(1), none_x[idx].mean(1))[:, j].mean())
    return (j if j < side_x.shape[1] else -1), agree, probs


def _decide(weights: np.ndarray, n: np.ndarray, min_share: float, ratio: float) -> np.ndarray:
    """Index of the winning side per row of ``weights`` ([rows, sides]), -1 for none."""
    order = np.argsort(-weights, axis=1, kind="stable")
    best = np.take_along_axis(weights, order[:, :1], axis=1)[:, 0]
    second = np.take_along_axis(weights, order[:, 1:2], axis=1)[:, 0] if weights.shape[1] > 1 else np.zeros(len(best))
    ok = (best > 0) & (best >= min_share * np.maximum(n, 1)) & (best >= ratio * second) & (best > second)
    return np.where(ok, order[:, 0], -1)


def _verdicts(stance_w: np.ndarray, cred_w: np.ndarray, n: np.ndarray, rule: VerdictRule):
    """(favors index, credible index, favors came from credibility) per row; -1: neutral / none."""
    favors = _decide(stance_w, n, rule.min_share, rule.ratio)
    credible = _decide(cred_w, n, rule.cred_min_share, rule.cred_ratio)
    by_cred = (favors < 0) & (credible >= 0) if rule.credibility_breaks_ties else np.zeros(len(favors), dtype=bool)
    return np.where(by_cred, credible, favors), credible, by_cred


def _rng(passages: list[dict]) -> np.random.Generator:
    key = f"{passages[0].get('doc_id')}:{len(passages)}" if passages else ""
    return np.random.default_rng(int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "little"))


def article_verdict(
    passages: list[dict],
    sides: list[str],
    rule: VerdictRule | None = None,
    max_evidence: int = 3,
    resamples: int = RESAMPLES,
) -> dict:
    """Verdicts for one article's scored passages, with their confidence (see module docstring)."""
    rule = rule or DEFAULT_RULE
    body = [p for p in passages if p["role"] == "body" and p.get("stance_probs")]
    author = _author_passages(passages)
    stance_c, cred_c = _contributions(author, sides, rule)
    n = len(author)
    stance_w, cred_w = stance_c.sum(0), cred_c.sum(0)
    f, c, by_cred = (x[0] for x in _verdicts(stance_w[None, :], cred_w[None, :], np.array([n]), rule))

    # confidence: how often resampling the author passages gives the same verdicts
    idx = _rng(passages).integers(0, n, size=(resamples, n)) if n else None
    favors_agree = cred_agree = 1.0  # no author passage: nothing to resample, and nothing to say but neutral
    if n and not (rule.favors_model and rule.credible_model):  # a learned answer has its own confidence below
        rf, rc, _ = _verdicts(stance_c[idx].sum(1), cred_c[idx].sum(1), np.full(resamples, n), rule)
        favors_agree, cred_agree = float(np.mean(rf == f)), float(np.mean(rc == c))
    # the learned aggregation, where validation chose it: its verdicts, and its probability of them
    favor_probs = cred_probs = None
    if rule.favors_model or rule.credible_model:
        fav_x, neu_x, cred_x, none_x = passage_features(author, sides)
        if rule.favors_model:
            f, favors_agree, favor_probs = _choose(rule.favors_model, fav_x, neu_x, idx)
            by_cred = False
        if rule.credible_model:
            c, cred_agree, cred_probs = _choose(rule.credible_model, cred_x, none_x, idx)
    favors = sides[f] if f >= 0 else NEUTRAL
    credible = sides[c] if c >= 0 else None
    power = rule.confidence_power

    def evidence(weights: np.ndarray, j: int) -> list[int]:
        if j < 0:
            return []
        ranked = sorted((i for i in range(n) if weights[i, j] > 0), key=lambda i: -weights[i, j])
        return [author[i]["index"] for i in ranked[:max_evidence]]

    favor_evidence = evidence(cred_c, f) if by_cred else evidence(stance_c, f)
    sources = Counter((p["source"], p["source_side"] or "other") for p in body if p["source"] != "author")
    first = passages[0] if passages else {}
    return {
        "doc_id": first.get("doc_id"),
        "title": first.get("title"),
        "byline": first.get("byline"),
        "date": first.get("date"),
        "author_favors": favors,
        "author_favors_confidence": round(favors_agree**power, 4),
        "author_favors_weights": {s: round(float(w), 4) for s, w in zip(sides, stance_w)},
        "author_favors_share": {s: round(float(w) / max(n, 1), 4) for s, w in zip(sides, stance_w)},
        "author_favors_evidence": favor_evidence,
        "author_favors_by": "credibility" if by_cred else ("learned" if rule.favors_model else "stance"),
        "author_favors_probs": _named(favor_probs, sides, NEUTRAL),
        "more_credible": credible,
        "more_credible_confidence": round(cred_agree**power, 4),
        "more_credible_weights": {s: round(float(w), 4) for s, w in zip(sides, cred_w)},
        "more_credible_evidence": evidence(cred_c, c),
        "more_credible_probs": _named(cred_probs, sides, "none"),
        "quoted_sources": [
            {"source": s, "side": side, "count": k}
            for (s, side), k in sorted(sources.items(), key=lambda kv: (-kv[1], kv[0]))
        ],
        "author_passages": n,
        "body_passages": len(body),
        "verdict_rule": rule.fitted_on,
    }


def _named(probs: np.ndarray | None, sides: list[str], none: str) -> dict | None:
    """A learned aggregation's probabilities by answer (None for the thresholds, which give none)."""
    return None if probs is None else {a: round(float(p), 4) for a, p in zip([*sides, none], probs)}


@dataclass
class LabelledArticle:
    """One validation article for :func:`fit_rule`: its scored passages, sides and gold answers."""

    passages: list[dict]
    sides: list[str]
    author_favors: str
    more_credible: str | None
    _sums: dict = field(default_factory=dict, repr=False, compare=False)  # weights per (min_prob, cue_is_certain)

    def verdict(self, rule: VerdictRule) -> tuple[str, str | None]:
        """(author_favors, more_credible) under ``rule``, as :func:`article_verdict` gives them, without
        the evidence and the confidence (the grid search asks this thousands of times)."""
        key = (rule.min_prob, rule.cue_is_certain)
        if key not in self._sums:
            author = _author_passages(self.passages)
            stance_c, cred_c = _contributions(author, self.sides, rule)
            self._sums[key] = (stance_c.sum(0)[None, :], cred_c.sum(0)[None, :], np.array([len(author)]))
        f, c, _ = (x[0] for x in _verdicts(*self._sums[key], rule))
        fav, cred = self.examples()
        if rule.favors_model:
            f = _argmax_answer(rule.favors_model, fav)
        if rule.credible_model:
            c = _argmax_answer(rule.credible_model, cred)
        return (self.sides[f] if f >= 0 else NEUTRAL), (self.sides[c] if c >= 0 else None)

    def examples(self) -> tuple[tuple[np.ndarray, np.ndarray, int], tuple[np.ndarray, np.ndarray, int]]:
        """The article as one example for each learned aggregation: (side features, none features, gold
        answer: a side's index, or the number of sides for neutral / no side)."""
        if "examples" not in self._sums:
            fav, neu, cred, none = passage_features(_author_passages(self.passages), self.sides)
            k = len(self.sides)
            y_f = k if self.author_favors == NEUTRAL else self.sides.index(self.author_favors)
            y_c = k if self.more_credible is None else self.sides.index(self.more_credible)
            self._sums["examples"] = (
                (_means(fav, 0.0), _means(neu, 1.0), y_f),
                (_means(cred, 0.0), _means(none, 1.0), y_c),
            )
        return self._sums["examples"]


def _argmax_answer(model: dict, example: tuple) -> int:
    """The answer a fitted model gives an article's features: a side's index, or -1 for none."""
    probs = ChoiceModel.from_dict(model).probs(example[0], example[1])
    j = int(np.argmax(probs))
    return j if j < len(probs) - 1 else -1


def _score(articles: list[LabelledArticle], rule: VerdictRule) -> tuple[float, float]:
    """(author_favors accuracy, more_credible accuracy) of ``rule`` on ``articles``."""
    fav = cred = 0
    for a in articles:
        favors, credible = a.verdict(rule)
        fav += favors == a.author_favors
        cred += credible == a.more_credible
    return fav / len(articles), cred / len(articles)


def _distance(rule: VerdictRule) -> float:
    """How far a rule is from the default, for breaking ties toward it (and toward fewer steps)."""
    d = DEFAULT_RULE
    return (
        abs(rule.min_share - d.min_share) / 0.05
        + abs(rule.ratio - d.ratio) / 0.5
        + abs(rule.min_prob - d.min_prob) / 0.1
        + abs(rule.cred_min_share - d.cred_min_share) / 0.05
        + abs(rule.cred_ratio - d.cred_ratio) / 0.5
        + 2 * rule.credibility_breaks_ties
        + 2 * rule.cue_is_certain
    )


def _best(articles: list[LabelledArticle], base: VerdictRule, grid: dict, objective) -> VerdictRule:
    """The rule from ``base`` with ``grid``'s settings that maximises ``objective((fav, cred))`` on
    ``articles``; ties go to the rule nearest the default."""
    keys, best, best_key = list(grid), base, None
    for values in itertools.product(*(grid[k] for k in keys)):
        rule = replace(base, **dict(zip(keys, values)))
        key = (objective(_score(articles, rule)), -_distance(rule))
        if best_key is None or key > best_key:
            best, best_key = rule, key
    return best


def _fit(articles: list[LabelledArticle]) -> VerdictRule:
    """The grid search of :func:`fit_rule`, without its guard."""
    candidates = []
    for steps in itertools.product(*STEPS_GRID.values()):
        base = replace(DEFAULT_RULE, **dict(zip(STEPS_GRID, steps)))
        base = _best(articles, base, CREDIBILITY_GRID, lambda acc: acc[1])
        candidates.append(_best(articles, base, STANCE_GRID, lambda acc: acc[0]))
    return max(candidates, key=lambda r: (sum(_score(articles, r)), -_distance(r)))


def fit_rule(articles: list[LabelledArticle], where: str) -> tuple[VerdictRule, dict]:
    """The verdict rule for a model, chosen on ``articles`` (its validation articles), with the
    confidence calibration fitted on them too.

    The grid search: for each choice of the optional steps
    (:data:`STEPS_GRID`), the credibility settings are chosen for
    ``more_credible`` accuracy, then the stance settings for ``author_favors``
    accuracy; the steps are then chosen on both accuracies together. Ties go
    to the settings nearest the default.

    A dozen articles are few to choose eight settings on, so the search must
    earn its place: its leave-one-out accuracy (each article judged by the
    rule fitted on the others) must beat the default rule's accuracy on the
    same articles, or the default is kept. With no article, the default.

    The learned aggregation (a :class:`~pipeline.analysis.choice.ChoiceModel`
    for ``author_favors``, another for ``more_credible``) is judged the same
    way, each answer on its own, by its leave-one-out accuracy (penalty chosen
    inside each fold). It is kept for an answer when that accuracy beats the
    default rule's and is at least the search's: a tie with the search goes to
    the learned aggregation, which chooses fewer settings on the articles (four
    or five weights and a penalty, against eight settings). Otherwise the answer keeps
    the thresholds (the search or the default, chosen as above).

    Returns:
        (rule, report): the report holds the default's accuracy, the search's
        and the learned aggregation's leave-one-out accuracy and which was kept
        for each answer.
    """
    if not articles:
        return DEFAULT_RULE, {"articles": 0, "kept": "default", "why": "no validation article with gold answers"}
    default = _score(articles, DEFAULT_RULE)
    loo_fav = loo_cred = 0.0
    for i in range(len(articles)):
        rule = _fit(articles[:i] + articles[i + 1 :]) if len(articles) > 1 else DEFAULT_RULE
        fav, cred = _score(articles[i : i + 1], rule)
        loo_fav, loo_cred = loo_fav + fav, loo_cred + cred
    loo = (loo_fav / len(articles), loo_cred / len(articles))
    searched = sum(loo) > sum(default)
    best = _fit(articles) if searched else DEFAULT_RULE

    # the learned aggregation, judged the same way: each article by a model fitted without it
    data = [a.examples() for a in articles]
    learned, models = [], {}
    for part, name in ((0, "favors_model"), (1, "credible_model")):
        xs = [d[part] for d in data]
        learned.append(float(np.mean([np.argmax(p) == x[2] for p, x in zip(cross_predict(xs), xs)])))
        if learned[part] > default[part] and learned[part] >= loo[part]:
            models[name] = fit_choice_cv(xs).to_dict()
    best = replace(best, **models)
    rule = replace(best, confidence_power=fit_confidence_power(articles, best), fitted_on=where)
    acc = lambda a: {"author_favors_accuracy": round(a[0], 4), "more_credible_accuracy": round(a[1], 4)}  # noqa: E731
    thresholds = "search" if searched else "default"
    report = {
        "articles": len(articles),
        "default": acc(default),
        "search_leave_one_out": acc(loo),
        "learned_leave_one_out": acc(learned),
        "kept": thresholds,
        "kept_author_favors": "learned" if "favors_model" in models else thresholds,
        "kept_more_credible": "learned" if "credible_model" in models else thresholds,
        "why": "the search's leave-one-out accuracy "
        + ("beats" if searched else "does not beat")
        + " the default rule's on these articles; per answer the learned aggregation is kept where its"
        " leave-one-out accuracy beats the default's and is at least the search's (fewer settings fitted)",
        "rule": rule.to_dict(),
    }
    return rule, report


POWERS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0)


def fit_confidence_power(articles: list[LabelledArticle], rule: VerdictRule) -> float:
    """The power ``p`` for which ``agreement ** p`` best predicts (log-likelihood) whether each verdict
    (author_favors and more_credible of every article) is right; 1.0 when all are right or all wrong."""
    agree, right = [], []
    for a in articles:
        v = article_verdict(a.passages, a.sides, replace(rule, confidence_power=1.0))
        agree += [v["author_favors_confidence"], v["more_credible_confidence"]]
        right += [v["author_favors"] == a.author_favors, v["more_credible"] == a.more_credible]
    agree, right = np.clip(np.array(agree), 1e-3, 1 - 1e-3), np.array(right, dtype=float)
    if right.min() == right.max():
        return 1.0

    def nll(p: float) -> float:
        q = np.clip(agree**p, 1e-6, 1 - 1e-6)
        return float(-np.mean(right * np.log(q) + (1 - right) * np.log(1 - q)))

    return min(POWERS, key=lambda p: (nll(p), abs(np.log(p))))
