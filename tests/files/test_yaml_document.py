"""The shared YAML reader's bounds: nesting depth and alias expansion, for every YAML file."""

from __future__ import annotations

from pathlib import Path

import pytest

from slaledger.errors import EventsError, UserError
from slaledger.files.yaml_document import MAX_ALIASED_VALUES, MAX_DEPTH, read_yaml_mapping


def problems(path: Path) -> list[str]:
    with pytest.raises(UserError) as caught:
        read_yaml_mapping(path, EventsError)
    assert isinstance(caught.value, EventsError)
    return [str(problem) for problem in caught.value.problems]


def test_aliases_within_the_bound_are_expanded(tmp_path: Path) -> None:
    path = tmp_path / "ok.yaml"
    # One list of 9,999 values and one alias to it: the alias adds 10,000 values (the list too).
    path.write_text("a: &a [" + ",".join(["1"] * 9_999) + "]\nb: *a\nc: {<<: {x: 1}}\n")
    document = read_yaml_mapping(path, EventsError)
    assert document.data["b"] == [1] * 9_999
    assert document.data["c"] == {"x": 1}
    assert MAX_ALIASED_VALUES == 10_000


def test_one_value_more_through_aliases_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "over.yaml"
    path.write_text("a: &a [" + ",".join(["1"] * 9_999) + "]\nb: [1, *a, *a]\n")
    assert problems(path) == [
        f"{path}:2: invalid YAML: aliases expand to more than 10000 values "
        "(an alias bomb?); write the values out instead"
    ]


def test_merge_keys_count_as_aliases(tmp_path: Path) -> None:
    path = tmp_path / "merge.yaml"
    big = "{" + ",".join(f"k{n}: 1" for n in range(5_001)) + "}"
    path.write_text(f"a: &a {big}\nb: {{<<: *a}}\n")
    assert problems(path) == [
        f"{path}:2: invalid YAML: aliases expand to more than 10000 values "
        "(an alias bomb?); write the values out instead"
    ]


def test_an_alias_inside_the_value_it_names_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "loop.yaml"
    path.write_text("windows:\n  - &w [1, *w]\n")
    assert problems(path) == [f"{path}:2: invalid YAML: the alias *w is inside the value it names"]


def test_nesting_up_to_the_bound_reads(tmp_path: Path) -> None:
    path = tmp_path / "deep.yaml"
    # The top-level mapping is level 1, so 63 lists below it reach level 64.
    depth = MAX_DEPTH - 1
    path.write_text("a: " + "[" * depth + "]" * depth + "\n")
    value = read_yaml_mapping(path, EventsError).data["a"]
    for _ in range(depth - 1):
        value = value[0]
    assert value == []


def test_nesting_past_the_bound_is_refused_at_its_line(tmp_path: Path) -> None:
    path = tmp_path / "deeper.yaml"
    path.write_text("a:\n" + "".join(f"{'  ' * level}- \n" for level in range(MAX_DEPTH)))
    assert problems(path) == [f"{path}:65: invalid YAML: values nested more than 64 levels deep"]
