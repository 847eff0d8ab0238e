"""Start the real gateway as a process on a free loopback port."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

BASE_CONFIG = """
[gateway]
host = "127.0.0.1"
port = 0
data_dir = "data"
sender_comp_id = "ATS"
fsync = "batch"

[admin]
port = 0

[[participants]]
id = "ACME"
broker_dealer = true

[[participants]]
id = "BETA"

[[sessions]]
target_comp_id = "TW42"
sender_comp_id = "ISLD"
participant = "ACME"
reset_on_logon = true

[[sessions]]
target_comp_id = "ACME1"
participant = "ACME"
heartbeat_interval = 30

[[sessions]]
target_comp_id = "BETA1"
participant = "BETA"
password = "s3cret"

[[sessions]]
target_comp_id = "DC1"
role = "drop_copy"
participants = ["*"]

[[sessions]]
target_comp_id = "MD1"
role = "market_data"

[[symbols]]
symbol = "AAPL"
"""


@dataclass
class GatewayProcess:
    proc: subprocess.Popen[str]
    port: int
    directory: Path
    log_lines: list[dict[str, object]]
    reader: threading.Thread | None = None

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        rc = self.proc.wait(timeout)
        if self.reader is not None:
            self.reader.join(5)
        return rc

    def drain_in_background(self) -> None:
        """Keep reading the log so the gateway never blocks on a full pipe."""
        assert self.proc.stderr is not None
        stream = self.proc.stderr

        def run() -> None:
            for line in stream:
                self._record(line)

        self.reader = threading.Thread(target=run, daemon=True)
        self.reader.start()

    def _record(self, line: str) -> None:
        try:
            self.log_lines.append(json.loads(line))
        except json.JSONDecodeError:
            self.log_lines.append({"event": "raw", "line": line})

    def events(self, name: str) -> list[dict[str, object]]:
        return [e for e in self.log_lines if e.get("event") == name]

    @property
    def admin_port(self) -> int:
        """The admin HTTP port (logged before `listening`, so known once the gateway is up)."""
        [event] = self.events("admin_listening")
        return int(event["port"])  # type: ignore[call-overload]


def start_gateway(
    directory: Path, config: str = BASE_CONFIG, timeout: float = 20.0, log_level: str = "info"
) -> GatewayProcess:
    cfg = directory / "venue.toml"
    cfg.write_text(config)
    repo = str(Path(__file__).resolve().parents[2])
    env = dict(
        os.environ,
        PYTHONUNBUFFERED="1",
        PYTHONPATH=os.pathsep.join(filter(None, [repo, os.environ.get("PYTHONPATH")])),
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "gateway", "--config", str(cfg), "--log-level", log_level],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env=env,
        cwd=directory,
    )
    gp = GatewayProcess(proc, 0, directory, [])
    deadline = time.monotonic() + timeout
    assert proc.stderr is not None
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        gp._record(line)
        if gp.log_lines[-1].get("event") == "listening":
            gp.port = int(gp.log_lines[-1]["port"])  # type: ignore[arg-type]
            gp.drain_in_background()
            return gp
    proc.kill()
    raise RuntimeError(f"gateway did not start: {gp.log_lines}")


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[Callable[..., GatewayProcess]]:
    started: list[GatewayProcess] = []

    def start(config: str = BASE_CONFIG, log_level: str = "info") -> GatewayProcess:
        gp = start_gateway(tmp_path, config, log_level=log_level)
        started.append(gp)
        return gp

    yield start
    for gp in started:
        if gp.proc.poll() is None:
            gp.proc.kill()
            gp.proc.wait(10)
