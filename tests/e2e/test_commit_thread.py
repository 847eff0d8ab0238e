"""The group commit's thread (fsync = "batch"): input goes on while a commit is in flight, no
reply leaves before its commit is durable, replies keep their order, and a commit that fails
leaves the input taken after it unrecorded (the counterparty is asked for it again).

In-process gateways over real TCP on loopback; one store's fdatasync is held at a gate (a
wrapped ``os.fdatasync``, as tests/e2e/test_storage_faults.py injects its faults).
"""

from __future__ import annotations

import asyncio
import errno
import os
import threading
from pathlib import Path

import pytest

from gateway.fix.store import FileStore
from gateway.server import Gateway
from tests.e2e.fixclient import tag
from tests.e2e.orders_helpers import connect
from tests.e2e.test_storage_faults import _logged_out, _port, _until, running

_real_fdatasync = os.fdatasync


class Gate:
    """Holds the first fdatasync of one file in the commit thread until opened."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, path: Path) -> None:
        self.path = path
        self.entered = threading.Event()
        self.opened = threading.Event()
        self.fail = False
        self.armed = True
        monkeypatch.setattr(os, "fdatasync", self._fdatasync)

    def _fdatasync(self, fd: int) -> None:
        try:
            ours = os.path.samestat(os.fstat(fd), os.stat(self.path))
        except OSError:
            ours = False
        if ours and self.armed:
            self.armed = False
            self.entered.set()
            self.opened.wait(10)
            if self.fail:
                raise OSError(errno.EIO, os.strerror(errno.EIO))
        _real_fdatasync(fd)


def _key(gw: Gateway, sender: str) -> str:
    [key] = [k for k, rt in gw.runtimes.items() if rt.config.target_comp_id == sender]
    return key


async def test_input_goes_on_during_a_commit_and_replies_wait_for_theirs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running(tmp_path) as gw:
        md, _ = await connect(_port(gw), "MD1")
        await md.nbbo("10.00", "10.10")
        acme, _ = await connect(_port(gw), "ACME1")
        key = _key(gw, "ACME1")
        gate = Gate(monkeypatch, tmp_path / "data" / "sessions" / f"{key}.store")
        await acme.send_order("B1", "1", 100, "10.05")
        await asyncio.to_thread(gate.entered.wait, 5)  # B1's ack is in the commit thread
        await acme.send_order("B2", "1", 100, "10.04")
        engine = gw.app.engine  # type: ignore[attr-defined]
        await _until(lambda: engine.order(key, "B2") is not None)  # taken meanwhile
        await asyncio.sleep(0.1)
        assert [m for m in acme.received if tag(m, 35) == "8"] == [], "sent before durable"
        gate.opened.set()
        first = await acme.expect("8")
        second = await acme.expect("8")
        assert [tag(first, 11), tag(second, 11)] == ["B1", "B2"]
        assert int(tag(second, 34) or 0) == int(tag(first, 34) or 0) + 1
        assert gw.failure is None


async def test_a_failed_commit_leaves_later_input_to_be_sent_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running(tmp_path) as gw:
        md, _ = await connect(_port(gw), "MD1")
        await md.nbbo("10.00", "10.10")
        acme, _ = await connect(_port(gw), "ACME1")
        beta, _ = await connect(_port(gw), "BETA1")
        acme_key, beta_key = _key(gw, "ACME1"), _key(gw, "BETA1")
        gate = Gate(monkeypatch, tmp_path / "data" / "sessions" / f"{acme_key}.store")
        await acme.send_order("A1", "1", 100, "10.05")
        await asyncio.to_thread(gate.entered.wait, 5)  # A1's journal record is durable
        await beta.send_order("B2", "2", 100, "10.08")  # taken while A1's commit is in flight
        b2_seq = beta.fix.next_seq - 1
        engine = gw.app.engine  # type: ignore[attr-defined]
        await _until(lambda: engine.order(beta_key, "B2") is not None)
        gate.fail = True  # ACME1's store fdatasync fails: the gateway stops
        gate.opened.set()
        logout = await _logged_out(beta)
        assert "storage failure" in (tag(logout, 58) or "")
        assert [m for m in beta.received if tag(m, 35) == "8"] == []
        # (ACME1's store cannot be synced any more: its connection closes with no Logout)
        assert await acme.fix.closed()
        assert [m for m in acme.received if tag(m, 35) == "8"] == []
        await gw.wait_failed()
    monkeypatch.undo()
    # B2's journal record was never written (its turn's commit never began): BETA1's store
    # must expect B2's MsgSeqNum next, not the one after it, or B2 would be lost for good
    reopened = FileStore(tmp_path / "data" / "sessions", beta_key)
    assert reopened.next_target_seq == b2_seq
    reopened.close()

    async with running(tmp_path) as gw:
        again, _ = await connect(_port(gw), "BETA1", reset=False, next_seq=beta.fix.next_seq)
        resend = await again.expect("2")
        assert int(tag(resend, 7) or 0) == b2_seq  # the gateway asks for B2 again
        engine = gw.app.engine  # type: ignore[attr-defined]
        assert engine.order(acme_key, "A1") is not None
        assert engine.order(beta_key, "B2") is None
