"""A conditional logit over the sides of a dispute and one "none" option (pure numpy and scipy).

An article verdict is a choice among the dispute's sides and ``neutral`` (or, for credibility, among
the sides and "no side"). :class:`ChoiceModel` scores each side by the same weights over that side's
features (``side_weights``), so it works for any number of sides and cannot prefer a side by its place
in the config, and scores the none option by its own features (``none_weights``) and an intercept.
A softmax over the scores gives the probability of each answer.

:func:`fit_choice` fits it by L2-penalised maximum likelihood; :func:`choose_l2` picks the penalty by
cross-validated log-loss (leave-one-out on a few dozen examples, k-fold beyond); :func:`cross_predict`
gives each example's answer from a model that never saw it, with the penalty chosen inside, for
comparing this against other aggregations on the same data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

L2_GRID = (0.003, 0.01, 0.03, 0.1, 0.3)
LOO_MAX = 50  # leave-one-out up to this many examples, k-fold beyond
FOLDS = 5

# (side features [sides, k], none features [m], answer: a side's index, or the number of sides for none)
Example = tuple[np.ndarray, np.ndarray, int]


@dataclass(frozen=True)
class ChoiceModel:
    """Weights of a conditional logit: ``score(side) = side_weights . F[side]``, ``score(none) = bias +
    none_weights . g``."""

    side_weights: tuple[float, ...]
    none_weights: tuple[float, ...]
    bias: float
    l2: float = 0.0

    def scores(self, side_features: np.ndarray, none_features: np.ndarray) -> np.ndarray:
        """Scores of ``[..., sides + 1]`` (the none option last) for ``side_features [..., sides, k]`` and
        ``none_features [..., m]``."""
        side = np.asarray(side_features) @ np.asarray(self.side_weights)
        none = np.asarray(none_features) @ np.asarray(self.none_weights) + self.bias
        return np.concatenate([side, np.asarray(none)[..., None]], axis=-1)

    def probs(self, side_features: np.ndarray, none_features: np.ndarray) -> np.ndarray:
        """Probabilities of each side and of none (last), summing to 1 over the last axis."""
        s = self.scores(side_features, none_features)
        e = np.exp(s - s.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)

    def to_dict(self) -> dict:
        return {
            "side_weights": [round(float(w), 6) for w in self.side_weights],
            "none_weights": [round(float(w), 6) for w in self.none_weights],
            "bias": round(float(self.bias), 6),
            "l2": self.l2,
        }

    @classmethod
    def from_dict(cls, data: dict) -> ChoiceModel:
        return cls(tuple(data["side_weights"]), tuple(data["none_weights"]), float(data["bias"]), data.get("l2", 0.0))


def _class_weights(data: Sequence[Example], balanced: bool) -> list[float]:
    """Per example: 1, or with ``balanced`` the inverse of its answer's frequency (by index: meant for
    options that are fixed classes, such as positive / negative / neutral), scaled to a mean of 1."""
    if not balanced:
        return [1.0] * len(data)
    keys = [y for _, _, y in data]
    counts = {k: keys.count(k) for k in set(keys)}
    raw = [1.0 / counts[k] for k in keys]
    return [r * len(raw) / sum(raw) for r in raw]


def _stack(data: Sequence[Example], weights: Sequence[float]) -> list[tuple[np.ndarray, ...]]:
    """The examples as arrays, one group per number of sides: (side features [N, sides, k], none
    features [N, m], answers [N], weights [N])."""
    groups: dict[int, list[int]] = {}
    for i, (f, _, _) in enumerate(data):
        groups.setdefault(f.shape[0], []).append(i)
    return [
        (
            np.stack([data[i][0] for i in idx]).astype(float),
            np.stack([np.asarray(data[i][1], dtype=float) for i in idx]),
            np.array([data[i][2] for i in idx]),
            np.array([weights[i] for i in idx], dtype=float),
        )
        for idx in groups.values()
    ]


def _loss(theta: np.ndarray, groups: list[tuple[np.ndarray, ...]], k: int, l2: float) -> tuple[float, np.ndarray]:
    """Weighted mean negative log-likelihood plus ``l2`` times the squared weights (not the intercept),
    and its gradient."""
    w, v, b = theta[:k], theta[k:-1], theta[-1]
    loss, grad, n = 0.0, np.zeros_like(theta), 0
    for f, g, y, c in groups:
        s = np.concatenate([f @ w, (g @ v + b)[:, None]], axis=1)
        s = s - s.max(axis=1, keepdims=True)
        log_z = np.log(np.exp(s).sum(axis=1))
        rows = np.arange(len(y))
        loss -= float(c @ (s[rows, y] - log_z))
        d = np.exp(s - log_z[:, None])
        d[rows, y] -= 1.0
        d *= c[:, None]
        grad[:k] += np.einsum("ns,nsk->k", d[:, :-1], f)
        grad[k:-1] += d[:, -1] @ g
        grad[-1] += d[:, -1].sum()
        n += len(y)
    n = max(n, 1)
    loss, grad = loss / n, grad / n
    loss += l2 * float(theta[:-1] @ theta[:-1])
    grad[:-1] += 2 * l2 * theta[:-1]
    return loss, grad


def fit_choice(data: Sequence[Example], l2: float, balanced: bool = False) -> ChoiceModel:
    """The model that maximises the penalised likelihood of ``data`` (at least one example); with
    ``balanced``, every answer weighs the same in total (for macro-F1)."""
    from scipy.optimize import minimize

    k, m = data[0][0].shape[1], len(data[0][1])
    args = (_stack(data, _class_weights(data, balanced)), k, l2)
    res = minimize(_loss, np.zeros(k + m + 1), args=args, jac=True, method="L-BFGS-B")
    t = res.x
    return ChoiceModel(tuple(float(x) for x in t[:k]), tuple(float(x) for x in t[k:-1]), float(t[-1]), l2)


def _folds(n: int) -> list[list[int]]:
    """Held-out index groups: one per example up to :data:`LOO_MAX`, else :data:`FOLDS` interleaved folds."""
    return [[i] for i in range(n)] if n <= LOO_MAX else [list(range(j, n, FOLDS)) for j in range(FOLDS)]


def choose_l2(data: Sequence[Example], grid: Sequence[float] = L2_GRID, balanced: bool = False) -> float:
    """The penalty of ``grid`` with the lowest cross-validated log-loss on ``data`` (ties: the larger)."""
    if len(data) < 3:
        return max(grid)
    best, best_loss = max(grid), np.inf
    for l2 in sorted(grid, reverse=True):
        loss = 0.0
        for held in _folds(len(data)):
            rest = [x for i, x in enumerate(data) if i not in held]
            model = fit_choice(rest, l2, balanced)
            loss -= sum(np.log(max(model.probs(data[i][0], data[i][1])[data[i][2]], 1e-12)) for i in held)
        if loss < best_loss - 1e-9:
            best, best_loss = l2, loss
    return best


def fit_choice_cv(data: Sequence[Example], grid: Sequence[float] = L2_GRID, balanced: bool = False) -> ChoiceModel:
    """:func:`fit_choice` at the penalty :func:`choose_l2` picks."""
    return fit_choice(data, choose_l2(data, grid, balanced), balanced)


def cross_predict(data: Sequence[Example], grid: Sequence[float] = L2_GRID, balanced: bool = False) -> list[np.ndarray]:
    """Each example's probabilities from a model fitted (penalty chosen inside) without it."""
    out: list[np.ndarray] = [np.zeros(0)] * len(data)
    k, m = data[0][0].shape[1], len(data[0][1])
    for held in _folds(len(data)):
        rest = [x for i, x in enumerate(data) if i not in held]
        model = fit_choice_cv(rest, grid, balanced) if rest else ChoiceModel((0.0,) * k, (0.0,) * m, 0.0)
        for i in held:
            out[i] = model.probs(data[i][0], data[i][1])
    return out
