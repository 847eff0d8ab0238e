"""Instructions per message of the session layer, compiled and pure build (valgrind; not a test).

Wall and CPU times move by 2x on a shared machine; instruction counts do not. Each figure is
the difference between a run that does the work and one that only prepares it, divided by the
message count, so start-up and the building of the input are left out:

  inbound   Framer.feed + Session.receive_many of pipelined NewOrderSingles (64 KiB reads)
  outbound  Session.send_app of an ExecutionReport into a FileStore (flushed every 100)

    python bench/instructions.py [--count N]       # needs valgrind
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def child(kind: str, count: int, skip: bool) -> None:
    """The measured loop (run under valgrind)."""
    from bench.session import EXEC_BODY, T0, new_order
    from gateway.fix.codec import Framer, format_utc, frame
    from gateway.fix.session import Session, SessionSettings
    from gateway.fix.store import FileStore, MemoryStore

    logon = frame(b"35=A\x0134=1\x0149=TW42\x0152=%s\x0156=ISLD\x0198=0\x01108=30\x01"
                  % format_utc(T0).encode())
    if kind == "inbound":
        msgs = [new_order(i + 2, T0 + i * 16_667) for i in range(count)]
        stream = b"".join(msgs)
        chunks = [stream[i : i + 65536] for i in range(0, len(stream), 65536)]
        session = Session(SessionSettings("ISLD", "TW42", app_msg_types=frozenset({"D"})),
                          MemoryStore())
        session.connected(T0)
        session.receive(logon, T0)
        framer = Framer()
        for chunk in [] if skip else chunks:
            session.receive_many(framer.feed(chunk), T0 + count * 16_667)
        assert skip or session.next_target_seq == count + 2
        return
    with tempfile.TemporaryDirectory() as tmp:
        store = FileStore(Path(tmp), "X", fsync="never")
        session = Session(SessionSettings("ISLD", "TW42"), store)
        session.connected(T0)
        session.receive(logon, T0)
        for i in range(0 if skip else count):
            session.send_app("8", EXEC_BODY, T0 + i)
            if i % 100 == 99:
                store.flush()
        store.close()


def instructions(kind: str, count: int, pure: bool, skip: bool) -> int:
    env = dict(os.environ, ATS_PURE="1" if pure else "")
    cmd = ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
           sys.executable, __file__, "--child", kind, "--count", str(count)]
    if skip:
        cmd.append("--skip")
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stderr
    m = re.search(r"I\s+refs:\s+([\d,]+)", out)
    if m is None:
        raise RuntimeError(f"no instruction count in valgrind's output: {out[-500:]}")
    return int(m.group(1).replace(",", ""))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=10_000)
    ap.add_argument("--child", choices=["inbound", "outbound"], help=argparse.SUPPRESS)
    ap.add_argument("--skip", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child, args.count, args.skip)
        return 0
    if shutil.which("valgrind") is None:
        print("instruction counts skipped: valgrind is not installed (apt-get install valgrind)")
        return 0
    try:
        from gateway.fix._build import BUILD
    except ImportError:  # a tree from before the compiled hot path (for a "before" figure)
        BUILD = "pre-compiled"
    print(f"instructions per message, {args.count} messages (valgrind); installed: {BUILD}")
    builds = [("pure", True)] + ([("compiled", False)] if BUILD == "compiled" else [])
    for kind, what in (("inbound", "Framer.feed + receive_many per NewOrderSingle"),
                       ("outbound", "send_app + FileStore per ExecutionReport")):
        figures = []
        for name, pure in builds:
            work = instructions(kind, args.count, pure, skip=False)
            base = instructions(kind, args.count, pure, skip=True)
            figures.append(f"{name} {(work - base) / args.count:8,.0f}")
        print(f"  {what:<48} " + "   ".join(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
