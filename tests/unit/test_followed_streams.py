"""Which stream the ledger may read from its position; pure decisions, no network."""

import pytest

from services.case_ledger.followed_streams import (
    Followed,
    Sample,
    StreamIdentity,
    StreamMismatch,
    check_sample,
    check_stream,
)

CREATED = "2026-12-01T08:00:00.000000+00:00"
AGAIN = "2026-12-01T09:30:00.000000+00:00"


def stream(created: str = CREATED, last_seq: int = 10) -> StreamIdentity:
    return StreamIdentity("VENTANILLA_COMMANDS", created, 1, last_seq)


def test_a_new_ledger_follows_the_stream_it_finds_under_the_source_name() -> None:
    followed, new = check_stream("commands", None, stream(), lambda name: 0)

    assert new
    assert followed == Followed("commands", "VENTANILLA_COMMANDS", CREATED, "commands")


def test_a_ledger_from_before_streams_were_recorded_adopts_a_stream_that_reaches_it() -> None:
    followed, new = check_stream("commands", None, stream(last_seq=10), lambda name: 7)

    assert new
    assert followed.created == CREATED


def test_a_ledger_from_before_streams_were_recorded_refuses_a_shorter_stream() -> None:
    with pytest.raises(StreamMismatch, match=r"ends at sequence 3.*read up to 7"):
        check_stream("commands", None, stream(last_seq=3), lambda name: 7)


def test_the_same_stream_is_read_on_without_writing_anything() -> None:
    known = Followed("commands", "VENTANILLA_COMMANDS", CREATED, "commands")

    assert check_stream("commands", known, stream(), lambda name: 5) == (known, False)


def test_a_stream_made_again_is_refused_even_when_it_is_long_enough() -> None:
    known = Followed("commands", "VENTANILLA_COMMANDS", CREATED, "commands")

    with pytest.raises(StreamMismatch, match="made again") as refused:
        check_stream("commands", known, stream(created=AGAIN, last_seq=50), lambda name: 5)

    assert "follow-new-streams" in str(refused.value)


def test_the_same_stream_ending_before_the_position_is_refused() -> None:
    known = Followed("commands", "VENTANILLA_COMMANDS", CREATED, "commands")

    with pytest.raises(StreamMismatch, match="older than the ledger's database"):
        check_stream("commands", known, stream(last_seq=4), lambda name: 5)


def test_after_follow_new_streams_the_next_stream_is_read_under_the_fresh_name() -> None:
    renewed = Followed("commands", "VENTANILLA_COMMANDS", None, "commands@2026-12-01T10:00")
    followed, new = check_stream("commands", renewed, stream(created=AGAIN), lambda name: 0)

    assert new
    assert (followed.created, followed.tracking_name) == (AGAIN, "commands@2026-12-01T10:00")


def test_a_sample_that_reads_differently_is_refused_and_a_missing_one_is_not() -> None:
    read = Sample(5, "2026-12-01T08:10:00.000001+00:00")
    known = Followed("commands", "VENTANILLA_COMMANDS", CREATED, "commands", read)

    check_sample("commands", known, read)
    check_sample("commands", known, None)  # purged: nothing to compare
    with pytest.raises(StreamMismatch, match="restored from an older backup"):
        check_sample("commands", known, Sample(5, "2026-12-01T08:40:00.000000+00:00"))
