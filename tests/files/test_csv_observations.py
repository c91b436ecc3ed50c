"""Observations CSV: exact instants and codes in, one located one-line problem for bad rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from slaledger.core.observations import ERROR_CODES, NO_STATUS, Observations
from slaledger.errors import ObservationsError
from slaledger.files.csv_observations import read_observations, write_observations
from slaledger.files.iso_instants import parse_timestamps

SERVICES = ("api", "web", "db")
OCT_1 = 1_790_812_800_000_000
"""2026-10-01T00:00:00Z in microseconds since the epoch."""
SECOND = 1_000_000
HEADER = "timestamp,service,location,status,error,latency_ms,retry_after\n"
TIMESTAMP_EXPECTED = "expected an ISO 8601 instant with Z or an offset, e.g. 2026-10-01T00:00:00Z"


def csv_file(tmp_path: Path, text: str, name: str = "obs.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode())
    return path


def problem_of(path: Path) -> str:
    with pytest.raises(ObservationsError) as caught:
        read_observations(path, SERVICES)
    assert len(caught.value.problems) == 1
    return str(caught.value.problems[0])


def rows(*lines: str) -> str:
    return HEADER + "".join(line + "\n" for line in lines)


GOOD_ROW = "2026-10-01T00:00:00Z,api,fra,200,,12.5,"


# --- reading good files -----------------------------------------------------------------


def test_reads_every_column(tmp_path: Path) -> None:
    path = csv_file(
        tmp_path,
        rows(
            "2026-10-01T00:00:00Z,web,fra,200,,12.5,",
            "2026-10-01T00:00:01.25Z,api,ams,503,,,120",
            "2026-10-01T00:00:02Z,web,,,timeout,,",
            "2026-10-01T00:00:03Z,api,fra,404,assertion,3,",
        ),
    )
    observations = read_observations(path, SERVICES)
    assert len(observations) == 4
    assert observations.timestamp.tolist() == [
        OCT_1,
        OCT_1 + 1_250_000,
        OCT_1 + 2 * SECOND,
        OCT_1 + 3 * SECOND,
    ]
    assert observations.services == ("api", "web")  # sorted, only those in the file
    assert observations.service.tolist() == [1, 0, 1, 0]
    assert observations.locations == ("ams", "default", "fra")
    assert observations.location.tolist() == [2, 0, 1, 2]
    assert observations.status.tolist() == [200, 503, NO_STATUS, 404]
    assert observations.error.tolist() == [0, 0, ERROR_CODES["timeout"], ERROR_CODES["assertion"]]
    assert observations.retry_after.tolist() == [False, True, False, False]
    assert observations.timestamp.dtype == np.int64
    assert observations.service.dtype == np.int32
    assert observations.location.dtype == np.int16
    assert observations.status.dtype == np.int16
    assert observations.error.dtype == np.int8
    assert observations.retry_after.dtype == np.bool_


def test_offsets_are_converted_exactly(tmp_path: Path) -> None:
    path = csv_file(
        tmp_path,
        "timestamp,service,status,error\n"
        "2026-10-01T02:00:00.5+02:00,api,200,\n"
        "2026-09-30T19:30:00.000001-04:30,api,200,\n"
        "2026-10-01T00:00:00.123456Z,api,200,\n"
        "2026-10-01T00:00:00-00:00,api,200,\n",
    )
    observations = read_observations(path, SERVICES)
    assert observations.timestamp.tolist() == [
        OCT_1 + 500_000,
        OCT_1 + 1,
        OCT_1 + 123_456,
        OCT_1,
    ]


def test_optional_columns_may_be_missing_and_extra_ones_are_ignored(tmp_path: Path) -> None:
    path = csv_file(
        tmp_path,
        "probe_id,error,status,service,timestamp,note\n"
        "p1,,200,db,2026-10-01T00:00:00Z,anything at all\n"
        "p2,dns,,web,2026-10-01T00:01:00Z,\n",
    )
    observations = read_observations(path, SERVICES)
    assert observations.timestamp.tolist() == [OCT_1, OCT_1 + 60 * SECOND]
    assert observations.services == ("db", "web")
    assert observations.service.tolist() == [0, 1]
    assert observations.locations == ("default",)
    assert observations.location.tolist() == [0, 0]
    assert observations.status.tolist() == [200, NO_STATUS]
    assert observations.error.tolist() == [0, ERROR_CODES["dns"]]
    assert observations.retry_after.tolist() == [False, False]


def test_empty_location_means_default(tmp_path: Path) -> None:
    path = csv_file(tmp_path, rows(GOOD_ROW, GOOD_ROW.replace(",fra,", ",,")))
    observations = read_observations(path, SERVICES)
    assert observations.locations == ("default", "fra")
    assert observations.location.tolist() == [1, 0]


def test_whitespace_around_values_and_names_is_stripped(tmp_path: Path) -> None:
    path = csv_file(
        tmp_path,
        " timestamp , service ,location, status ,error,retry_after\n"
        " 2026-10-01T00:00:00Z , api , fra ,\t503 , , yes \n"
        "2026-10-01T00:00:01Z,web,  ,,timeout,  \n",
    )
    observations = read_observations(path, SERVICES)
    assert observations.timestamp.tolist() == [OCT_1, OCT_1 + SECOND]
    assert observations.services == ("api", "web")
    assert observations.locations == ("default", "fra")
    assert observations.location.tolist() == [1, 0]
    assert observations.status.tolist() == [503, NO_STATUS]
    assert observations.error.tolist() == [0, ERROR_CODES["timeout"]]
    assert observations.retry_after.tolist() == [True, False]


def test_quoted_fields_crlf_and_a_bom_read_the_same(tmp_path: Path) -> None:
    plain = csv_file(tmp_path, rows(GOOD_ROW, "2026-10-01T00:00:01Z,web,,,connect,,"), "plain.csv")
    quoted = csv_file(
        tmp_path,
        "\ufeff"
        + HEADER.replace("\n", "\r\n")
        + '"2026-10-01T00:00:00Z","api","fra","200","","12.5",""\r\n'
        + '2026-10-01T00:00:01Z,web,"",,connect,,\r\n',
        "quoted.csv",
    )
    expected = read_observations(plain, SERVICES)
    observations = read_observations(quoted, SERVICES)
    for column in ("timestamp", "service", "location", "status", "error", "retry_after"):
        assert getattr(observations, column).tolist() == getattr(expected, column).tolist()
    assert observations.locations == expected.locations == ("default", "fra")


def test_quoted_separators_and_escaped_quotes(tmp_path: Path) -> None:
    path = csv_file(
        tmp_path,
        "timestamp,service,location,status,error,note\n"
        '2026-10-01T00:00:00Z,api,"eu, west",200,,"said ""hi, there"""\n'
        "2026-10-01T00:00:01Z,api,fra,200,,\n",
    )
    observations = read_observations(path, SERVICES)
    assert observations.locations == ("eu, west", "fra")
    assert observations.location.tolist() == [0, 1]


def test_short_row_in_a_quoted_file(tmp_path: Path) -> None:
    path = csv_file(
        tmp_path,
        'timestamp,service,status,error\n"2026-10-01T00:00:00Z","api","200",""\n'
        '"2026-10-01T00:00:01Z","a,pi","200"\n',
    )
    assert problem_of(path) == f"{path}:3: expected 4 fields as in the header, found 3"


def test_short_row_alone(tmp_path: Path) -> None:
    path = csv_file(tmp_path, rows(GOOD_ROW, GOOD_ROW, "2026-10-01T00:00:00Z,api,fra,200,,"))
    assert problem_of(path) == f"{path}:4: expected 7 fields as in the header, found 6"


def test_blank_line_keeps_later_line_numbers(tmp_path: Path) -> None:
    path = csv_file(tmp_path, rows(GOOD_ROW, "", "2026-10-01T00:00:00Z,api,fra,200,oops,,"))
    assert problem_of(path).startswith(f"{path}:4: error: expected empty or one of")


def test_blank_lines_are_skipped(tmp_path: Path) -> None:
    path = csv_file(tmp_path, HEADER + GOOD_ROW + "\n\n" + GOOD_ROW + "\n\n")
    assert len(read_observations(path, SERVICES)) == 2


def test_header_without_rows_gives_no_observations(tmp_path: Path) -> None:
    observations = read_observations(csv_file(tmp_path, HEADER), SERVICES)
    assert len(observations) == 0
    assert observations.timestamp.dtype == np.int64


# --- one located problem for the first bad row -----------------------------------------


def test_bad_timestamp_names_file_line_and_column(tmp_path: Path) -> None:
    path = csv_file(tmp_path, rows(*[GOOD_ROW] * 5, "2026-10-01 00:00,api,fra,200,,,"))
    assert problem_of(path) == f"{path}:7: timestamp: {TIMESTAMP_EXPECTED}, got '2026-10-01 00:00'"


def test_naive_timestamp_is_refused(tmp_path: Path) -> None:
    path = csv_file(tmp_path, rows("2026-10-01T00:00:00,api,fra,200,,,"))
    assert problem_of(path) == (
        f"{path}:2: timestamp: {TIMESTAMP_EXPECTED}, got '2026-10-01T00:00:00'"
    )


def test_bad_status(tmp_path: Path) -> None:
    path = csv_file(tmp_path, rows(GOOD_ROW, "2026-10-01T00:00:00Z,api,fra,2OO,,,"))
    assert problem_of(path) == (
        f"{path}:3: status: expected empty or an HTTP status code from 100 to 599, got '2OO'"
    )


@pytest.mark.parametrize("status", ["99", "600", "2000", "0200", "+20", "-200", "200.0"])
def test_status_out_of_range(tmp_path: Path, status: str) -> None:
    path = csv_file(tmp_path, rows(f"2026-10-01T00:00:00Z,api,fra,{status},,,"))
    assert problem_of(path).endswith(f"from 100 to 599, got '{status}'")


def test_bad_error_class(tmp_path: Path) -> None:
    path = csv_file(tmp_path, rows("2026-10-01T00:00:00Z,api,fra,,Timeout,,"))
    assert problem_of(path) == (
        f"{path}:2: error: expected empty or one of timeout, connect, dns, tls, assertion, "
        "other, got 'Timeout'"
    )


def test_unknown_service(tmp_path: Path) -> None:
    path = csv_file(tmp_path, rows(GOOD_ROW, "2026-10-01T00:00:00Z,apl,fra,200,,,"))
    assert (
        problem_of(path)
        == f"{path}:3: service: unknown service 'apl'; the contract has: api, db, web"
    )


def test_bad_latency(tmp_path: Path) -> None:
    path = csv_file(tmp_path, rows("2026-10-01T00:00:00Z,api,fra,200,,-1,"))
    assert problem_of(path) == (
        f"{path}:2: latency_ms: expected empty or a non-negative number of milliseconds, got '-1'"
    )


def test_count_of_further_bad_rows(tmp_path: Path) -> None:
    path = csv_file(
        tmp_path,
        rows(
            GOOD_ROW,
            "2026-10-01T00:00:00Z,api,fra,200,,,",
            "2026-10-01T00:00:00Z,nope,fra,200,,,",
            "2026-10-01T00:00:00Z,api,fra,999,,,",
            GOOD_ROW,
            "yesterday,nope,fra,999,boom,,",  # one row, several bad fields
        ),
    )
    assert problem_of(path) == (
        f"{path}:4: service: unknown service 'nope'; the contract has: api, db, web "
        "(and 2 more bad rows)"
    )


def test_one_more_bad_row_is_singular(tmp_path: Path) -> None:
    path = csv_file(tmp_path, rows("x,api,fra,200,,,", "y,api,fra,200,,,"))
    assert (
        problem_of(path)
        == f"{path}:2: timestamp: {TIMESTAMP_EXPECTED}, got 'x' (and 1 more bad row)"
    )


def test_a_row_with_several_bad_fields_reports_the_leftmost(tmp_path: Path) -> None:
    path = csv_file(tmp_path, "error,status,service,timestamp\nboom,999,nope,never\n")
    assert problem_of(path).startswith(f"{path}:2: error: expected empty or one of")


def test_missing_required_column(tmp_path: Path) -> None:
    path = csv_file(tmp_path, "timestamp,service,error\n2026-10-01T00:00:00Z,api,\n")
    assert problem_of(path) == (
        f"{path}:1: status: missing required column; the header has: 'timestamp', 'service', "
        "'error'"
    )


def test_column_given_twice(tmp_path: Path) -> None:
    path = csv_file(tmp_path, "timestamp,service,status,error,status\n")
    assert (
        problem_of(path)
        == f"{path}:1: status: expected the column once in the header, found it twice"
    )


@pytest.mark.parametrize("text", ["", "\n", "\n\n", ",,,\n"])
def test_empty_file_or_header(tmp_path: Path, text: str) -> None:
    path = csv_file(tmp_path, text)
    assert problem_of(path) == (
        f"{path}:1: expected a header row with the columns timestamp, service, status, error"
    )


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.csv"
    assert problem_of(path) == f"{path}: cannot read the file: No such file or directory"


def test_directory_instead_of_a_file(tmp_path: Path) -> None:
    assert problem_of(tmp_path) == f"{tmp_path}: cannot read the file: Is a directory"


def test_short_and_long_rows(tmp_path: Path) -> None:
    path = csv_file(
        tmp_path,
        rows(GOOD_ROW, "2026-10-01T00:00:00Z,api,fra,200", GOOD_ROW + ",extra", GOOD_ROW),
    )
    assert (
        problem_of(path)
        == f"{path}:3: expected 7 fields as in the header, found 4 (and 1 more bad row)"
    )


def test_line_numbers_count_blank_lines_and_quoted_newlines(tmp_path: Path) -> None:
    path = csv_file(
        tmp_path,
        "note,timestamp,service,status,error\n"
        '"two\nlines",2026-10-01T00:00:00Z,api,200,\n'
        "\n"
        "ok,2026-10-01T00:00:00Z,api,2000,\n",
    )
    assert problem_of(path) == (
        f"{path}:5: status: expected empty or an HTTP status code from 100 to 599, got '2000'"
    )


def test_unclosed_quote(tmp_path: Path) -> None:
    path = csv_file(tmp_path, rows(GOOD_ROW, '2026-10-01T00:00:00Z,"api,fra,200,,,'))
    assert problem_of(path) == f"{path}:3: expected a well-formed CSV row (unexpected end of data)"


def test_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "obs.csv"
    path.write_bytes(rows(GOOD_ROW).encode() + b"2026-10-01T00:00:00Z,api,M\xfcnchen,200,,,\n")
    assert problem_of(path) == f"{path}:3: expected UTF-8 text, found the byte 0xfc"


def test_long_bad_values_are_cut_short(tmp_path: Path) -> None:
    path = csv_file(tmp_path, rows(f"2026-10-01T00:00:00Z,{'x' * 100},fra,200,,,"))
    assert problem_of(path) == (
        f"{path}:2: service: unknown service '{'x' * 59}…'; the contract has: api, db, web"
    )


# --- timestamps --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "instant"),
    [
        ("1970-01-01T00:00:00Z", 0),
        ("1969-12-31T23:59:59.9Z", -100_000),
        ("2024-02-29T23:59:59.999999-14:00", 1_709_301_599_999_999),
        ("2026-10-01T00:00:00.1Z", OCT_1 + 100_000),
        ("2026-10-01T00:00:00.000001Z", OCT_1 + 1),
        ("2026-10-01T05:45:00+05:45", OCT_1),
        ("2000-03-01T00:00:00Z", 951_868_800_000_000),
        ("0001-01-01T00:00:00Z", -62_135_596_800_000_000),
        ("9999-12-31T23:59:59.999999Z", 253_402_300_799_999_999),
    ],
)
def test_good_timestamps(text: str, instant: int) -> None:
    instants, bad = parse_timestamps(pl.Series([text]))
    assert bad.tolist() == [False]
    assert instants.tolist() == [instant]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "2026-10-01",
        "2026-10-01T00:00:00",  # no offset
        "2026-10-01T00:00:00.5",
        "2026-10-01 00:00:00Z",  # ISO 8601 wants the T
        "2026-10-01T00:00:00z",
        "2026-10-01T00:00:00+0200",  # basic-format offset
        "2026-10-01T00:00:00+02",
        "2026-10-01T00:00:00+24:00",
        "2026-10-01T00:00:00+02:60",
        "2026-10-01T00:00:00.Z",
        "2026-10-01T00:00:00.1234567Z",  # below a microsecond
        "2026-10-01T00:00:00,5Z",
        "2026-10-01T24:00:00Z",
        "2026-10-01T23:60:00Z",
        "2026-10-01T23:59:60Z",  # leap second
        "2026-02-29T00:00:00Z",
        "1900-02-29T00:00:00Z",
        "2026-04-31T00:00:00Z",
        "2026-00-01T00:00:00Z",
        "2026-13-01T00:00:00Z",
        "2026-10-00T00:00:00Z",
        "+2026-10-01T00:00:00Z",
        "2026-1O-01T00:00:00Z",
        "２026-10-01T00:00:00Z",
        "2026-10-01T00:00:00Z and more text after the instant",
    ],
)
def test_bad_timestamps(text: str) -> None:
    instants, bad = parse_timestamps(pl.Series([text, "2026-10-01T00:00:00Z"]))
    assert bad.tolist() == [True, False]
    assert instants.tolist() == [0, OCT_1]


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@given(
    st.lists(
        st.tuples(
            st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)),
            st.integers(-(23 * 60 + 59), 23 * 60 + 59),
            st.sampled_from(["auto", "milliseconds", "microseconds", "seconds"]),
            st.booleans(),
        ),
        min_size=1,
        max_size=20,
    )
)
def test_timestamps_agree_with_the_standard_library(
    samples: list[tuple[datetime, int, str, bool]],
) -> None:
    texts, expected = [], []
    for local, offset_minutes, timespec, zulu in samples:
        zone = UTC if zulu else timezone(timedelta(minutes=offset_minutes))
        moment = local.replace(tzinfo=zone)
        if timespec == "milliseconds":
            moment = moment.replace(microsecond=moment.microsecond // 1000 * 1000)
        if timespec == "seconds":
            moment = moment.replace(microsecond=0)
        text = moment.isoformat(timespec=timespec)
        texts.append(text.replace("+00:00", "Z") if zulu else text)
        expected.append((moment - _EPOCH) // timedelta(microseconds=1))
    instants, bad = parse_timestamps(pl.Series(texts))
    assert not bad.any(), texts
    assert instants.tolist() == expected


# --- writing -----------------------------------------------------------------------------


def test_written_file_is_our_format(tmp_path: Path) -> None:
    observations = Observations(
        timestamp=np.array([OCT_1, OCT_1 + 1_250_000, OCT_1 + 2 * SECOND], np.int64),
        service=np.array([1, 0, 1], np.int32),
        location=np.array([0, 1, 0], np.int16),
        status=np.array([200, 503, NO_STATUS], np.int16),
        error=np.array([0, 0, ERROR_CODES["tls"]], np.int8),
        retry_after=np.array([False, True, False]),
        services=("api", "web"),
        locations=("default", "fra"),
    )
    path = tmp_path / "out.csv"
    write_observations(path, observations)
    assert path.read_text() == (
        "timestamp,service,location,status,error,retry_after\n"
        "2026-10-01T00:00:00Z,web,default,200,,\n"
        "2026-10-01T00:00:01.250000Z,api,fra,503,,1\n"
        "2026-10-01T00:00:02Z,web,default,,tls,\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


def test_round_trip_gives_identical_arrays(tmp_path: Path) -> None:
    generator = np.random.default_rng(7)
    size = 10_000
    services = ("api", "db", "web")
    locations = ("ams", "default", "fra", "lon")
    status = generator.choice(np.array([NO_STATUS, 200, 204, 404, 500, 503], np.int16), size)
    timestamp = OCT_1 + np.sort(generator.integers(-(10**12), 10**12, size))
    timestamp[::3] -= timestamp[::3] % SECOND  # some whole seconds
    original = Observations(
        timestamp=timestamp.astype(np.int64),
        service=np.sort(generator.integers(0, len(services), size)).astype(np.int32),
        location=generator.integers(0, len(locations), size).astype(np.int16),
        status=status,
        error=np.where(status == NO_STATUS, generator.integers(1, 7, size), 0).astype(np.int8),
        retry_after=(status == 503) & generator.choice([True, False], size),
        services=services,
        locations=locations,
    )
    path = tmp_path / "round.csv"
    write_observations(path, original)
    read_back = read_observations(path, ["web", "db", "api", "cdn"])
    assert read_back.services == services
    assert read_back.locations == locations
    for column in ("timestamp", "service", "location", "status", "error", "retry_after"):
        assert np.array_equal(getattr(read_back, column), getattr(original, column)), column
        assert getattr(read_back, column).dtype == getattr(original, column).dtype, column


def test_writing_no_observations_writes_the_header(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    write_observations(path, Observations.empty())
    assert path.read_text() == "timestamp,service,location,status,error,retry_after\n"
    assert len(read_observations(path, SERVICES)) == 0
