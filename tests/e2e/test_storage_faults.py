"""Storage failures: a write or fsync that fails lets nothing out that is not durable.

In-process gateways with injected faults (os.write / os.fdatasync replaced for one file), over
real TCP on loopback; `test_full_tmpfs_*` fills a real small filesystem under the real process.
"""

from __future__ import annotations

import asyncio
import errno
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import structlog

from gateway.app import build_application
from gateway.config import loads_config
from gateway.server import Gateway
from gateway.storage import (
    EXIT_STORAGE_FAILED,
    RESERVE_NAME,
    StorageUnavailable,
    prepare_data_dir,
)
from tests.e2e.conftest import GatewayProcess, start_gateway
from tests.e2e.fixclient import FixClient, tag, utc_now
from tests.e2e.orders_helpers import (
    Peer,
    connect,
    drop_copy_session,
    exec_ids,
    two_party_venue,
)

_real_write = os.write
_real_fdatasync = os.fdatasync


@asynccontextmanager
async def running(tmp_path: Path, fsync: str = "batch") -> AsyncIterator[Gateway]:
    """A gateway with the order path on `tmp_path/data`, as `ats-gateway` starts it."""
    venue = two_party_venue().replace('fsync = "batch"', f'fsync = "{fsync}"')
    cfg = loads_config(venue, base=tmp_path)
    prepare_data_dir(cfg.gateway.data_dir)
    gateway = Gateway(cfg, cfg.gateway.data_dir)
    gateway.app = build_application(cfg, gateway)
    await gateway.start(port=0)
    try:
        yield gateway
    finally:
        await gateway.shutdown(grace=0.2)


def _port(gateway: Gateway) -> Any:
    assert gateway._server is not None
    return SimpleNamespace(port=gateway._server.sockets[0].getsockname()[1])


def _fail_file(
    monkeypatch: pytest.MonkeyPatch, path: Path, op: str, error: int, taken: int = 0,
    times: int = 1_000_000,
) -> None:
    """Make writes ("write": after `taken` bytes) or fdatasyncs of the file at `path` fail,
    `times` times (a full disk that the freed space reserve then relieves: once)."""
    def matches(fd: int) -> bool:
        try:
            return os.path.samestat(os.fstat(fd), os.stat(path))
        except OSError:
            return False

    left = [taken, times]

    def write(fd: int, data: bytes) -> int:
        if op == "write" and left[1] > 0 and matches(fd):
            if left[0] > 0:
                n = _real_write(fd, bytes(memoryview(data)[: left[0]]))
                left[0] -= n
                return n
            left[1] -= 1
            raise OSError(error, os.strerror(error))
        return _real_write(fd, data)

    def fdatasync(fd: int) -> None:
        if op == "fsync" and left[1] > 0 and matches(fd):
            left[1] -= 1
            raise OSError(error, os.strerror(error))
        _real_fdatasync(fd)

    monkeypatch.setattr(os, "write", write)
    monkeypatch.setattr(os, "fdatasync", fdatasync)


async def _until(check: Callable[[], bool]) -> None:
    for _ in range(500):
        if check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not reached")


async def _logged_out(peer: Peer) -> Any:
    """The gateway's last words: a Logout, then the connection closes; nothing else."""
    logout = await peer.expect("5")
    assert await peer.fix.closed()
    return logout


@pytest.mark.parametrize("fsync", ["batch", "always"])
async def test_journal_fsync_failure_sends_no_ack_and_stops(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fsync: str
) -> None:
    with structlog.testing.capture_logs() as logs:
        async with running(tmp_path, fsync) as gw:
            md, _ = await connect(_port(gw), "MD1")
            await md.nbbo("10.00", "10.10")
            acme, _ = await connect(_port(gw), "ACME1")
            await acme.ack("B1", "1", 100, "10.05")
            journal = tmp_path / "data" / "journal" / "matcher.journal"
            _fail_file(monkeypatch, journal, "fsync", errno.EIO)
            await acme.send_order("B2", "1", 100, "10.05")
            logout = await _logged_out(acme)
            assert int(tag(logout, 34) or 0) == int(tag(acme.received[-2], 34) or 0) + 1
            assert "storage failure" in (tag(logout, 58) or "")
            assert [tag(m, 11) for m in acme.received if tag(m, 35) == "8"] == ["B1"]
            assert await md.fix.closed()
            await gw.wait_failed()
            assert gw.exit_status == EXIT_STORAGE_FAILED
    failed = [e for e in logs if e["event"] == "storage_failed"]
    assert len(failed) == 1
    assert (failed[0]["op"], failed[0]["errno"], failed[0]["path"]) == (
        "fsync", "EIO", str(journal))


async def test_full_disk_on_a_store_sends_no_ack_and_a_restart_delivers_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = tmp_path / "data" / "sessions" / "ATS-ACME1.store"
    with structlog.testing.capture_logs() as logs:
        async with running(tmp_path) as gw:
            md, _ = await connect(_port(gw), "MD1")
            await md.nbbo("10.00", "10.10")
            acme, _ = await connect(_port(gw), "ACME1")
            first = await acme.ack("B1", "1", 100, "10.05")
            _fail_file(monkeypatch, store, "write", errno.ENOSPC, taken=20, times=1)
            await acme.send_order("B2", "1", 100, "10.05")
            logout = await _logged_out(acme)
            assert "No space left on device" in (tag(logout, 58) or "")
            assert [tag(m, 11) for m in acme.received if tag(m, 35) == "8"] == ["B1"]
            assert not (tmp_path / "data" / RESERVE_NAME).exists(), "the reserve was freed"
            await gw.wait_failed()
    assert [e["op"] for e in logs if e["event"] == "storage_failed"] == ["write"]
    monkeypatch.undo()

    # space is back: the restart knows B2 (its journal record was durable) and sends its ack
    # under a MsgSeqNum the client has never seen, with a new ExecID
    async with running(tmp_path) as gw:
        again, logon = await connect(_port(gw), "ACME1", reset=False,
                                     next_seq=acme.fix.next_seq)
        assert int(tag(logon, 34) or 0) > int(tag(logout, 34) or 0)
        missed = await again.resend(int(tag(logout, 34) or 0) + 1, int(tag(logon, 34) or 0))
        assert [(tag(m, 11), tag(m, 150)) for m in missed] == [("B2", "0")]
        assert exec_ids(missed) != exec_ids([first])
        await again.cancelled("C2", "B2", "1")  # a known order


async def test_a_failing_message_log_is_switched_off_and_orders_go_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    msglog = tmp_path / "data" / "log" / "ATS-ACME1.messages.log"
    with structlog.testing.capture_logs() as logs:
        async with running(tmp_path) as gw:
            md, _ = await connect(_port(gw), "MD1")
            await md.nbbo("10.00", "10.10")
            acme, _ = await connect(_port(gw), "ACME1")
            _fail_file(monkeypatch, msglog, "write", errno.ENOSPC)
            await acme.ack("B1", "1", 100, "10.05")
            await acme.ack("B2", "1", 100, "10.05")
            assert gw.failure is None
    assert [e["path"] for e in logs if e["event"] == "message_log_failed"] == [str(msglog)]


def test_a_journal_that_ends_before_the_delivered_reports_refuses_to_start(
    tmp_path: Path,
) -> None:
    cfg = loads_config(two_party_venue(), base=tmp_path)
    journal_dir = cfg.gateway.data_dir / "journal"
    journal_dir.mkdir(parents=True)
    (journal_dir / "delivered").write_text("%020d\n" % 42)  # reports up to ExecID 42 went out
    gateway = Gateway(cfg, cfg.gateway.data_dir)
    with pytest.raises(StorageUnavailable, match="ExecID 0 but reports up to ExecID 42"):
        build_application(cfg, gateway)


def _serve(tmp_path: Path, data_dir: Path) -> subprocess.CompletedProcess[str]:
    cfg = tmp_path / "venue.toml"
    cfg.write_text(two_party_venue())
    return subprocess.run(
        [sys.executable, "-m", "gateway", "--config", str(cfg), "--data-dir", str(data_dir)],
        capture_output=True, text=True, timeout=30, check=False,
        env=dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2])),
    )


def test_a_data_dir_that_is_not_a_directory_refuses_to_start(tmp_path: Path) -> None:
    (tmp_path / "data").write_text("a file, not a directory")
    done = _serve(tmp_path, tmp_path / "data")
    assert done.returncode == EXIT_STORAGE_FAILED
    [line] = [json.loads(x) for x in done.stderr.splitlines()]
    assert line["event"] == "storage_unavailable"
    assert str(tmp_path / "data") in line["error"]


def test_a_nearly_full_data_dir_refuses_to_start(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _mount_tmpfs(data, "2m")
    try:
        _fill(data, leave=100 * 1024)
        done = _serve(tmp_path, data)
        assert done.returncode == EXIT_STORAGE_FAILED
        [line] = [json.loads(x) for x in done.stderr.splitlines()]
        assert line["event"] == "storage_unavailable"
        assert str(data) in line["error"] and "free some space" in line["error"]
    finally:
        subprocess.run(["umount", "-l", str(data)], check=False)


# -- a real full filesystem under the real process -------------------------------------------

APP_TYPES = {"8", "9", "j", "3"}


def _content(msg: Any) -> tuple[str | None, ...]:
    """What a MsgSeqNum stands for (SendingTime and the resend flags left out)."""
    return tuple(tag(msg, t) for t in (35, 11, 17, 37, 150, 39, 41, 58))


class Wire:
    """One session's view across restarts: every MsgSeqNum with what it carried."""

    def __init__(self, sender: str) -> None:
        self.sender = sender
        self.fix = FixClient(sender, "ATS")
        self.by_seq: dict[int, tuple[str | None, ...]] = {}
        self.reports: list[Any] = []
        self.logouts: list[Any] = []

    async def logon(self, port: int, reset: bool) -> int:
        self.fix = FixClient(self.sender, "ATS", next_seq=1 if reset else self.fix.next_seq)
        await self.fix.connect(port)
        await self.fix.send("A", (98, "0"), (108, "30"), *([(141, "Y")] if reset else []))
        if reset:
            self.by_seq.clear()
        logon = await self.next()
        assert logon is not None and tag(logon, 35) == "A", logon
        return int(tag(logon, 34) or 0)

    async def next(self, timeout: float = 5.0) -> Any:
        """The next message (None when closed), checked against what each number carried."""
        msg = await self.fix.recv(timeout)
        if msg is None:
            await self.fix.close()
            return None
        seq, mtype = int(tag(msg, 34) or 0), tag(msg, 35)
        if mtype == "4" and tag(msg, 123) == "Y":
            for covered in range(seq, int(tag(msg, 36) or 0)):
                before = self.by_seq.get(covered)
                assert before is None or before[0] not in APP_TYPES, (
                    f"{self.sender}: gap fill over {before} received as MsgSeqNum {covered}")
            return msg
        if mtype == "2":  # the gateway lost our last input with its turn: skip it
            await self.fix.send("4", (123, "Y"), (36, str(self.fix.next_seq)),
                                seq=int(tag(msg, 7) or 0),
                                header=((43, "Y"), (122, utc_now())))
        key = _content(msg)
        before = self.by_seq.setdefault(seq, key)
        assert before == key, f"{self.sender}: MsgSeqNum {seq} carried {before}, now {key}"
        if mtype == "8":
            self.reports.append(msg)
        elif mtype == "5":
            self.logouts.append(msg)
        return msg

    async def resend_all(self, through: int) -> None:
        """ResendRequest from 1: every report received before must come again, the same."""
        await self.fix.send("2", (7, "1"), (16, "0"))
        expected = 1
        while expected <= through:
            msg = await self.next()
            assert msg is not None, f"{self.sender}: closed during a resend"
            seq = int(tag(msg, 34) or 0)
            if tag(msg, 35) == "4" and tag(msg, 123) == "Y" and seq == expected:
                expected = int(tag(msg, 36) or 0)
            elif seq == expected and tag(msg, 43) == "Y":
                expected += 1

    async def drain_until_closed(self) -> None:
        while await self.next() is not None:
            pass


def _mount_tmpfs(directory: Path, size: str) -> None:
    directory.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(directory)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")


def _fill(directory: Path, leave: int) -> Path:
    """A filler file that leaves about `leave` bytes free (dd if=/dev/zero, in Python)."""
    st = os.statvfs(directory)
    size = max(0, st.f_bavail * st.f_frsize - leave)
    filler = directory / "filler"
    with open(filler, "wb", buffering=0) as f:
        chunk = b"\0" * 65536
        try:
            while size > 0:
                size -= f.write(chunk[: min(size, len(chunk))])
        except OSError as e:
            # the gateway wrote while we filled (a quote stream, a resend): the disk is
            # full now, so give back `leave` bytes of the filler instead
            if e.errno != errno.ENOSPC:
                raise
            f.truncate(max(0, f.tell() - leave))
    return filler


async def _load_until_stopped(acme: Wire, first: int, limit: int) -> None:
    """Pipelined resting orders, 20 at a time, until the gateway logs us out and closes."""
    n, logouts = first, len(acme.logouts)
    while n < first + limit:
        for _ in range(20):
            await acme.fix.send("D", (11, f"O{n}"), (21, "1"), (55, "AAPL"), (54, "1"),
                                (38, "100"), (40, "2"), (44, "10.00"), (60, utc_now()))
            n += 1
        answered = 0
        while answered < 20:
            msg = await acme.next()
            if msg is None:
                assert len(acme.logouts) == logouts + 1, "closed without a Logout"
                assert "gateway storage failure" in (tag(acme.logouts[-1], 58) or "")
                return
            if tag(msg, 35) == "8":
                assert tag(msg, 150) == "0", msg
                answered += 1
    raise AssertionError(f"the full disk did not stop the gateway within {limit} orders")


async def test_full_tmpfs_under_load_loses_no_ack_and_reuses_no_number(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _mount_tmpfs(data, "2m")
    config = two_party_venue(drop_copy_session("DC1"))
    procs: list[GatewayProcess] = []
    acme, dc = Wire("ACME1"), Wire("DC1")
    try:
        for cycle in range(2):  # fill, fail, free, restart: twice
            gp = start_gateway(tmp_path, config)
            procs.append(gp)
            for wire in (acme, dc):
                through = await wire.logon(gp.port, reset=cycle == 0) - 1
                await wire.resend_all(through)
            filler = _fill(data, leave=64 * 1024)
            await _load_until_stopped(acme, cycle * 10_000, 3000)
            await dc.drain_until_closed()
            rc = await asyncio.to_thread(gp.proc.wait, 15)  # it exits by itself
            assert rc == EXIT_STORAGE_FAILED
            assert gp.reader is not None
            gp.reader.join(5)
            failed = gp.events("storage_failed")
            assert len(failed) == 1 and failed[0]["errno"] == "ENOSPC", failed
            assert not [e for e in gp.log_lines if "Traceback" in str(e.get("line", ""))]
            filler.unlink()

        # space is back: every order acknowledged before is known, nothing is renumbered
        gp = start_gateway(tmp_path, config)
        procs.append(gp)
        for wire in (acme, dc):
            through = await wire.logon(gp.port, reset=False) - 1
            await wire.resend_all(through)
        acked = {tag(r, 11) or "" for r in acme.reports if tag(r, 150) == "0"}
        assert len(acked) >= 40
        cancelled = await cancel_every(acme, acked)
        assert cancelled == acked
        assert_no_id_reused(acme.reports, dc.reports)
        assert gp.stop() == 0
    finally:
        for gp in procs:
            if gp.proc.poll() is None:
                gp.proc.kill()
                gp.proc.wait(10)
        subprocess.run(["umount", "-l", str(data)], check=False)


async def cancel_every(acme: Wire, acked: set[str]) -> set[str]:
    """Cancel each acknowledged order; the OrigClOrdIDs whose cancel was confirmed (an
    OrderCancelReject, "unknown order", fails: an acknowledged order was lost)."""
    for clid in sorted(acked):
        await acme.fix.send("F", (41, clid), (11, f"X{clid}"), (55, "AAPL"), (54, "1"),
                            (60, utc_now()))
    cancelled: set[str] = set()
    while len(cancelled) < len(acked):
        msg = await acme.next()
        assert msg is not None and tag(msg, 35) != "9", f"unknown order: {msg}"
        if tag(msg, 35) == "8" and tag(msg, 150) == "4":
            cancelled.add(tag(msg, 41) or "")
    return cancelled


def assert_no_id_reused(orders: list[Any], copies: list[Any]) -> None:
    """Every ExecID names one report (order, ClOrdID, ExecType) across the order session and
    the drop copy, and every OrderID one order."""
    by_exec: dict[str, tuple[str | None, ...]] = {}
    for report in orders + copies:
        key = (tag(report, 11), tag(report, 37), tag(report, 150))
        assert by_exec.setdefault(tag(report, 17) or "", key) == key, "ExecID reused"
    news = {(tag(r, 37), tag(r, 11)) for r in orders if tag(r, 150) == "0"}
    assert len({order_id for order_id, _ in news}) == len(news), "OrderID reused"
