"""JSON import files: refused whole, as one located problem, when too large or too deep."""

from __future__ import annotations

from pathlib import Path

import pytest

from slaledger.errors import ObservationsError
from slaledger.files.imports.json_source import (
    MAX_IMPORT_BYTES,
    MAX_JSON_DEPTH,
    JsonDocument,
    read_text,
)


def problem_of(source: str, text: str) -> str:
    with pytest.raises(ObservationsError) as caught:
        JsonDocument.parse(source, text)
    return str(caught.value)


def test_nesting_up_to_the_bound_is_read() -> None:
    # The top-level object is level 1; 63 arrays below it reach level 64.
    text = '{"a": ' + "[" * (MAX_JSON_DEPTH - 1) + "]" * (MAX_JSON_DEPTH - 1) + "}"
    depth, value = 1, JsonDocument.parse("m.json", text).value["a"]
    while value:
        depth, value = depth + 1, value[0]
    assert depth == MAX_JSON_DEPTH - 1


def test_one_level_deeper_is_refused_at_its_path_and_line() -> None:
    text = '{"monitors": [\n{"logs": ' + "[" * 62 + "]" * 62 + "}]}"
    path = "monitors[0].logs" + "[0]" * 61
    assert problem_of("m.json", text) == (
        f"m.json:2: {path}: expected JSON nested at most 64 levels deep"
    )


def test_nesting_past_the_decoder_is_one_problem_not_a_traceback() -> None:
    text = '{"monitors": ' + "[" * 200_000 + "]" * 200_000 + "}"
    assert problem_of("m.json", text) == "m.json: expected JSON nested at most 64 levels deep"


def test_a_file_over_the_size_bound_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "huge.json"
    with path.open("wb") as file:  # sparse: no disk space used
        file.truncate(MAX_IMPORT_BYTES + 1)
    with pytest.raises(ObservationsError) as caught:
        read_text(path)
    assert str(caught.value) == (
        f"{path}: the file has 268435457 bytes, more than the 268435456 an import reads; "
        "split the export by monitor or by month"
    )
