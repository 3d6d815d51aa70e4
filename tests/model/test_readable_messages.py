"""Problems read as sentences, without pydantic's "Value error, " prefix."""

from __future__ import annotations

from flowdesk.model.workflow import readable_message


def test_pydantic_prefixes_are_dropped_and_other_text_kept() -> None:
    assert readable_message("Value error, set exactly one of 'a' or 'b'") == \
        "set exactly one of 'a' or 'b'"
    assert readable_message("Assertion failed, x must be > 0") == "x must be > 0"
    assert readable_message("Input should be a valid string") == \
        "Input should be a valid string"

