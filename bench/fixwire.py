"""Lean client-side FIX for the load generator: templated encode, framing and tag lookup by find.

Not the product's codec on purpose: the generator must cost the client as little as possible so
the gateway is what gets measured. Orders are pre-encoded around their two timestamps (52, 60):
the body length is fixed and the checksum is the pre-computed sum of the constant bytes plus twice
the sum of the timestamp, which is cached per millisecond.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

SOH = b"\x01"
TRAILERS = [b"10=%03d\x01" % i for i in range(256)]
TS_LEN = 21  # YYYYMMDD-HH:MM:SS.sss
_MID60 = b"\x0160="


class Clock:
    """UTC SendingTime text, recomputed at most once per millisecond."""

    __slots__ = ("_ms", "_text", "_sum")

    def __init__(self) -> None:
        self._ms = -1
        self._text = b""
        self._sum = 0

    def now(self) -> tuple[bytes, int]:
        """(timestamp bytes, their byte sum)."""
        ns = time.time_ns()
        ms = ns // 1_000_000
        if ms != self._ms:
            secs, frac = divmod(ms, 1000)
            self._text = (time.strftime("%Y%m%d-%H:%M:%S", time.gmtime(secs))
                          + f".{frac:03d}").encode()
            self._ms = ms
            self._sum = sum(self._text)
        return self._text, self._sum


def frame(body: bytes) -> bytes:
    """A whole message from a body that starts with 35=."""
    head = b"8=FIX.4.2\x019=%d\x01" % len(body)
    msg = head + body
    return msg + TRAILERS[sum(msg) % 256]


class OrderTemplate:
    """One pre-encoded NewOrderSingle: everything but the two timestamps."""

    __slots__ = ("head", "tail", "base")

    def __init__(self, sender: bytes, target: bytes, seq: int, cl_ord_id: int, side: bytes,
                 symbol: bytes) -> None:
        hdr = b"35=D\x0149=%s\x0156=%s\x0134=%d\x0152=" % (sender, target, seq)
        tail = (b"\x0111=%d\x011=BENCH-ACCOUNT-0001\x0121=1\x0155=%s\x0154=%s\x0138=100"
                b"\x0140=P\x0118=M\x0159=0\x0147=A\x01" % (cl_ord_id, symbol, side))
        body_len = len(hdr) + TS_LEN + len(_MID60) + TS_LEN + len(tail)
        self.head = b"8=FIX.4.2\x019=%d\x01" % body_len + hdr
        self.tail = tail
        self.base = sum(self.head) + sum(_MID60) + sum(tail)

    def encode(self, ts: bytes, ts_sum: int) -> bytes:
        """The message stamped with `ts` (SendingTime and TransactTime)."""
        return b"".join((self.head, ts, _MID60, ts, self.tail,
                         TRAILERS[(self.base + 2 * ts_sum) & 255]))


def logon(sender: bytes, target: bytes, heartbeat: int, ts: bytes) -> bytes:
    """Logon with ResetSeqNumFlag, sequence 1."""
    return frame(b"35=A\x0149=%s\x0156=%s\x0134=1\x0152=%s\x0198=0\x01108=%d\x01141=Y\x01"
                 % (sender, target, ts, heartbeat))


def split(buf: bytes) -> tuple[list[tuple[int, int]], int]:
    """(start, end) of each whole message in `buf`, and where the unfinished rest begins.

    Tag 10 only ever appears as the trailer, and its value is always three digits.
    """
    out: list[tuple[int, int]] = []
    pos = 0
    n = len(buf)
    find = buf.find
    while True:
        i = find(b"\x0110=", pos)
        if i < 0 or i + 8 > n:
            return out, pos
        out.append((pos, i + 8))
        pos = i + 8


def value(buf: bytes, tag: bytes, start: int, end: int) -> bytes | None:
    """The value of `tag` (given as b"\\x01NN=") inside buf[start:end], by find."""
    i = buf.find(tag, start, end)
    if i < 0:
        return None
    i += len(tag)
    return buf[i:buf.find(SOH, i, end)]


def messages(stream: bytes) -> Iterator[bytes]:
    """Every whole message of a byte string (for tests and the echo server)."""
    spans, _ = split(stream)
    for a, b in spans:
        yield stream[a:b]
