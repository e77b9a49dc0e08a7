from conftest import ROOT

from pipeline.dispute import load_dispute
from pipeline.labels import mark_mentions, model_input

HANOI = ROOT / "configs/disputes/us-dprk-hanoi-2019.yaml"


def test_the_pronoun_us_is_not_the_united_states():
    d = load_dispute(HANOI)
    assert mark_mentions("Let us be clear: the US said no.", d, "US") == "Let us be clear: the << US >> said no."
    assert mark_mentions("Give us a deal, said Pyongyang.", d, "US") == "Give us a deal, said [[ Pyongyang ]]."
    passage = "Let us be clear: the U.S. walked away."
    text, pair = model_input("stance", d, "DPRK", passage, "author", None, "Tell us why.")
    assert text == "[author] Let us be clear: the [[ U.S. ]] walked away." and pair.endswith("| before: Tell us why.")


def test_acronyms_match_as_written_and_names_in_any_case():
    d = load_dispute(HANOI)
    marked = mark_mentions("the united states and the DPRK; the dprk", d, "US")
    assert marked == "the << united states >> and the [[ DPRK ]]; the dprk"
    # "Un" of Kim Jong Un is a surname form of three characters or fewer: the United Nations is not Kim
    assert mark_mentions("UN sanctions stay, Kim said.", d, "DPRK") == "UN sanctions stay, << Kim >> said."


def test_sides_tied_for_the_top_are_neutral_not_the_first_side():
    from pipeline.labels import NEUTRAL, side_favored

    assert side_favored({"A": 0.4, "B": 0.4, NEUTRAL: 0.2}) == NEUTRAL
    assert side_favored({"A": 0.40001, "B": 0.4, NEUTRAL: 0.19999}) == NEUTRAL  # float noise from padding is a tie
    assert side_favored({"A": 0.45, "B": 0.35, NEUTRAL: 0.2}) == "A"
    assert side_favored({"B": 0.45, "A": 0.35, NEUTRAL: 0.2}) == "B"
    assert side_favored({"A": 0.2, "B": 0.2, NEUTRAL: 0.6}) == NEUTRAL
