import pytest
from conftest import ROOT

from pipeline.dispute import load_dispute, parse_dispute
from pipeline.errors import ConfigError


def test_every_shipped_dispute_loads():
    for p in sorted((ROOT / "configs/disputes").glob("*.yaml")):
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
