"""Message stores: persistence across reopen, crash/truncation recovery, reset, fsync modes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gateway.fix.store import FileStore, MemoryStore


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
    store.close()
    path = tmp_path / "S.store"
    os.truncate(path, path.stat().st_size - cut)
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
    data[-8] ^= 0xFF  # flip a payload byte of the last record: CRC mismatch
    path.write_bytes(bytes(data))
    again = FileStore(tmp_path, "S")
    assert "checksum" in again.warnings[0]
    assert again.next_sender_seq == 4 and again.get(4, 4) == []


def test_file_store_garbage_file_never_crashes(tmp_path: Path) -> None:
    (tmp_path / "S.log").write_bytes(b"\x00garbage" * 10)
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
    (tmp_path / "S.store").rename(tmp_path / "S.log")
    again = FileStore(tmp_path, "S")
    assert (again.next_sender_seq, again.next_target_seq) == (4, 7)
    assert again.get(1, 3) == [(1, b"msg-1"), (2, b"msg-2"), (3, b"msg-3")]
    assert [p.name for p in tmp_path.iterdir()] == ["S.store"]
