"""ats-client against the real gateway process: every reply printed (the venue's dialect values
included), the interactive prompt driven through a pseudo-terminal, and a lost session said
out loud."""

from __future__ import annotations

import fcntl
import os
import re
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

from tests.e2e.conftest import GatewayProcess, start_gateway
from tests.e2e.test_sandbox import CONFIG, REPO, finish, start, tool

ANSI = re.compile(r"\x1b(\[[0-9;?]*[ -/]*[@-~]|\][^\x07]*\x07|[()][0-9A-Za-z]|[=>78])")


def sandbox_venue(tmp_path: Path) -> GatewayProcess:
    venue = (CONFIG / "docker.toml").read_text()
    venue = venue.replace('host = "0.0.0.0"', 'host = "127.0.0.1"')
    venue = venue.replace("port = 9878", "port = 0").replace("port = 9879", "port = 0")
    venue = venue.replace('data_dir = "/data"', 'data_dir = "data"')
    return start_gateway(tmp_path, venue)


def where(tmp_path: Path, gp: GatewayProcess) -> list[str]:
    return ["--config", str(tmp_path / "venue.toml"), "--host", "127.0.0.1",
            "--port", str(gp.port)]


def test_client_prints_dialect_rejects_and_cancel_rejects(tmp_path: Path) -> None:
    gp = sandbox_venue(tmp_path)
    try:
        commands = "\n".join([
            "new buy AAPL 100 limit=190.005 id=P1",  # Rule 612: OrdRejReason 99
            "new buy AAPL 100 limit=190 inclusion=7 id=I1",  # InclusionLevel 1..5: 99
            "new buy AAPL 100 limit=190 id=R1",
            "replace R1 qty=50 id=R1",  # the ClOrdID again: CxlRejReason 6
            "new buy AAPL 100 limit=190 minqty=x id=M1",  # a session-level Reject (35=3)
        ])
        # piped on stdin: the batch mode scripts use
        run = subprocess.run(
            [sys.executable, "-m", "ats_tools.client", *where(tmp_path, gp), "--session",
             "ACME1", "--linger", "1"],
            input=commands, cwd=tmp_path, env=dict(os.environ, PYTHONPATH=str(REPO)),
            capture_output=True, text=True, timeout=60, check=False,
        )
    finally:
        assert gp.stop() == 0
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    rejected = {line.split()[1]: line for line in lines if line.startswith("REJECTED")}
    assert "reason=99" in rejected["P1"] and "Rule 612" in rejected["P1"]
    assert "reason=99" in rejected["I1"] and "Inclusion Level 7" in rejected["I1"]
    assert any(line.startswith("CXL-REJ   R1 orig=R1 reason=6") for line in lines), run.stdout
    assert any(line.startswith("REJECT    35=3") and "MinQty(110)" in line for line in lines)
    # the client refused nothing the gateway sent
    assert "rejected a message" not in run.stderr


def test_watch_prints_the_gateways_logout_when_it_shuts_down(tmp_path: Path) -> None:
    gp = sandbox_venue(tmp_path)
    watch = start("ats_tools.client", [*where(tmp_path, gp), "--session", "DC1", "--watch"],
                  tmp_path)
    assert watch.stderr is not None
    assert "logged on as DC1" in watch.stderr.readline()
    assert gp.stop() == 0  # SIGTERM: the gateway logs every session out
    done = finish(watch)
    assert "LOGOUT    text='gateway shutting down'" in done.stdout
    assert "session lost: the gateway logged out (gateway shutting down)" in done.stderr
    assert done.returncode == 3


class Terminal:
    """A process on a pseudo-terminal; what it writes is read in the background."""

    def __init__(self, args: list[str], cwd: Path) -> None:
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 200, 0, 0))
        env = dict(os.environ, PYTHONPATH=str(REPO), TERM="xterm", PROMPT_TOOLKIT_NO_CPR="1")
        self.proc = subprocess.Popen([sys.executable, "-m", "ats_tools.client", *args], cwd=cwd,
                                     env=env, stdin=slave, stdout=slave, stderr=slave,
                                     start_new_session=True)
        os.close(slave)
        self.master = master
        self.raw = b""
        self.seen = 0
        self.lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        while True:
            try:
                data = os.read(self.master, 65536)
            except OSError:
                return
            if not data:
                return
            with self.lock:
                self.raw += data

    def text(self) -> str:
        with self.lock:
            return ANSI.sub("", self.raw.decode("utf-8", "replace"))

    def expect(self, wanted: str, timeout: float = 30.0) -> str:
        """Wait until `wanted` appears after what was expected before; the text up to it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.text()
            at = text.find(wanted, self.seen)
            if at >= 0:
                before, self.seen = text[self.seen:at], at + len(wanted)
                return before
            if self.proc.poll() is not None and wanted not in self.text()[self.seen:]:
                time.sleep(0.2)
                if wanted not in self.text()[self.seen:]:
                    break
            time.sleep(0.05)
        raise AssertionError(f"{wanted!r} not seen; the terminal shows:\n{self.text()[self.seen:]}")

    def type(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    def close(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        os.close(self.master)


def test_prompt_sends_as_typed_prints_reports_while_typing_and_says_when_the_session_is_lost(
    tmp_path: Path,
) -> None:
    gp = sandbox_venue(tmp_path)
    term: Terminal | None = None
    try:
        feed = tool("ats_tools.feed", [*where(tmp_path, gp), str(CONFIG / "sample_nbbo.csv"),
                                       "--speed", "0"], tmp_path)
        assert feed.returncode == 0, feed.stderr
        term = Terminal([*where(tmp_path, gp), "--session", "ACME1"], tmp_path)
        term.expect("ACME1>")
        term.type("help\r")
        term.expect("cancel CLORDID [id=NEWID]")
        term.expect("ACME1>")

        # sent as soon as it is typed: the report comes while the client waits for input
        term.type("new buy AAPL 100 peg=mid id=T1\r")
        term.expect("NEW        T1")

        # half a line typed; a contra order fills T1 meanwhile: the fill is printed at once
        term.type("new buy AAPL 1")
        contra = tool("ats_tools.client", [*where(tmp_path, gp), "--session", "BUY1",
                                           "--linger", "0.5", "new sell AAPL 60 peg=mid id=S1"],
                      tmp_path)
        assert "FILL" in contra.stdout, contra.stdout + contra.stderr
        term.expect("PARTIAL    T1")
        # ... and the line being typed is still there: finish it and it is sent whole
        term.type("0 limit=189 id=T2\r")
        after = term.expect("NEW        T2")
        new_t2 = term.text()[term.seen:].splitlines()[0]
        assert "BUY AAPL  qty=10 " in new_t2, after + new_t2
        assert term.proc.poll() is None

        gp.stop(signal.SIGKILL)
        term.expect("session lost: the gateway closed the connection")
        assert term.proc.wait(20) == 3
    finally:
        if term is not None:
            term.close()
        if gp.proc.poll() is None:
            gp.stop()
