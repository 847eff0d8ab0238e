"""`ats-gateway` with no config serves the embedded demo venue (what `make run` starts)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.e2e.fixclient import FixClient, tag


async def test_embedded_default_serves_the_demo_venue(tmp_path: Path) -> None:
    repo = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ, PYTHONPATH=repo, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "-m", "gateway", "--port", "0",
                             "--admin-port", "0"], cwd=tmp_path,
                            env=env, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None
        deadline = time.monotonic() + 20
        port = 0
        while time.monotonic() < deadline and not port:
            line = proc.stderr.readline()
            if not line:
                break
            event = json.loads(line)
            if event.get("event") == "listening":
                port = int(event["port"])
        assert port, "the embedded default did not start"
        client = FixClient("ACME1", "ATS")
        await client.connect(port)
        reply = await client.logon(reset=True)
        assert tag(reply, 35) == "A"
        await client.send("D", (11, "E1"), (21, "1"), (55, "AAPL"), (54, "1"), (38, "100"),
                          (40, "P"), (18, "M"), (60, "20260101-00:00:00"))
        ack = await client.expect("8")
        assert (tag(ack, 150), tag(ack, 11)) == ("0", "E1")
        await client.close()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
        # state went to ./var under the working directory
        assert (tmp_path / "var" / "journal" / "matcher.journal").exists()
        assert any((tmp_path / "var" / "sessions").iterdir())
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
