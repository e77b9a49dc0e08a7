"""The exception hierarchy's helpers."""

from pipeline.errors import first_line


def test_first_line_quotes_one_line_of_a_library_error():
    assert first_line(OSError("no such file\nTraceback details")) == "no such file"
    assert first_line(ValueError("x" * 300), 10) == "x" * 10
    assert first_line(RuntimeError()) == "" and first_line(RuntimeError("  \n")) == ""
