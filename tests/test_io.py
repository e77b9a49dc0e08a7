"""Stage-edge IO: atomic writes leave files as readable as a plain ``open`` would,
and decoding says which encoding it used."""

import codecs
import os
import stat

import pytest

from pipeline.io import (
    atomic_open,
    current_umask,
    decode_text,
    share_as_umask_allows,
    write_json,
    write_jsonl,
    write_text,
)


@pytest.fixture
def umask():
    """Set the process umask for one test and restore it after."""
    old = os.umask(0o022)
    os.umask(old)

    def set_mask(mask: int) -> None:
        os.umask(mask)

    yield set_mask
    os.umask(old)


@pytest.mark.parametrize("mask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_atomic_writes_honour_the_umask(tmp_path, umask, mask, mode):
    umask(mask)
    assert current_umask() == mask
    write_json(tmp_path / "metrics.json", {"a": 1})
    write_jsonl(tmp_path / "rows.jsonl", [{"a": 1}])
    write_text(tmp_path / "report.md", "# report\n")
    with atomic_open(tmp_path / "model.bin", "wb") as f:
        f.write(b"\x00\x01")
    plain = tmp_path / "plain.txt"
    plain.write_text("x")  # what any other tool would leave
    for name in ("metrics.json", "rows.jsonl", "report.md", "model.bin", "plain.txt"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == mode, name
    assert not list(tmp_path.glob(".*.tmp"))


def test_atomic_write_replaces_a_file_and_keeps_the_umask_mode(tmp_path, umask):
    umask(0o022)
    p = tmp_path / "provenance.json"
    p.write_text("old")
    p.chmod(0o600)
    write_json(p, {"new": True})
    assert p.read_text().startswith("{") and stat.S_IMODE(p.stat().st_mode) == 0o644


def test_a_private_file_is_shared_as_the_umask_allows(tmp_path, umask):
    umask(0o022)
    p = tmp_path / "model.safetensors"  # safetensors writes its file 0600, whatever the umask
    p.write_bytes(b"\x00")
    p.chmod(0o600)
    share_as_umask_allows(p)
    assert stat.S_IMODE(p.stat().st_mode) == 0o644


def test_a_failed_atomic_write_leaves_nothing(tmp_path):
    with pytest.raises(RuntimeError):
        with atomic_open(tmp_path / "x.json") as f:
            f.write("half")
            raise RuntimeError("stop")
    assert list(tmp_path.iterdir()) == []


def test_decode_text_names_the_encoding():
    text = "The minister’s “offer” was rejected.\r\nCafé owners agreed."
    assert decode_text(text.encode("utf-8"), "x") == (text.replace("\r\n", "\n"), "utf-8")
    assert decode_text(codecs.BOM_UTF8 + text.encode("utf-8"), "x")[1] == "utf-8-sig"
    assert decode_text(text.encode("utf-16"), "x")[1] == "utf-16"
    decoded, encoding = decode_text(text.encode("cp1252"), "x")
    assert decoded == text.replace("\r\n", "\n") and encoding == "cp1252"
