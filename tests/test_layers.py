"""The package's import graph: every arrow points down, and no module imports another that imports it back.

Layers, lowest first (docs/architecture.md draws them):

0. ``errors``
1. ``io``, ``config``, ``labels``: shared values and file helpers
2. ``dispute``, ``contracts``: the dispute config and the file contracts between stages
3. ``text`` (reading, segmentation, attribution, cue functions, passage rows) and
   ``analysis`` (metrics and verdicts)
4. the stages, in pipeline order: ``dataset`` < ``train`` < ``score`` < ``evaluate`` < ``compare``
5. ``cli`` (and ``__main__``)

A module may import a module of a lower layer, or of its own package (``text``
from ``text``, ``score`` from ``score``). Imports inside functions count: they
are how the CLI stays fast, not a way around the layering.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "pipeline"

RANK = {
    "errors": 0,
    "io": 1,
    "config": 1,
    "labels": 1,
    "dispute": 2,
    "contracts": 2,
    "text": 3,
    "analysis": 3,
    "dataset": 4,
    "train": 5,
    "score": 6,
    "evaluate": 7,
    "compare": 8,
    "cli": 9,
    "__main__": 10,
    "__init__": 0,
}


def module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def room(module: str) -> str:
    """``pipeline.score.run`` -> ``score``; ``pipeline`` -> ``__init__``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def imports_of(path: Path) -> set[str]:
    """Every ``pipeline.*`` module this file imports, at any depth in the file."""
    out = set()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("pipeline"))
        elif (
            isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("pipeline") and node.level == 0
        ):
            for a in node.names:
                sub = f"{node.module}.{a.name}"
                out.add(sub if _exists(sub) else node.module)
        elif isinstance(node, ast.ImportFrom) and node.level:
            raise AssertionError(f"{path}: relative import; use the absolute pipeline.* name")
    return out


def _exists(module: str) -> bool:
    p = PACKAGE.parent.joinpath(*module.split("."))
    return p.with_suffix(".py").is_file() or (p / "__init__.py").is_file()


def graph() -> dict[str, set[str]]:
    return {module_name(p): imports_of(p) for p in sorted(PACKAGE.rglob("*.py"))}


def test_every_room_has_a_rank():
    rooms = {room(m) for m in graph()}
    assert rooms <= set(RANK), f"add {sorted(rooms - set(RANK))} to RANK (and to docs/architecture.md)"


def test_no_module_imports_a_layer_above_it():
    bad = []
    for mod, deps in graph().items():
        for dep in deps:
            a, b = room(mod), room(dep)
            if a == b or dep == "pipeline":
                continue
            if RANK[b] >= RANK[a]:
                bad.append(f"{mod} imports {dep} ({b} is not below {a})")
    assert not bad, "\n".join(bad)


def test_no_import_cycles():
    g = graph()
    cycles, state = [], {}

    def visit(node, stack):
        state[node] = 1
        for dep in sorted(g.get(node, ())):
            if dep not in g:
                continue
            if state.get(dep) == 1:
                cycles.append(" -> ".join(stack[stack.index(dep) :] + [dep]))
            elif dep not in state:
                visit(dep, stack + [dep])
        state[node] = 2

    for n in sorted(g):
        if n not in state:
            visit(n, [n])
    assert not cycles, "\n".join(cycles)


def test_no_source_folder_named_like_build_output():
    bad = [p for p in PACKAGE.rglob("*") if p.is_dir() and p.name in {"build", "dist", "out"}]
    assert not bad, f"rename {bad}: ignore templates and tools treat these names as generated output"


@pytest.mark.parametrize(
    "source, expect",
    [
        ("from pipeline.score.run import score\n", {"pipeline.score.run"}),
        ("def f():\n    from pipeline.evaluate import run\n", {"pipeline.evaluate.run"}),
        ("import pipeline.io\n", {"pipeline.io"}),
    ],
)
def test_imports_are_found_at_any_depth(tmp_path, source, expect):
    f = tmp_path / "m.py"
    f.write_text(source)
    assert imports_of(f) == expect
