"""The message log's one-piece output of a turn writes what a line per message writes."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from gateway.msglog import MessageLog

_raw = st.binary(min_size=1, max_size=40).filter(lambda b: b"\n" not in b)


@given(turns=st.lists(st.tuples(st.lists(_raw, max_size=5), st.integers(0, 3)), max_size=6))
def test_outgoing_many_is_outgoing_per_message(turns: list[
        tuple[list[bytes], int]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        one, many = MessageLog(Path(tmp) / "one.log"), MessageLog(Path(tmp) / "many.log")
        for raws, second in turns:
            now = 1_700_000_000_000_000_000 + second * 1_000_000_007
            for raw in raws:
                one.outgoing(raw, now)
            many.outgoing_many(raws, now)
            one.incoming(b"8=FIX.4.2\x01", now)
            many.incoming(b"8=FIX.4.2\x01", now)
        one.close()
        many.close()
        assert (Path(tmp) / "one.log").read_bytes() == (Path(tmp) / "many.log").read_bytes()


@given(reads=st.lists(st.tuples(st.lists(_raw, max_size=5), st.integers(0, 3)), max_size=6))
def test_incoming_many_is_incoming_per_message(reads: list[tuple[list[bytes], int]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        one, many = MessageLog(Path(tmp) / "one.log"), MessageLog(Path(tmp) / "many.log")
        for raws, second in reads:
            now = 1_700_000_000_000_000_000 + second * 1_000_000_007
            for raw in raws:
                one.incoming(raw, now)
            many.incoming_many(raws, now)
        one.close()
        many.close()
        assert (Path(tmp) / "one.log").read_bytes() == (Path(tmp) / "many.log").read_bytes()
