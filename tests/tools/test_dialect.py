"""The tools validate against the dialect the venue ships (config/FIX42-ATS.xml), read at run
time; the acceptor keeps its own dictionary."""

from __future__ import annotations

from pathlib import Path

from ats_tools.dialect import app_msg_types, dialect_path, dialect_validator
from gateway.fix import frame, parse
from gateway.fix.dictionary import RejectReason
from gateway.fix.validate import validate

XML = Path(__file__).resolve().parents[2] / "config" / "FIX42-ATS.xml"


def report(*extra: tuple[int, str]) -> bytes:
    fields = [(35, "8"), (34, "2"), (49, "ATS"), (52, "20261202-15:00:00.000"), (56, "ACME1"),
              (37, "NONE"), (11, "P1"), (17, "1"), (20, "0"), (150, "8"), (39, "8"),
              (55, "AAPL"), (54, "1"), (38, "100"), (151, "0"), (14, "0"), (6, "0"), *extra]
    body = b"".join(b"%d=%s\x01" % (t, v.encode()) for t, v in fields)
    return frame(body)


def test_the_installed_dialect_is_the_repository_file() -> None:
    assert dialect_path().read_bytes() == XML.read_bytes()


def test_dialect_values_are_accepted_and_others_still_refused() -> None:
    check = dialect_validator().validate
    assert check(parse(report((103, "99"), (58, "Rule 612")))) is None
    assert check(parse(report((103, "3"), (851, "1")))) is None
    wrong = check(parse(report((103, "98"))))
    assert wrong is not None and (wrong.reason, wrong.tag) == (RejectReason.VALUE_INCORRECT, 103)
    # the stock FIX 4.2 enumeration (what the tools used before) refuses the venue's 99
    stock = validate(parse(report((103, "99"))))
    assert stock is not None and stock.tag == 103


def test_the_client_takes_every_application_message_of_the_dialect() -> None:
    types = app_msg_types()
    assert {"8", "9", "j"} <= types
    assert not types & {"0", "1", "2", "3", "4", "5", "A"}
