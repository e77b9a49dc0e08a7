"""How much of a passage an attribution's content must cover to give the passage its speaker.

Sweeps ``min_share`` of :func:`pipeline.text.attribution.attribute_with_relations` over the passages of one
split of a built commentary dataset (validation by default: where the setting is chosen) with a trained
attribution model, for the model alone and combined with the rules. Usage::

    python bench/attribution_share.py [--model models/attribution] [--data data/built/default] [--split validation]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.analysis.attribution import attribution_agreement, with_shares  # noqa: E402
from pipeline.contracts import dispute_paths, read_manifest  # noqa: E402
from pipeline.dispute import load_dispute  # noqa: E402
from pipeline.text.attribution import attribute_passages, attribute_with_relations, body_document  # noqa: E402
from pipeline.text.tagger import SpanTagger  # noqa: E402

SHARES = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.01)  # 1.01: only the cue's own passage


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="models/attribution")
    ap.add_argument("--data", default="data/built/default")
    ap.add_argument("--split", default="validation")
    ap.add_argument("--out", default=str(ROOT / "bench" / "out" / "attribution_share.json"))
    args = ap.parse_args(argv)
    from datasets import load_from_disk

    manifest = read_manifest(args.data)
    disputes = {n: load_dispute(p) for n, p in dispute_paths(args.data, manifest).items()}
    rows = [r for r in load_from_disk(str(Path(args.data) / "passages"))[args.split].to_list() if r["role"] == "body"]
    by_doc: dict[str, list[dict]] = {}
    for r in rows:
        by_doc.setdefault(r["doc_id"], []).append(r)
    tagger = SpanTagger.from_folder(args.model)
    docs = []
    for body in by_doc.values():
        body.sort(key=lambda r: r["index"])
        texts, paras = [r["text"] for r in body], [r["paragraph"] for r in body]
        doc, offsets = body_document(texts, paras)
        dispute = disputes[body[0]["dispute"]]
        docs.append((body, texts, paras, dispute, doc, offsets, attribute_passages(texts, paras, dispute)))
    relations = tagger.relations([d[4] for d in docs])
    result = {"split": args.split, "model": args.model, "passages": len(rows), "by_share": {}}
    print(f"{args.split}: {len(rows)} body passages of {len(docs)} articles")
    print(f"{'min_share':>9} {'mode':22} {'source acc':>10} {'side acc':>9} {'author->source':>15} {'missed':>8}")
    for share in SHARES:
        for mode in ("model", "combined", "model, content only", "combined, content only"):
            scored = []
            for (body, texts, paras, dispute, doc, offsets, rules), rels in zip(docs, relations):
                fallback = rules if mode.startswith("combined") else None
                cue_counts = not mode.endswith("content only")
                atts, by = attribute_with_relations(
                    texts, paras, dispute, rels, doc, offsets, fallback, share, cue_counts
                )
                for r, a, b in zip(body, atts, by):
                    scored.append({**r, "source": a.source, "source_side": a.source_side, "source_by": b})
            a = with_shares(attribution_agreement(scored))
            result["by_share"][f"{share}:{mode}"] = a
            print(
                f"{share:9.2f} {mode:22} {a['source_accuracy']:10.3f} {a['source_side_accuracy']:9.3f} "
                f"{a['author_handed_to_source_share']:15.1%} {a['attributed_missed_share']:8.1%}"
            )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written to {out}")
    return result


if __name__ == "__main__":
    main()
