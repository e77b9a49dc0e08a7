"""Attribution rules on PolNeAR (test split): exact and overlap P/R/F1 for source and cue spans.

The rules run in the no-dispute mode (speakers from the text itself), against a
direct-quotes-only baseline computed in the same run (the same rules with every
attribution that is not a direct quote dropped). Usage::

    python bench/bench_attribution.py [--polnear ../shared/data/polnear] [--split test]
        [--out bench/out/attribution.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.text.polnear import predict_spans, read_polnear, score  # noqa: E402


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--polnear", default=str(ROOT.parent / "shared" / "data" / "polnear"), help="PolNeAR data folder")
    ap.add_argument("--split", default="test")
    ap.add_argument("--limit", type=int, default=None, help="first N articles only")
    ap.add_argument("--out", default=str(ROOT / "bench" / "out" / "attribution.json"))
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    docs = read_polnear(args.polnear, args.split, args.limit)
    rules = [predict_spans(d) for d in docs]
    baseline = [predict_spans(d, direct_only=True) for d in docs]
    result = {
        "split": args.split,
        "articles": len(docs),
        "relations": sum(len(d.relations) for d in docs),
        "rules": score(docs, rules),
        "direct_quotes_only": score(docs, baseline),
        "seconds": round(time.perf_counter() - t0, 1),
    }
    print(
        f"PolNeAR {args.split}: {result['articles']} articles, {result['relations']} attributions "
        f"({sum(len(d.source_spans) for d in docs)} distinct source spans, "
        f"{sum(len(d.cue_spans) for d in docs)} cue spans)"
    )
    print(f"{'':22}{'rules P':>9}{'R':>7}{'F1':>7}   {'direct-only P':>13}{'R':>7}{'F1':>7}")
    for key in result["rules"]:
        r, b = result["rules"][key], result["direct_quotes_only"][key]
        print(
            f"{key:22}{r['precision']:9.3f}{r['recall']:7.3f}{r['f1']:7.3f}   "
            f"{b['precision']:13.3f}{b['recall']:7.3f}{b['f1']:7.3f}"
        )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written to {out} ({result['seconds']} s)")
    return result


if __name__ == "__main__":
    main()
