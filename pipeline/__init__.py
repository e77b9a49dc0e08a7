"""Stance and credibility classifiers over commentary: build, train, evaluate, score, compare."""

__version__ = "0.1.0"
