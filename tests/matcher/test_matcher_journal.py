"""Journal and replay: the same book, the same events, ids continue without reuse."""

import errno
import itertools
import os
from pathlib import Path

import pytest
from matcher_harness import PARTICIPANTS, SYMBOLS, Harness

from matcher import Accepted, Engine, Journal, JournalError, QuoteUpdate, read_journal


def _session(h: Harness) -> list:  # type: ignore[type-arg]
    out = []
    out += h.quote("10.00", "10.10")
    out += h.new("sell", 100, None, "mid", part="B")
    out += h.new("buy", 60, "10.05")
    out += h.new("short", 100, "10.02", part="D")
    out += h.status(ssr=True)
    out += h.quote("10.00", "10.02")
    out += h.new("buy", 300, None, "mid", part="C", min_qty=50)
    return out


def test_replay_gives_identical_events_and_continues_ids(tmp_path: Path) -> None:
    """Every command appended (with its receipt time) before it is applied; replay rebuilds
    the same book and the same event stream."""
    path = tmp_path / "j.bin"
    h = Harness(journal=Journal(path))
    live = _session(h)
    h.engine._journal.sync()  # type: ignore[union-attr]
    clock = itertools.count(10**9).__next__
    eng, replayed = Engine.recover(PARTICIPANTS, SYMBOLS, clock, str(path))
    assert replayed == live and eng.warnings == []
    assert eng.book("X") == h.engine.book("X")
    last_exec = max(e.exec_id for e in live if hasattr(e, "exec_id"))
    nxt = eng.apply(QuoteUpdate("X", None, 0, None, 0))
    assert nxt == []
    h2 = Harness()
    h2.engine = eng
    ev = h2.new("buy", 1, "10.00", cl="fresh")
    assert isinstance(ev[0], Accepted) and ev[0].exec_id == last_exec + 1
    assert ev[0].order_id > max(e.order_id for e in live if hasattr(e, "order_id"))


def test_garbled_tail_is_dropped_with_a_warning(tmp_path: Path) -> None:
    """A truncated/garbled last record after a crash is detected, dropped with a warning."""
    path = tmp_path / "j.bin"
    journal = Journal(path)
    h = Harness(journal=journal)
    live = _session(h)
    journal.close()
    records, warnings = read_journal(path)
    data = path.read_bytes()
    path.write_bytes(data[: journal.size - 3])  # the last record is cut short (zeros follow it
    # in the file: the records end at journal.size)
    eng, replayed = Engine.recover(PARTICIPANTS, SYMBOLS, lambda: 0, str(path))
    assert len(eng.warnings) == 1 and "dropped" in eng.warnings[0]
    assert warnings == []
    assert len(read_journal(path)[0]) == len(records) - 1  # the tail was cut from the file
    # the replay equals the live run up to the lost command
    assert replayed == live[: len(replayed)]
    eng.apply(QuoteUpdate("X", None, 0, None, 0))
    eng._journal.flush()  # type: ignore[union-attr]
    assert len(read_journal(path)[0]) == len(records)


# -- a full disk, a failed fsync: injected faults -------------------------------------------

_real_write = os.write


def _enospc_after(monkeypatch: pytest.MonkeyPatch, fd: int, taken: int) -> None:
    """The next write to `fd` takes `taken` bytes, the one after fails with ENOSPC."""
    steps: list[int | OSError] = [taken, OSError(errno.ENOSPC, "No space left on device")]

    def write(to: int, data: bytes) -> int:
        if to == fd and steps:
            step = steps.pop(0)
            if isinstance(step, OSError):
                raise step
            return _real_write(to, bytes(memoryview(data)[:step]))
        return _real_write(to, data)

    monkeypatch.setattr(os, "write", write)


def test_full_disk_mid_record_then_space_again_loses_and_repeats_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "j.bin"
    journal = Journal(path)
    h = Harness(journal=journal)
    h.quote("10.00", "10.10")
    journal.sync()
    committed = len(read_journal(path)[0])
    live = h.new("buy", 60, "10.05") + h.new("sell", 100, None, "mid", part="B")
    _enospc_after(monkeypatch, journal.fileno(), 7)
    with pytest.raises(JournalError) as failed:
        journal.sync()
    assert (failed.value.op, failed.value.errno) == ("write", errno.ENOSPC)
    assert failed.value.filename == str(path)
    # a crash now: the torn record is dropped, what was committed before is whole
    records, warnings = read_journal(path)
    assert len(records) == committed and len(warnings) == 1
    # space comes back: the same journal resumes exactly where the write stopped
    monkeypatch.undo()
    journal.sync()
    records, warnings = read_journal(path)
    assert warnings == [] and len(records) == committed + 2
    _, replayed = Engine.recover(PARTICIPANTS, SYMBOLS, lambda: 0, str(path))
    assert replayed[-len(live):] == live


def test_failed_fsync_fails_every_later_sync(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    journal = Journal(tmp_path / "j.bin")
    Harness(journal=journal).quote("10.00", "10.10")

    def eio(fd: int) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "fdatasync", eio)
    monkeypatch.setattr(os, "fsync", eio)
    with pytest.raises(JournalError) as failed:
        journal.sync()
    assert failed.value.op == "fsync"
    monkeypatch.undo()
    with pytest.raises(JournalError):
        journal.sync()
def test_journals_from_before_the_market_data_source_fields_still_replay(tmp_path: Path) -> None:
    """QuoteUpdate / SecurityStatus gained source_time and source_seq: a record written
    without them (a shorter tuple) replays with None; new records keep them, and the engine
    knows the last source of each symbol after a recovery."""
    import pickle
    import struct
    import zlib

    from matcher import SecurityStatus
    from matcher.journal import MAGIC

    def record(rec: tuple[object, ...]) -> bytes:
        payload = pickle.dumps(rec, 5)
        return struct.pack("<II", len(payload), zlib.crc32(payload)) + payload

    path = tmp_path / "old.journal"
    path.write_bytes(MAGIC + record((1, 4, "X", 10_000_000, 100, 10_100_000, 100))
                     + record((2, 5, "X", True, None, None)))
    records, warnings = read_journal(path)
    assert warnings == []
    assert [cmd for _, cmd in records] == [
        QuoteUpdate("X", 10_000_000, 100, 10_100_000, 100), SecurityStatus("X", halted=True)]

    journal = Journal(path)
    journal.append(3, QuoteUpdate("X", 10_200_000, 100, 10_300_000, 100, 5_000, 7))
    journal.append(4, SecurityStatus("X", halted=False, source_time=6_000, source_seq=8))
    journal.close()
    eng, _ = Engine.recover(PARTICIPANTS, SYMBOLS, itertools.count(10).__next__, str(path))
    assert eng.market_data_source("X", QuoteUpdate) == (5_000, 7)
    assert eng.market_data_source("X", SecurityStatus) == (6_000, 8)
    assert eng.market_data_source("Y", QuoteUpdate) is None


# -- the zero-filled file ------------------------------------------------------------------------


def test_records_go_inside_a_zero_filled_file_whose_zeros_end_it_cleanly(tmp_path: Path) -> None:
    """The journal zero-fills its file ahead of its records (an fdatasync then records no new
    file size): the zeros are its clean end on reopen, and records go on at the records' end."""
    import shutil

    from matcher.files import PREALLOCATE

    if shutil.disk_usage(tmp_path).free < 128 * PREALLOCATE:
        pytest.skip("a disk this full zero-fills less than PREALLOCATE at a time")
    path = tmp_path / "j.bin"
    journal = Journal(path)
    h = Harness(journal=journal)
    live = _session(h)
    journal.sync()
    assert path.stat().st_size == PREALLOCATE > journal.size  # records, then zeros
    assert path.read_bytes()[journal.size:].strip(b"\0") == b""
    count = len(read_journal(path)[0])
    journal.close()
    again = Journal(path)
    assert again.warnings == [] and again.size == journal.size
    assert path.stat().st_size == PREALLOCATE  # nothing cut
    again.append(99, QuoteUpdate("X", None, 0, None, 0))
    again.close()
    records, warnings = read_journal(path)
    assert warnings == [] and len(records) == count + 1  # right after the last record
    _, replayed = Engine.recover(PARTICIPANTS, SYMBOLS, lambda: 0, str(path))
    assert replayed[: len(live)] == live


def test_a_record_after_a_hole_of_zeros_is_not_read_as_valid(tmp_path: Path) -> None:
    """A crash can leave a later page on disk and lose an earlier one: records behind a hole of
    zeros are dropped with a warning and cut, never replayed, and the journal goes on."""
    path = tmp_path / "j.bin"
    journal = Journal(path)
    h = Harness(journal=journal)
    h.quote("10.00", "10.10")
    journal.sync()
    good = journal.size
    h.new("buy", 60, "10.05")
    h.new("sell", 100, None, "mid", part="B")
    journal.close()
    data = bytearray(path.read_bytes())
    data[good : good + 20] = bytes(20)  # the first later record's start never reached the disk
    path.write_bytes(bytes(data))
    eng, replayed = Engine.recover(PARTICIPANTS, SYMBOLS, lambda: 0, str(path))
    assert len(eng.warnings) == 1 and "hole of zeros" in eng.warnings[0]
    assert len(read_journal(path)[0]) == 1 and path.stat().st_size == good
    eng.apply(QuoteUpdate("X", None, 0, None, 0))
    eng._journal.close()  # type: ignore[union-attr]
    assert len(read_journal(path)[0]) == 2 and read_journal(path)[1] == []


def test_without_room_for_the_zeros_the_records_are_still_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_room(fd: int, data: bytes, offset: int) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "pwrite", no_room)
    path = tmp_path / "j.bin"
    journal = Journal(path)
    live = _session(Harness(journal=journal))
    journal.sync()
    assert path.stat().st_size == journal.size  # appended, as before the zeros
    _, replayed = Engine.recover(PARTICIPANTS, SYMBOLS, lambda: 0, str(path))
    assert replayed == live


def test_a_file_zero_filled_before_its_header_was_written_is_an_empty_journal(
    tmp_path: Path,
) -> None:
    path = tmp_path / "j.bin"
    path.write_bytes(bytes(8192))  # a crash after the first zero-fill, before the header
    assert read_journal(path) == ([], [])
    journal = Journal(path)
    assert journal.warnings == []
    live = _session(Harness(journal=journal))
    journal.close()
    _, replayed = Engine.recover(PARTICIPANTS, SYMBOLS, lambda: 0, str(path))
    assert replayed == live
