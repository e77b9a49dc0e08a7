"""bench/verdict_seeds.py: article verdicts of several model versions side by side, and which change."""

import importlib.util
import json
import shutil

from conftest import ROOT


def test_it_counts_the_articles_whose_verdict_differs_between_models(tiny_trained, tmp_path):
    spec = importlib.util.spec_from_file_location("verdict_seeds", ROOT / "bench" / "verdict_seeds.py")
    seeds = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(seeds)
    model, data = tiny_trained
    out = tmp_path / "seeds.json"
    same = seeds.main(["--models", str(model), str(model), "--data", str(data), "--out", str(out)])
    held = same["summary"]["held_out"]
    assert held["articles"] > 0 and held["author_favors_changes"] == held["more_credible_changes"] == 0
    assert json.loads(out.read_text())["summary"] == same["summary"]

    # two versions whose learned verdicts are fixed: one always says neutral, one always the first side
    def version(name, bias):
        d = tmp_path / name
        shutil.copytree(model, d)
        cal = json.loads((d / "calibration.json").read_text())
        fixed = {"side_weights": [0.0, 0.0, 0.0], "none_weights": [0.0], "bias": bias}
        cal["verdict_rule"] = {**(cal.get("verdict_rule") or {}), "favors_model": fixed}
        (d / "calibration.json").write_text(json.dumps(cal))
        return str(d)

    a, b = version("neutral", 50.0), version("sided", -50.0)
    both = seeds.main(["--models", a, b, "--data", str(data), "--out", str(out)])
    rows = [r for r in both["articles"] if r["split"] in ("test", "seed")]
    assert all(r["models"][a]["author_favors"] == "neutral" != r["models"][b]["author_favors"] for r in rows)
    assert both["summary"]["held_out"]["author_favors_changes"] == len(rows) == held["articles"]
    assert both["summary"]["held_out"]["more_credible_changes"] == 0  # the credibility rule is the same
    assert both["verdict_rules"][a]["author_favors"] == "learned"
