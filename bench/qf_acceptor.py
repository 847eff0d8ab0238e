"""The QuickFIX peer: the Python binding as acceptor, answering each order with one ExecutionReport.

Run by bench/e2e.py with an interpreter that has the `quickfix` package (it is optional and slow to
build, so it may live in another venv). FileStore for sequence numbers and sent messages, no
message log, the project's FIX 4.2 data dictionary for validation.

    python bench/qf_acceptor.py --port N --dir DIR --sessions BENCH01,BENCH02,...
    # prints {"port": N} on stdout once accepting, runs until stdin closes or it is killed
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

try:
    import quickfix as fix  # type: ignore[import-not-found, unused-ignore]
except ImportError:  # the bench skips this peer; say why and exit with a distinct code
    print(json.dumps({"error": "quickfix is not importable"}), flush=True)
    sys.exit(3)

DICTIONARY = Path(__file__).resolve().parent.parent / "config" / "FIX42-ATS.xml"


class Acceptor(fix.Application):  # type: ignore[misc]
    """Acks every NewOrderSingle with ExecType 0."""

    def __init__(self) -> None:
        super().__init__()
        self.exec_id = 0
        self.order_id = 0

    def onCreate(self, session_id: object) -> None:  # noqa: N802 - QuickFIX's callback names
        pass

    def onLogon(self, session_id: object) -> None:  # noqa: N802
        pass

    def onLogout(self, session_id: object) -> None:  # noqa: N802
        pass

    def toAdmin(self, message: object, session_id: object) -> None:  # noqa: N802
        pass

    def fromAdmin(self, message: object, session_id: object) -> None:  # noqa: N802
        pass

    def toApp(self, message: object, session_id: object) -> None:  # noqa: N802
        pass

    def fromApp(self, message: object, session_id: object) -> None:  # noqa: N802
        msg_type = fix.MsgType()
        message.getHeader().getField(msg_type)  # type: ignore[attr-defined]
        if msg_type.getValue() != fix.MsgType_NewOrderSingle:
            return
        get = message.getField  # type: ignore[attr-defined]
        self.exec_id += 1
        self.order_id += 1
        qty = get(38)
        report = fix.Message()
        report.getHeader().setField(fix.MsgType(fix.MsgType_ExecutionReport))
        report.setField(fix.OrderID(str(self.order_id)))
        report.setField(fix.ClOrdID(get(11)))
        report.setField(fix.ExecID(str(self.exec_id)))
        report.setField(fix.ExecTransType(fix.ExecTransType_NEW))
        report.setField(fix.ExecType(fix.ExecType_NEW))
        report.setField(fix.OrdStatus(fix.OrdStatus_NEW))
        report.setField(fix.Symbol(get(55)))
        report.setField(fix.Side(get(54)))
        report.setField(fix.OrderQty(float(qty)))
        report.setField(fix.LeavesQty(float(qty)))
        report.setField(fix.CumQty(0))
        report.setField(fix.AvgPx(0))
        report.setField(fix.TransactTime())
        fix.Session.sendToTarget(report, session_id)


def settings_text(port: int, directory: Path, senders: list[str]) -> str:
    lines = [
        "[DEFAULT]", "ConnectionType=acceptor", f"SocketAcceptPort={port}",
        "SocketAcceptHost=127.0.0.1", f"FileStorePath={directory / 'store'}",
        "StartTime=00:00:00", "EndTime=00:00:00", "HeartBtInt=300", "ResetOnLogon=Y",
        "UseDataDictionary=Y", f"DataDictionary={DICTIONARY}", "SocketNodelay=Y",
        "PersistMessages=Y", "",
    ]
    for s in senders:
        lines += ["[SESSION]", "BeginString=FIX.4.2", "SenderCompID=ATS", f"TargetCompID={s}", ""]
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--dir", type=Path, required=True)
    p.add_argument("--sessions", required=True, help="comma-separated client SenderCompIDs")
    args = p.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    cfg_path = args.dir / "acceptor.cfg"
    cfg_path.write_text(settings_text(args.port, args.dir, args.sessions.split(",")))
    settings = fix.SessionSettings(str(cfg_path))
    app = Acceptor()
    acceptor = fix.SocketAcceptor(app, fix.FileStoreFactory(settings), settings)  # no log
    acceptor.start()
    print(json.dumps({"port": args.port}), flush=True)
    try:
        sys.stdin.read()  # the parent closes our stdin to stop us
    finally:
        acceptor.stop()


if __name__ == "__main__":
    main()
