"""The memory bench's verdict: a rising floor is growth, a step down is not (bench/bench_score.py)."""

import importlib.util

from conftest import ROOT


def _bench():
    spec = importlib.util.spec_from_file_location("bench_score", ROOT / "bench" / "bench_score.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _series(floor, seconds=600):
    """1 s RSS samples: a per-second floor with a 200 MB swing every 10 s (one chunk's activations), plus a final
    sample."""
    return [(float(t), floor(t) + (200.0 if t % 10 == 5 else 0.0)) for t in range(seconds)] + [(float(seconds), 100.0)]


def test_rss_trend_tells_growth_from_flat_and_falling():
    rss_trend = _bench().rss_trend
    flat = rss_trend(_series(lambda t: 900.0), tolerance=2.0)
    assert flat["verdict"] == "flat" and abs(flat["slope_floor_second_half"]) < 0.1
    leak = rss_trend(_series(lambda t: 900.0 + t / 60 * 10), tolerance=2.0)  # +10 MB/min
    assert leak["verdict"] == "NOT flat (growing)" and abs(leak["slope_floor_second_half"] - 10) < 0.5
    # the onnx-int8 run's shape: a plateau, one step down as the allocator hands memory back, flat after
    step = rss_trend(_series(lambda t: 1270.0 if t < 350 else 910.0), tolerance=2.0)
    assert step["verdict"] == "falling, not growing" and step["slope_floor_second_half"] < -2


def test_realistic_synthetic_articles_are_as_long_as_the_corpus_articles(tmp_path):
    from pipeline.text.readers import read_inputs
    from pipeline.text.segment import segment_article

    bench = _bench()
    bench.synthetic_corpus(tmp_path / "short", 40, per_file=20)
    bench.synthetic_corpus(tmp_path / "realistic", 40, per_file=20, shape="realistic")

    def passages_per_article(folder):
        arts, rejects = read_inputs([str(folder)])
        assert len(arts) == 40 and not rejects
        return sum(len(segment_article(a)) for a in arts) / len(arts)

    assert passages_per_article(tmp_path / "short") < 5
    assert 20 <= passages_per_article(tmp_path / "realistic") <= 30  # the corpus articles have about 25
