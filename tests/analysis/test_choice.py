"""The conditional logit behind the learned article verdicts: what it learns, that it treats the sides
alike, and that its cross-validation predicts each example without it."""

import numpy as np
import pytest

from pipeline.analysis.choice import ChoiceModel, choose_l2, cross_predict, fit_choice, fit_choice_cv


def _data(n=30, seed=0):
    """Articles of two sides: one feature per side (how much the article leans to it) and one for none
    (how neutral it reads); the answer is the side it leans to, or none when it reads neutral."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        kind = i % 3
        lean = rng.uniform(0.0, 0.15, 2)
        if kind < 2:
            lean[kind] += 0.6
        out.append((lean[:, None], np.array([0.9 if kind == 2 else 0.2]), kind))
    return out


def test_it_learns_the_side_an_article_leans_to_and_none_for_a_neutral_one():
    data = _data()
    model = fit_choice(data, l2=0.01)
    pred = [int(np.argmax(model.probs(f, g))) for f, g, _ in data]
    assert pred == [y for _, _, y in data]
    assert model.side_weights[0] > 0 and model.none_weights[0] > 0
    p = model.probs(data[0][0], data[0][1])
    assert p.shape == (3,) and p.sum() == pytest.approx(1.0) and p[0] > 0.5


def test_the_sides_share_weights_so_their_order_does_not_matter():
    model = fit_choice(_data(), l2=0.01)
    f, g = np.array([[0.7], [0.1]]), np.array([0.2])
    p, q = model.probs(f, g), model.probs(f[::-1], g)
    assert p[0] == pytest.approx(q[1]) and p[1] == pytest.approx(q[0]) and p[2] == pytest.approx(q[2])
    three = model.probs(np.array([[0.7], [0.1], [0.1]]), g)  # any number of sides
    assert three.shape == (4,) and int(np.argmax(three)) == 0


def test_a_larger_penalty_gives_less_sure_probabilities_and_the_dict_round_trips():
    data = _data()
    loose, tight = fit_choice(data, 0.001), fit_choice(data, 1.0)
    f, g, _ = data[0]
    assert loose.probs(f, g).max() > tight.probs(f, g).max()
    assert ChoiceModel.from_dict(loose.to_dict()).probs(f, g) == pytest.approx(loose.probs(f, g), abs=1e-5)
    assert choose_l2(data) in (0.003, 0.01, 0.03, 0.1, 0.3)
    assert fit_choice_cv(data).l2 == choose_l2(data)


def test_cross_prediction_judges_each_example_without_it():
    data = _data(12)
    # one article whose answer contradicts its features: fitted with it, the model may bend to it;
    # judged without it, it is called by the rule the others follow
    f, g, _ = data[0]
    data[0] = (f, g, 1)
    probs = cross_predict(data)
    assert len(probs) == 12 and int(np.argmax(probs[0])) == 0
    assert sum(int(np.argmax(p)) == y for p, (_, _, y) in zip(probs[1:], data[1:])) >= 10
    big = _data(60)  # beyond leave-one-out: k-fold
    assert sum(int(np.argmax(p)) == y for p, (_, _, y) in zip(cross_predict(big), big)) >= 55


def test_balanced_weights_give_a_rare_answer_its_share():
    rng = np.random.default_rng(1)
    # rare neutral articles whose feature overlaps the others': unweighted, the likelihood calls them less
    data = []
    for i in range(80):
        y = 2 if i % 8 == 0 else i % 2
        x = rng.normal(0.6 if y == 2 else 0.4, 0.15)
        lean = np.array([[0.5], [0.2]]) if y != 1 else np.array([[0.2], [0.5]])
        data.append((lean, np.array([x]), y))
    called = lambda m: sum(int(np.argmax(m.probs(f, g))) == 2 for f, g, _ in data)  # noqa: E731
    assert called(fit_choice(data, 0.01, balanced=True)) > called(fit_choice(data, 0.01))


def test_it_fits_disputes_of_two_and_three_sides_together():
    two = _data(18)
    three = [(np.vstack([f, [[0.05]]]), g, y if y < 2 else 3) for f, g, y in _data(12, seed=1)]
    model = fit_choice(two + three, l2=0.01)
    assert all(int(np.argmax(model.probs(f, g))) == y for f, g, y in two + three)
