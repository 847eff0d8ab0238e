"""A stock QuickFIX validates our dialect with config/FIX42-ATS.xml (skipped without quickfix).

The `quickfix` package builds from source (no wheels); install it by hand to run this module.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import pytest

quickfix: Any = pytest.importorskip("quickfix")

DICT_PATH = Path(__file__).parents[2] / "config" / "FIX42-ATS.xml"
HEADER = [(35, ""), (49, "ATS"), (56, "ACME1"), (34, "7"), (52, "20261120-14:30:00.123")]


def _raw(msgtype: str, body: list[tuple[int, str]]) -> str:
    """Frame a FIX 4.2 message: BodyLength and CheckSum computed as the standard says."""
    fields = [(tag, msgtype if tag == 35 else value) for tag, value in HEADER] + body
    payload = "".join(f"{tag}={value}\x01" for tag, value in fields)
    head = f"8=FIX.4.2\x019={len(payload)}\x01"
    checksum = sum((head + payload).encode("ascii")) % 256
    return f"{head}{payload}10={checksum:03d}\x01"


@pytest.fixture(scope="module")
def dictionary() -> Any:
    return quickfix.DataDictionary(str(DICT_PATH))


def _validate(dictionary: Any, msgtype: str, body: list[tuple[int, str]]) -> None:
    message = quickfix.Message(_raw(msgtype, body), dictionary, True)
    dictionary.validate(message)


NEW_ORDER = [(11, "C1"), (21, "1"), (55, "AAPL"), (54, "5"), (60, "20261120-14:30:00.100"),
             (38, "100"), (40, "P"), (18, "M"), (110, "100"), (47, "A"), (114, "N"),
             (7001, "F"), (7010, "Y"), (7011, "3"), (7012, "C"), (7013, "Y"), (5700, "GSCO")]

VALID = {
    "D": NEW_ORDER,
    "F": [(41, "C1"), (11, "C2"), (55, "AAPL"), (54, "1"), (60, "20261120-14:30:01.000"),
          (7001, "C"), (7002, "C0")],
    "G": [(41, "C1"), (11, "C3"), (21, "1"), (55, "AAPL"), (54, "6"), (38, "50"), (40, "2"),
          (44, "190.01"), (60, "20261120-14:30:02.000"), (7011, "5"), (7012, "A")],
    "8": [(37, "O1"), (11, "C1"), (17, "E1"), (20, "0"), (150, "2"), (39, "2"), (55, "AAPL"),
          (54, "1"), (38, "100"), (32, "100"), (31, "190.005"), (151, "0"), (14, "100"),
          (6, "190.005"), (60, "20261120-14:30:00.124"), (851, "2"), (7001, "F")],
    "f": [(55, "PENNY"), (326, "17"), (7101, "1"), (7102, "Y")],
    # 99 (Other) is the dialect's addition to CxlRejReason and OrdRejReason.
    "9": [(37, "NONE"), (11, "C4"), (41, "C9"), (39, "8"), (434, "1"), (102, "99"),
          (58, "unknown order")],
    # FirmUpRequest (SPEC 5.1), what a QuickFIX initiator on this dictionary receives
    "UF": [(11, "C7"), (37, "12"), (17, "41"), (55, "AAPL"), (54, "1"), (38, "200"),
           (126, "20261120-14:30:01.123"), (60, "20261120-14:30:00.123")],
}


@pytest.mark.parametrize("msgtype", sorted(VALID))
def test_dialect_messages_validate(dictionary: Any, msgtype: str) -> None:
    _validate(dictionary, msgtype, VALID[msgtype])


@pytest.mark.parametrize(
    ("msgtype", "tag", "bad"),
    [("D", 7011, "6"), ("D", 7001, "X"), ("D", 7012, "B"), ("8", 851, "3"), ("f", 7101, "9")],
)
def test_out_of_range_dialect_values_are_refused(
    dictionary: Any, msgtype: str, tag: int, bad: str
) -> None:
    body = [(t, bad if t == tag else v) for t, v in VALID[msgtype]]
    with pytest.raises(quickfix.IncorrectTagValue):
        _validate(dictionary, msgtype, body)


def test_dialect_tag_on_a_message_without_it_is_refused(dictionary: Any) -> None:
    with pytest.raises(quickfix.TagNotDefinedForMessage):
        _validate(dictionary, "f", [*VALID["f"], (7001, "F")])


def test_firm_up_request_without_its_deadline_is_refused(dictionary: Any) -> None:
    body = [(t, v) for t, v in VALID["UF"] if t != 126]
    with pytest.raises(quickfix.RequiredTagMissing):
        _validate(dictionary, "UF", body)


class _Initiator(quickfix.Application):  # type: ignore[misc]
    """A stock QuickFIX initiator: records the application messages it accepts."""

    def __init__(self) -> None:
        super().__init__()
        self.logged_on = threading.Event()
        self.received: list[tuple[str, dict[int, str]]] = []
        self.rejects: list[str] = []

    def onCreate(self, session_id: Any) -> None:  # noqa: N802 - QuickFIX's callback names
        pass

    def onLogon(self, session_id: Any) -> None:  # noqa: N802
        self.logged_on.set()

    def onLogout(self, session_id: Any) -> None:  # noqa: N802
        pass

    def toAdmin(self, message: Any, session_id: Any) -> None:  # noqa: N802
        if message.getHeader().getField(35) == "3":  # QuickFIX refused something we sent it
            self.rejects.append(message.toString().replace("\x01", "|"))

    def fromAdmin(self, message: Any, session_id: Any) -> None:  # noqa: N802
        pass

    def toApp(self, message: Any, session_id: Any) -> None:  # noqa: N802
        pass

    def fromApp(self, message: Any, session_id: Any) -> None:  # noqa: N802
        fields = {t: message.getField(t) for t in (11, 37, 38, 54, 55, 60, 126)
                  if message.isSetField(t)}
        self.received.append((message.getHeader().getField(35), fields))


async def test_quickfix_initiator_accepts_a_firm_up_request(tmp_path: Path) -> None:
    """SPEC 5.1: a stock QuickFIX initiator on config/FIX42-ATS.xml takes the gateway's UF."""
    from tests.e2e.conftest import start_gateway
    from tests.e2e.orders_helpers import order_session, session, two_party_venue

    gp = start_gateway(tmp_path, two_party_venue(order_session("QF1", "ACME")))
    cfg = tmp_path / "initiator.cfg"
    cfg.write_text("\n".join([
        "[DEFAULT]", "ConnectionType=initiator", "SocketConnectHost=127.0.0.1",
        f"SocketConnectPort={gp.port}", f"FileStorePath={tmp_path / 'qf'}",
        "StartTime=00:00:00", "EndTime=00:00:00", "HeartBtInt=30", "ResetOnLogon=Y",
        "UseDataDictionary=Y", f"DataDictionary={DICT_PATH}", "",
        "[SESSION]", "BeginString=FIX.4.2", "SenderCompID=QF1", "TargetCompID=ATS", ""]))
    settings = quickfix.SessionSettings(str(cfg))
    app = _Initiator()
    initiator = quickfix.SocketInitiator(app, quickfix.FileStoreFactory(settings), settings)
    initiator.start()
    try:
        assert app.logged_on.wait(10)
        md, beta = await session(gp, "MD1"), await session(gp, "BETA1")
        await md.nbbo("10.00", "10.10")
        order = quickfix.Message()
        order.getHeader().setField(quickfix.MsgType("D"))
        for tag, value in [(11, "CB"), (21, "1"), (55, "AAPL"), (54, "1"), (38, "100"),
                           (40, "2"), (44, "10.05"), (60, "20261120-14:30:00.100"),
                           (7001, "C")]:
            order.setField(tag, value)
        quickfix.Session.sendToTarget(order, quickfix.SessionID("FIX.4.2", "QF1", "ATS"))
        await beta.ack("CS", "2", 100, "10.05", extra=((7001, "C"),))
        await beta.expect("UF")
        for _ in range(500):
            if any(t == "UF" for t, _ in app.received):
                break
            await asyncio.sleep(0.02)
        [(_, uf)] = [(t, f) for t, f in app.received if t == "UF"]
        assert (uf[11], uf[38], uf[54], uf[55]) == ("CB", "100", "1", "AAPL")
        assert 126 in uf and 60 in uf
        assert app.rejects == []
    finally:
        initiator.stop()
        gp.stop()
