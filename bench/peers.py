"""The servers under test, each as its own process: the real gateway, the echo ceiling, QuickFIX.

Each `start_*` returns a `Peer` with the port it listens on and a `stop()`; the gateway's is
started from a generated config in a fresh temp data dir and its NBBO primed over the
market-data session, so mid-pegged orders can match.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.fixwire import Clock, frame, logon, messages

REPO = Path(__file__).resolve().parent.parent
SYMBOL = "AAPL"
NBBO = ("189.20", "189.30")  # mid 189.25: both mid-pegged sides meet there


def order_senders(n: int) -> list[str]:
    """The client SenderCompIDs of the order-entry sessions."""
    return [f"BENCH{i + 1:02d}" for i in range(n)]


def gateway_config(sessions: int, participants: int = 5, fsync: str = "batch",
                   message_log: bool = True) -> str:
    """The bench venue: order sessions spread over participants, a drop copy of all, a feed.

    Self-match prevention is off: with one session (one participant) nothing could ever fill,
    and resting orders would pile up behind each other.
    """
    out = [
        "[gateway]", 'host = "127.0.0.1"', "port = 0", 'data_dir = "data"',
        'sender_comp_id = "ATS"', f'fsync = "{fsync}"',
        f"message_log = {'true' if message_log else 'false'}", "",
        "[admin]", "port = 0", "",
    ]
    for p in range(participants):
        broker_dealer = "true" if p % 2 == 0 else "false"
        out += ["[[participants]]", f'id = "P{p + 1}"', f"broker_dealer = {broker_dealer}", ""]
    for i, sender in enumerate(order_senders(sessions)):
        out += ["[[sessions]]", f'target_comp_id = "{sender}"', 'role = "order_entry"',
                f'participant = "P{i % participants + 1}"', "heartbeat_interval = 300",
                "reset_on_logon = true", "self_match_prevention = false", ""]
    out += ["[[sessions]]", 'target_comp_id = "DC1"', 'role = "drop_copy"', 'participants = ["*"]',
            "heartbeat_interval = 300", "reset_on_logon = true", "",
            "[[sessions]]", 'target_comp_id = "MD1"', 'role = "market_data"',
            "heartbeat_interval = 300", "reset_on_logon = true", "",
            "[[symbols]]", f'symbol = "{SYMBOL}"', 'max_spread = "0.50"', ""]
    return "\n".join(out)


@dataclass
class Peer:
    """A server process under test."""

    name: str
    proc: subprocess.Popen[bytes]
    port: int
    log: list[dict[str, object]] = field(default_factory=list)
    reader: threading.Thread | None = None

    def stop(self, timeout: float = 20.0) -> int:
        if self.proc.poll() is None:
            if self.proc.stdin is not None:
                self.proc.stdin.close()
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait(5)
        if self.reader is not None:
            self.reader.join(5)
        return rc

    def problems(self) -> list[dict[str, object]]:
        """Log lines at warning level or above."""
        return [e for e in self.log if e.get("level") in ("warning", "error", "critical")]


def _env() -> dict[str, str]:
    return dict(os.environ, PYTHONUNBUFFERED="1",
                PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))


def start_gateway(directory: Path, sessions: int, fsync: str = "batch",
                  message_log: bool = True, cprofile: Path | None = None,
                  timeout: float = 30.0) -> Peer:
    """The real gateway on a free port, NBBO primed; its JSON log is kept in `Peer.log`.

    With `cprofile`, it runs under cProfile, which writes its stats there when it exits.
    """
    directory.mkdir(parents=True, exist_ok=True)
    cfg = directory / "bench.toml"
    cfg.write_text(gateway_config(sessions, fsync=fsync, message_log=message_log))
    wrap = ["-m", "cProfile", "-o", str(cprofile)] if cprofile is not None else []
    proc = subprocess.Popen(
        [sys.executable, *wrap, "-m", "gateway", "--config", str(cfg), "--log-level", "info"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        env=_env(), cwd=directory)
    peer = Peer("gateway", proc, 0)
    assert proc.stderr is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        peer.log.append(_json(line))
        if peer.log[-1].get("event") == "listening":
            peer.port = int(peer.log[-1]["port"])  # type: ignore[call-overload]
            peer.reader = threading.Thread(target=_drain, args=(proc.stderr, peer.log),
                                           daemon=True)
            peer.reader.start()
            prime_nbbo(peer.port)
            return peer
    proc.kill()
    raise RuntimeError(f"gateway did not start: {peer.log[-5:]}")


def _json(line: bytes) -> dict[str, object]:
    try:
        value = json.loads(line)
        return value if isinstance(value, dict) else {"event": "raw", "line": str(value)}
    except json.JSONDecodeError:
        return {"event": "raw", "line": line.decode(errors="replace")}


def _drain(stream: object, sink: list[dict[str, object]]) -> None:
    for line in stream:  # type: ignore[attr-defined]
        sink.append(_json(line))


def prime_nbbo(port: int, timeout: float = 10.0) -> None:
    """Log on as the feed, send the NBBO (W), and wait until a TestRequest round trip proves it
    was processed."""
    clock = Clock()
    ts, _ = clock.now()
    bid, ask = NBBO
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(logon(b"MD1", b"ATS", 300, ts))
        _await(sock, b"35=A", timeout)
        w = (b"35=W\x0149=MD1\x0156=ATS\x0134=2\x0152=%s\x0155=%s\x01268=2\x01269=0\x01270=%s"
             b"\x01271=1000\x01269=1\x01270=%s\x01271=1000\x01" % (ts, SYMBOL.encode(),
                                                                  bid.encode(), ask.encode()))
        test = b"35=1\x0149=MD1\x0156=ATS\x0134=3\x0152=%s\x01112=PRIMED\x01" % ts
        sock.sendall(frame(w) + frame(test))
        _await(sock, b"112=PRIMED", timeout, refuse=(b"35=j", b"35=3"))


def _await(sock: socket.socket, marker: bytes, timeout: float,
           refuse: tuple[bytes, ...] = ()) -> None:
    deadline = time.monotonic() + timeout
    buf = b""
    while time.monotonic() < deadline:
        data = sock.recv(65536)
        if not data:
            raise RuntimeError(f"feed session closed while waiting for {marker!r}")
        buf += data
        for msg in messages(buf):
            if any(r in msg for r in refuse):
                raise RuntimeError(f"feed message refused: {msg!r}")
            if marker in msg:
                return
    raise RuntimeError(f"no {marker!r} from the gateway within {timeout}s")


def start_echo() -> Peer:
    """The bare uvloop echo ceiling."""
    proc = subprocess.Popen([sys.executable, str(REPO / "bench" / "echo_server.py")],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, env=_env())
    assert proc.stdout is not None
    line = proc.stdout.readline()
    return Peer("echo", proc, int(json.loads(line)["port"]))


def quickfix_python(explicit: str | None) -> str | None:
    """An interpreter that can import quickfix: this one, --qf-python, or /tmp/qfvenv."""
    candidates = [explicit] if explicit else [sys.executable, "/tmp/qfvenv/bin/python"]
    for py in candidates:
        if py and Path(py).exists() and subprocess.run(
                [py, "-c", "import quickfix"], capture_output=True).returncode == 0:
            return py
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_quickfix(python: str, directory: Path, sessions: int) -> Peer:
    """The QuickFIX Python-binding acceptor (bench/qf_acceptor.py) under `python`."""
    port = free_port()
    proc = subprocess.Popen(
        [python, str(REPO / "bench" / "qf_acceptor.py"), "--port", str(port), "--dir",
         str(directory), "--sessions", ",".join(order_senders(sessions))],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=_env())
    assert proc.stdout is not None
    line = json.loads(proc.stdout.readline() or b'{"error": "no output"}')
    if "port" not in line:
        proc.kill()
        raise RuntimeError(f"QuickFIX acceptor did not start: {line}")
    time.sleep(0.3)  # its accept thread starts after start() returns
    return Peer("quickfix", proc, port)
