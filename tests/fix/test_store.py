"""Message stores: persistence across reopen, crash/truncation recovery, reset, fsync modes."""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.fix.store import PREALLOCATE, FileStore, MemoryStore, StoreError


def _filled(tmp_path: Path, fsync: str = "batch") -> FileStore:
    store = FileStore(tmp_path, "S", fsync=fsync)
    for seq in (1, 2, 3):
        store.save(seq, b"msg-%d" % seq)
    store.set_next_target_seq(7)
    store.sync()
    return store


def test_memory_store_basics() -> None:
    store = MemoryStore()
    store.save(1, b"a")
    store.save(3, b"c")
    assert store.next_sender_seq == 4
    assert store.get(1, 3) == [(1, b"a"), (3, b"c")]
    store.reset()
    assert (store.next_sender_seq, store.next_target_seq, store.get(1, 3)) == (1, 1, [])


def test_file_store_reopen_continues_sequences(tmp_path: Path) -> None:
    store = _filled(tmp_path)
    created = store.creation_time_ns
    store.close()
    again = FileStore(tmp_path, "S")
    assert (again.next_sender_seq, again.next_target_seq) == (4, 7)
    assert again.creation_time_ns == created
    assert again.get(2, 3) == [(2, b"msg-2"), (3, b"msg-3")]
    assert again.warnings == []


def test_file_store_unflushed_buffer_lost_like_a_crash(tmp_path: Path) -> None:
    store = _filled(tmp_path)
    store.save(4, b"msg-4")  # buffered, never written: a kill -9 now loses it
    again = FileStore(tmp_path, "S")
    assert again.next_sender_seq == 4 and again.warnings == []


def test_file_store_get_sees_buffered_messages(tmp_path: Path) -> None:
    store = _filled(tmp_path)
    store.save(4, b"msg-4")
    assert store.get(4, 4) == [(4, b"msg-4")]


@pytest.mark.parametrize("cut", [1, 5, 13, 20])
def test_file_store_truncated_last_record_dropped_with_warning(tmp_path: Path, cut: int) -> None:
    store = _filled(tmp_path)
    store.save(4, b"the-last-message")
    store.sync()
    end = store.size
    store.close()
    path = tmp_path / "S.store"
    os.truncate(path, end - cut)  # (the zero-filled tail goes too: an append's torn end)
    again = FileStore(tmp_path, "S")
    assert len(again.warnings) == 1 and "dropped" in again.warnings[0]
    assert again.next_sender_seq == 4 and again.next_target_seq == 7
    assert again.get(1, 4) == [(1, b"msg-1"), (2, b"msg-2"), (3, b"msg-3")]
    again.save(4, b"after-recovery")  # appends after the cut, file is consistent again
    again.close()
    third = FileStore(tmp_path, "S")
    assert third.warnings == [] and third.get(4, 4) == [(4, b"after-recovery")]


def test_file_store_corrupt_last_record_dropped(tmp_path: Path) -> None:
    store = _filled(tmp_path)
    store.save(4, b"payload-4")
    store.close()
    path = tmp_path / "S.store"
    data = bytearray(path.read_bytes())
    data[store.size - 8] ^= 0xFF  # flip a payload byte of the last record: CRC mismatch
    path.write_bytes(bytes(data))
    again = FileStore(tmp_path, "S")
    assert "checksum" in again.warnings[0]
    assert again.next_sender_seq == 4 and again.get(4, 4) == []


def test_file_store_garbage_file_never_crashes(tmp_path: Path) -> None:
    (tmp_path / "S.store").write_bytes(b"\x00garbage" * 10)
    store = FileStore(tmp_path, "S")
    assert store.warnings and store.next_sender_seq == 1


def test_file_store_reset_survives_reopen(tmp_path: Path) -> None:
    store = _filled(tmp_path)
    store.reset()
    store.save(1, b"fresh")
    store.close()
    again = FileStore(tmp_path, "S")
    assert (again.next_sender_seq, again.next_target_seq) == (2, 1)
    assert again.get(1, 3) == [(1, b"fresh")]


@pytest.mark.parametrize("mode", ["always", "never", "batch"])
def test_file_store_fsync_modes_persist_after_sync(tmp_path: Path, mode: str) -> None:
    store = FileStore(tmp_path, "S", fsync=mode)
    store.save(1, b"x")
    if mode != "always":
        store.sync()
    again = FileStore(tmp_path, "S")
    assert again.get(1, 1) == [(1, b"x")]


def test_file_store_rejects_unknown_fsync_mode(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="fsync"):
        FileStore(tmp_path, "S", fsync="sometimes")


def test_file_store_named_store_and_an_old_log_store_is_taken_over(tmp_path: Path) -> None:
    _filled(tmp_path).close()
    assert [p.name for p in tmp_path.iterdir()] == ["S.store"]
    # a data dir from before the rename: the store was S.log
    (tmp_path / "S.store").rename(tmp_path / "S.store")
    again = FileStore(tmp_path, "S")
    assert (again.next_sender_seq, again.next_target_seq) == (4, 7)
    assert again.get(1, 3) == [(1, b"msg-1"), (2, b"msg-2"), (3, b"msg-3")]
    assert [p.name for p in tmp_path.iterdir()] == ["S.store"]
# -- a full disk, a failed fsync: injected faults -------------------------------------------

_real_write = os.write


def _faulty_writes(
    monkeypatch: pytest.MonkeyPatch, plan: list[int | OSError], fds: set[int] | None = None
) -> None:
    """os.write follows `plan` (a byte count takes at most that many bytes, an OSError is
    raised) for the given fds (every fd when None), then writes normally."""
    steps = list(plan)

    def write(fd: int, data: bytes) -> int:
        if steps and (fds is None or fd in fds):
            step = steps.pop(0)
            if isinstance(step, OSError):
                raise step
            return _real_write(fd, bytes(memoryview(data)[:step]))
        return _real_write(fd, data)

    monkeypatch.setattr(os, "write", write)


def _enospc() -> OSError:
    return OSError(errno.ENOSPC, "No space left on device")


def test_file_store_partial_write_then_full_disk_loses_and_repeats_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = _filled(tmp_path)
    for seq in (4, 5, 6):
        store.save(seq, b"turn-message-%d" % seq)
    _faulty_writes(monkeypatch, [30, _enospc()], {store.fileno()})
    with pytest.raises(StoreError) as failed:
        store.sync()
    assert (failed.value.op, failed.value.errno) == ("write", errno.ENOSPC)
    assert failed.value.filename == str(tmp_path / "S.store")
    # a crash now: the part of the turn that reached the file is a torn tail, dropped
    crashed = FileStore(tmp_path, "S")
    assert len(crashed.warnings) == 1 and "dropped" in crashed.warnings[0]
    assert crashed.next_sender_seq == 4 and crashed.get(4, 6) == []
    crashed.close()
    # or space comes back: the same store finishes the turn from where it stopped
    monkeypatch.undo()
    store = FileStore(tmp_path, "S")  # the crash above truncated: start the turn again
    for seq in (4, 5, 6):
        store.save(seq, b"turn-message-%d" % seq)
    _faulty_writes(monkeypatch, [30, _enospc()], {store.fileno()})
    with pytest.raises(StoreError):
        store.flush()
    monkeypatch.undo()
    # a ResendRequest meanwhile reads each message whole, part from the file, part buffered
    assert store.get(4, 6) == [(s, b"turn-message-%d" % s) for s in (4, 5, 6)]
    store.sync()
    assert store.get(1, 6)[3:] == [(s, b"turn-message-%d" % s) for s in (4, 5, 6)]
    store.close()
    again = FileStore(tmp_path, "S")
    assert again.warnings == []
    assert again.get(1, 6) == [(1, b"msg-1"), (2, b"msg-2"), (3, b"msg-3")] + [
        (s, b"turn-message-%d" % s) for s in (4, 5, 6)]
    assert (again.next_sender_seq, again.next_target_seq) == (7, 7)


def test_file_store_failed_fsync_is_never_retried_as_success(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = _filled(tmp_path)
    store.save(4, b"msg-4")

    def eio(fd: int) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "fdatasync", eio)
    monkeypatch.setattr(os, "fsync", eio)
    with pytest.raises(StoreError) as failed:
        store.sync()
    assert (failed.value.op, failed.value.errno) == ("fsync", errno.EIO)
    monkeypatch.undo()
    # the kernel may have dropped the pages: a later fsync that "works" proves nothing
    with pytest.raises(StoreError):
        store.sync()


def test_file_store_get_does_not_write_what_the_turn_has_not_committed(tmp_path: Path) -> None:
    store = _filled(tmp_path)
    store.save(4, b"msg-4")
    assert store.get(3, 4) == [(3, b"msg-3"), (4, b"msg-4")]  # a ResendRequest in the turn
    crashed = FileStore(tmp_path, "S")
    assert crashed.next_sender_seq == 4 and crashed.get(4, 4) == []


def test_file_store_reset_on_a_full_disk_keeps_the_old_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = _filled(tmp_path)
    store.reset()  # e.g. a Logon with 141=Y
    store.save(1, b"fresh")
    _faulty_writes(monkeypatch, [_enospc()])
    with pytest.raises(StoreError):
        store.sync()
    monkeypatch.undo()
    assert not (tmp_path / "S.store.tmp").exists()
    crashed = FileStore(tmp_path, "S")
    assert (crashed.next_sender_seq, crashed.next_target_seq) == (4, 7)
    assert crashed.warnings == []
    crashed.close()
    store.sync()  # space is back
    again = FileStore(tmp_path, "S")
    assert (again.next_sender_seq, again.next_target_seq) == (2, 1)
    assert again.get(1, 3) == [(1, b"fresh")]


def test_file_store_reload_forgets_what_did_not_reach_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = _filled(tmp_path)
    store.save(4, b"msg-4")
    store.set_next_target_seq(9)
    _faulty_writes(monkeypatch, [10, _enospc()], {store.fileno()})
    with pytest.raises(StoreError):
        store.flush()
    monkeypatch.undo()
    store.reload()
    assert len(store.warnings) == 1 and "dropped" in store.warnings[0]
    assert (store.next_sender_seq, store.next_target_seq) == (4, 7)
    store.save(4, b"logout")
    store.close()
    again = FileStore(tmp_path, "S")
    assert again.warnings == [] and again.get(4, 4) == [(4, b"logout")]


@pytest.mark.parametrize("step", [None, 7])
def test_file_store_reset_writes_the_new_log_exactly_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, step: int | None
) -> None:
    """The rewrite after a reset hands each byte to the OS once, short writes resumed where
    they stopped. (mypyc 2.4.1 evaluated ``view[os.write(fd, view):]``'s bound twice: every
    chunk was written twice and the compiled build corrupted the store.)"""
    store = _filled(tmp_path)
    store.reset()
    store.save(1, b"fresh")
    taken: list[bytes] = []

    def write(fd: int, data: bytes) -> int:
        if fd == store.fileno():
            return _real_write(fd, data)
        chunk = bytes(memoryview(data)[:step]) if step else bytes(data)
        taken.append(chunk)
        return _real_write(fd, chunk)

    monkeypatch.setattr(os, "write", write)
    store.sync()
    monkeypatch.undo()
    data = (tmp_path / "S.store").read_bytes()
    assert b"".join(taken) == data
    assert len(data) == 3 * 17 + 17 + len(b"fresh")  # C, S, T, then the message
    store.close()
    again = FileStore(tmp_path, "S")
    assert again.warnings == [] and again.get(1, 3) == [(1, b"fresh")]
    assert (again.next_sender_seq, again.next_target_seq) == (2, 1)


def test_file_store_writes_inside_a_zero_filled_file_and_zeros_end_it_cleanly(
    tmp_path: Path,
) -> None:
    if shutil.disk_usage(tmp_path).free < 128 * PREALLOCATE:
        pytest.skip("a disk this full zero-fills less than PREALLOCATE at a time")
    store = _filled(tmp_path)
    path = tmp_path / "S.store"
    assert path.stat().st_size == PREALLOCATE > store.size  # records, then zeros
    assert not path.read_bytes()[store.size:].strip(b"\0")
    n = 4
    while store.size < PREALLOCATE - 1000:  # more records go inside the same file size
        store.save(n, b"m" * 200)
        store.sync()
        n += 1
    assert path.stat().st_size == PREALLOCATE
    while store.size < PREALLOCATE + 1000:  # past it: the next step of zeros
        store.save(n, b"m" * 200)
        store.sync()
        n += 1
    assert path.stat().st_size == 2 * PREALLOCATE
    store.close()
    again = FileStore(tmp_path, "S")
    assert again.warnings == [] and again.next_sender_seq == n
    assert again.get(n - 1, n - 1) == [(n - 1, b"m" * 200)]
    assert again.size == store.size and path.stat().st_size == 2 * PREALLOCATE


def test_file_store_a_record_after_a_hole_of_zeros_is_not_read_as_valid(
    tmp_path: Path,
) -> None:
    """A crash can leave a later page on disk and an earlier one not (zeros): the log ends at
    the hole, with a warning, and nothing behind it is taken as a record."""
    store = _filled(tmp_path)
    store.save(4, b"four" * 10)
    store.sync()
    hole = store.size
    store.save(5, b"five" * 10)
    store.sync()
    end = store.size
    store.close()
    path = tmp_path / "S.store"
    data = bytearray(path.read_bytes())
    data[hole : hole + 20] = bytes(20)  # record 5's header never reached the disk
    path.write_bytes(bytes(data))
    again = FileStore(tmp_path, "S")
    assert len(again.warnings) == 1 and "dropped" in again.warnings[0]
    assert again.next_sender_seq == 5 and again.get(5, 5) == []
    assert path.stat().st_size == hole < end
    again.save(5, b"new-five")
    again.close()
    third = FileStore(tmp_path, "S")
    assert third.warnings == [] and third.get(4, 5) == [(4, b"four" * 10), (5, b"new-five")]


def test_file_store_without_room_for_the_zeros_still_writes_its_records(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_room(fd: int, data: bytes, offset: int) -> int:
        raise _enospc()

    monkeypatch.setattr(os, "pwrite", no_room)
    store = _filled(tmp_path)  # (a full disk fails on the records, not on the zeros)
    monkeypatch.undo()
    assert (tmp_path / "S.store").stat().st_size == store.size
    store.close()
    again = FileStore(tmp_path, "S")
    assert again.warnings == [] and again.get(1, 3)[2] == (3, b"msg-3")


def test_file_store_zero_fills_at_most_a_64th_of_the_free_space(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = os.fstatvfs

    def nearly_full(fd: int) -> os.statvfs_result:
        fs = real(fd)
        free = 64 * 8192 // fs.f_frsize  # 512 KiB free: 8 KiB of zeros at a time
        return os.statvfs_result((fs.f_bsize, fs.f_frsize, fs.f_blocks, free, free,
                                  fs.f_files, fs.f_ffree, fs.f_favail, fs.f_flag,
                                  fs.f_namemax))

    monkeypatch.setattr(os, "fstatvfs", nearly_full)
    store = _filled(tmp_path)
    assert (tmp_path / "S.store").stat().st_size == 8192
    store.save(4, b"x" * 9000)
    store.sync()
    assert store.size > 8192  # (9.1 KB of records: two steps of zeros)
    assert (tmp_path / "S.store").stat().st_size == 2 * 8192
    monkeypatch.undo()
    store.close()
    assert FileStore(tmp_path, "S").get(4, 4) == [(4, b"x" * 9000)]


_SEQS = st.lists(
    st.one_of(st.integers(1, 40), st.integers(4_000, 4_200), st.integers(1, 10**9)),
    min_size=1, max_size=40,
)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seqs=_SEQS, ranges=st.lists(st.tuples(st.integers(0, 10**9 + 1),
                                             st.integers(0, 10**9 + 1)), max_size=5))
def test_file_store_get_answers_as_a_map_of_every_save_in_any_order(
    tmp_path_factory: pytest.TempPathFactory, seqs: list[int], ranges: list[tuple[int, int]]
) -> None:
    """Whatever order MsgSeqNums are saved in (the next one, a gap, a jump far ahead, one set
    back, one saved again), a resend gets exactly the last message saved at each seq of its
    range, in order, before and after a reopen."""
    directory = tmp_path_factory.mktemp("index")
    store = FileStore(directory, "S")
    model: dict[int, bytes] = {}
    for i, seq in enumerate(seqs):
        raw = b"m%d-%d" % (seq, i)
        store.save(seq, raw)
        model[seq] = raw
    store.sync()
    again = FileStore(directory, "S")
    for begin, end in [(1, 10**9 + 1), *ranges]:
        want = [(s, model[s]) for s in sorted(model) if begin <= s <= end]
        assert store.get(begin, end) == want
        assert again.get(begin, end) == want
    assert again.next_sender_seq == max(seqs) + 1
    store.close()
    again.close()
