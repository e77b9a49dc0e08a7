import pytest
from conftest import ROOT, SEED_TXT, need_shared

from pipeline.dispute import Dispute, load_dispute, parse_dispute
from pipeline.errors import ConfigError
from pipeline.labels import mark_mentions

SHIPPED = sorted((ROOT / "configs/disputes").glob("*.yaml"))


def test_every_shipped_dispute_loads():
    for p in SHIPPED:
        d = load_dispute(p)
        assert len(d.side_names) >= 2, p


def test_resolves_names_surnames_titles():
    d = load_dispute(ROOT / "configs/disputes/us-dprk-hanoi-2019.yaml")
    assert d.resolve("Mr. Ri")[:2] == ("Ri Yong Ho", "DPRK")
    assert d.resolve("Foreign Minister Ri Yong Ho")[:2] == ("Ri Yong Ho", "DPRK")
    assert d.resolve("the president")[:2] == ("Donald Trump", "US")
    assert d.resolve("Washington") == ("US", "US", True)
    found = [m[2] for m in d.find("Pompeo met Choe while Kim waited.")]
    assert found == ["Mike Pompeo", "Choe Son Hui", "Kim Jong Un"]


def test_dispute_without_sides(tmp_path):
    with pytest.raises(ConfigError, match=r"x.yaml: 'sides' is missing or empty"):
        parse_dispute({"name": "x"}, str(tmp_path / "x.yaml"))


def test_alias_claimed_by_two_sides():
    with pytest.raises(ConfigError, match="alias 'The Capital' is claimed by both A and B"):
        parse_dispute({"sides": {"A": {"aliases": ["the capital"]}, "B": {"aliases": ["The Capital"]}}}, "d.yaml")


def test_short_form_and_swap():
    d = parse_dispute({"sides": {"A": ["Aland"], "B": ["Bland"]}}, "d.yaml")
    s = d.swapped()
    assert s.sides["A"].aliases == ("Bland",) and s.sides["B"].aliases == ("Aland",)


def test_acronyms_and_short_forms_match_case_sensitively():
    from pipeline.dispute import case_sensitive

    forms = ("US", "U.S.", "DPRK", "ROK", "Ri", "Kim", "Washington", "the US side", "COUNCIL")
    assert [f for f in forms if case_sensitive(f)] == ["US", "U.S.", "DPRK", "ROK", "Ri", "Kim", "COUNCIL"]
    d = load_dispute(ROOT / "configs/disputes/us-dprk-hanoi-2019.yaml")
    assert [m[2:4] for m in d.find("Let us be clear: the US, the us side and WASHINGTON.")] == [("US", "US")] * 3
    assert d.resolve("us") is None and d.resolve("the US") == d.resolve("US") == ("US", "US", True)
    assert d.resolve("The President")[:2] == ("Donald Trump", "US") and d.resolve("dprk") is None


def test_cue_functions_and_attribution_match_as_the_dispute_does():
    from pipeline.text.attribution import attribute_passages
    from pipeline.text.cues import lf_blame

    d = load_dispute(ROOT / "configs/disputes/us-dprk-hanoi-2019.yaml")
    assert lf_blame({"text": "They blamed us for the collapse."}, d) is None
    assert lf_blame({"text": "They blamed US negotiators for the collapse."}, d) == "DPRK"
    texts = ["According to us, the talks failed.", "According to the US, the talks failed."]
    ours, theirs = attribute_passages(texts, [0, 1], d)
    assert ours.source_side != "US" and (theirs.source, theirs.source_side) == ("US", "US")


def side_forms(d: Dispute, side: str) -> list[str]:
    """Everything the config calls ``side``: its name, aliases, actors and the actors' forms."""
    s = d.sides[side]
    return [s.name, *s.aliases, *[f for actor, forms in s.actors.items() for f in (actor, *forms)]]


def assert_mirrored(d: Dispute, text: str) -> int:
    """Every mention of the first side in ``text`` is one of the second in the
    swapped dispute (same span) and the other way round, third parties stay,
    and the model's marked text asked about one side is the original asked
    about the other. Returns the number of side mentions."""
    a, b = d.side_names[:2]
    swap = {a: b, b: a}
    sd = d.swapped()
    before = [(start, end, side) for start, end, _, side, _ in d.find(text)]
    after = [(start, end, side) for start, end, _, side, _ in sd.find(text)]
    assert after == [(start, end, swap.get(side, side)) for start, end, side in before], text[:120]
    assert mark_mentions(text, sd, b) == mark_mentions(text, d, a), text[:120]
    assert mark_mentions(text, sd, a) == mark_mentions(text, d, b), text[:120]
    return sum(side in swap for _, _, side in before)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_swap_moves_every_name_alias_and_actor(path):
    d = load_dispute(path)
    a, b = d.side_names[:2]
    for side, other in ((a, b), (b, a)):
        for form in side_forms(d, side):
            text = f"Yesterday {form} said the offer was fair."
            assert [m[3] for m in d.find(text)] == [side], form
            assert [m[3] for m in d.swapped().find(text)] == [other], form
            assert_mirrored(d, text)
    for fa, fb in zip(side_forms(d, a), side_forms(d, b)):
        assert assert_mirrored(d, f"{fa} blamed {fb} for the collapse, and {fb} blamed {fa}.") == 4


@pytest.mark.parametrize("path", [p for p in SHIPPED if (ROOT / "data/corpus" / p.stem).is_dir()], ids=lambda p: p.stem)
def test_swap_mirrors_the_embedded_corpus(path):
    d = load_dispute(path)
    files = sorted((ROOT / "data/corpus" / path.stem).glob("*.txt"))
    lines = [line for f in files for line in f.read_text(encoding="utf-8").splitlines()]
    assert files and sum(assert_mirrored(d, line) for line in lines) > 50


def test_swap_mirrors_the_seed():
    need_shared(SEED_TXT)
    d = load_dispute(ROOT / "configs/disputes/us-dprk-hanoi-2019.yaml")
    assert sum(assert_mirrored(d, line) for line in SEED_TXT.read_text(encoding="utf-8").splitlines()) > 20
