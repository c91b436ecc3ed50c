"""Hourly traffic CSV: counts by service and UTC hour; every bad row named by its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from slaledger.files.traffic_file import TrafficError, read_traffic

H = 3_600_000_000
T0 = 1_791_763_200_000_000
"""2026-10-12T00:00:00Z."""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "traffic.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_counts_are_read_by_service_and_hour_with_offsets_and_extra_columns(
    tmp_path: Path,
) -> None:
    path = write(
        tmp_path,
        "hour,service,requests,note\n"
        "2026-10-12T00:00:00Z,api,120,night\n"
        "2026-10-12T03:00:00+02:00,api,80,\n"
        "\n"
        "2026-10-12T01:00:00Z,web,7,\n",
    )
    assert read_traffic(path, ["api", "web"]) == {
        "api": {T0: 120, T0 + H: 80},
        "web": {T0 + H: 7},
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "hour,requests\n",
            "traffic.csv:1: service: missing required column; the header has: 'hour', 'requests'",
        ),
        (
            "hour,service,requests\n2026-10-12T00:00:00Z,api,1\n2026-10-12 01:00,api,2\n",
            "traffic.csv:3: hour: expected the start of a UTC hour in ISO 8601 with Z or an "
            "offset, e.g. 2026-10-12T03:00:00Z, got '2026-10-12 01:00'",
        ),
        (
            "hour,service,requests\n2026-10-12T00:00:00,api,1\n",
            "traffic.csv:2: hour: expected the start of a UTC hour in ISO 8601 with Z or an "
            "offset, e.g. 2026-10-12T03:00:00Z, got '2026-10-12T00:00:00'",
        ),
        (
            "hour,service,requests\n2026-10-12T00:30:00Z,api,1\n",
            "traffic.csv:2: hour: expected the start of a UTC hour in ISO 8601 with Z or an "
            "offset (minutes and seconds zero), got '2026-10-12T00:30:00Z'",
        ),
        (
            "hour,service,requests\n2026-10-12T00:00:00Z,shop,1\n",
            "traffic.csv:2: service: unknown service 'shop'; the contract has: api, web",
        ),
        (
            "hour,service,requests\n2026-10-12T00:00:00Z,api,-4\n",
            "traffic.csv:2: requests: expected a whole number of requests (0 or more), got '-4'",
        ),
        (
            "hour,service,requests\n2026-10-12T00:00:00Z,api,1.5\n",
            "traffic.csv:2: requests: expected a whole number of requests (0 or more), got '1.5'",
        ),
        (
            "hour,service,requests\n2026-10-12T02:00:00+02:00,api,1\n2026-10-12T00:00:00Z,api,2\n",
            "traffic.csv:3: hour: this hour of api is already given on line 2",
        ),
        (
            "hour,service,requests\n2026-10-12T00:00:00Z,api\n",
            "traffic.csv:2: expected 3 fields as in the header, found 2",
        ),
    ],
)
def test_bad_rows_are_named_by_line_and_column(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(TrafficError) as raised:
        read_traffic(path, ["api", "web"])
    assert str(raised.value) == f"{tmp_path}/{message}"


def test_a_file_that_cannot_be_read_or_is_not_utf8(tmp_path: Path) -> None:
    with pytest.raises(TrafficError) as raised:
        read_traffic(tmp_path / "missing.csv", ["api"])
    assert (
        str(raised.value)
        == f"{tmp_path}/missing.csv: cannot read the file: No such file or directory"
    )
    path = tmp_path / "latin1.csv"
    path.write_bytes(b"hour,service,requests\n\xe9\n")
    with pytest.raises(TrafficError) as raised:
        read_traffic(path, ["api"])
    assert str(raised.value) == f"{path}:2: expected UTF-8 text, found the byte 0xe9"
