"""Optional dependencies of scoring, installed as extras of the package.

``pip install 'stance-pipeline[onnx]'`` (or ``[parquet]``, ``[ray]``) adds
them. Code that needs one calls :func:`require_extra` before using it, so a
missing package is one line naming the extra and the install command rather
than an ImportError traceback from deep inside a run.
"""

from __future__ import annotations

import importlib

from pipeline.errors import ConfigError, StanceError

# the extras of pyproject.toml and the modules each provides
EXTRAS: dict[str, tuple[str, ...]] = {
    "onnx": ("onnx", "onnxscript", "onnxruntime"),
    "parquet": ("pandas", "pyarrow"),
    "ray": ("ray", "ray.data"),
}


def require_extra(
    extra: str,
    needed_by: str,
    what: str | None = None,
    error: type[StanceError] = ConfigError,
    modules: tuple[str, ...] | None = None,
) -> None:
    """Import ``extra``'s modules, or raise ``error`` naming the extra and how to install it.

    Args:
        extra: a key of :data:`EXTRAS`.
        needed_by: the option that needs it, as the user wrote it (``--backend onnx``).
        what: the name to give the missing package (default: the module's name).
        modules: the ones this use needs (default: all of the extra's).

    Raises:
        StanceError: ``error``, one line: ``--backend onnx needs onnxruntime (the [onnx] extra),
            which is not installed; install with pip install 'stance-pipeline[onnx]' ...``.
    """
    for name in modules or EXTRAS[extra]:
        try:
            importlib.import_module(name)
        except ImportError:
            raise error(
                f"{needed_by} needs {what or name} (the [{extra}] extra), which is not installed; "
                f"install with pip install 'stance-pipeline[{extra}]' "
                f"(from a checkout: pip install -e '.[{extra}]')"
            ) from None
