"""Append-only command journal: every command is written with its receipt time before it is
applied, so ``Engine.recover`` can rebuild the same book, events and id counters.

Format (version 1): the file starts with ``b"ATSJRNL1"``; each record is
``<u32 length><u32 crc32(payload)><payload>`` where the payload is either a pickled tuple
``(receipt_ns, tag, *fields)`` of plain values (enums as their values), so the format does not
depend on class layouts, or (a NewOrder, one per order) the compact encoding of the same values
that `_encode_new_order_compact` describes (its first byte ``b"N"``; a pickle's is ``0x80``).
Files written before the compact records existed replay unchanged; a NewOrder the compact
encoding cannot hold (an int past 64 bits, a NUL in a text) is pickled as before. A short or
corrupt last record (a crash or a full disk mid-write) is reported as a warning and dropped,
never raised. The file is zero-filled ahead of its records (`matcher.files`, as the session
stores are), so a sync writes inside the file and its fdatasync need not record a new file
size; a zero-filled tail is the journal's clean end (no record is empty, so a zero length is
never a record). A write that fails part way keeps exactly the
bytes the OS did not take (a later flush resumes there, never writing a byte twice); a failed
write or fsync raises `JournalError`, and after a failed fsync every later sync fails too.
"""

from __future__ import annotations

import ast
import dataclasses
import errno
import operator
import os
import pickle
import struct
import sys
import types
import typing
import zlib
from collections.abc import Callable
from enum import Enum
from typing import Any, Final

from mypy_extensions import mypyc_attr

from matcher.files import write_records
from matcher.types import (
    Cancel,
    CancelAll,
    Capacity,
    ClosingPrice,
    Command,
    FirmUpTimer,
    MinQtyInstruction,
    NewOrder,
    OrderClass,
    OrdType,
    Peg,
    QuoteUpdate,
    Replace,
    SecurityStatus,
    Side,
    TimeInForce,
)

MAGIC = b"ATSJRNL1"
_HDR: Final = struct.Struct("<II")
# a record's tag is its class's index here: append new commands at the end, never reorder
_CLASSES: tuple[type, ...] = (NewOrder, Cancel, Replace, CancelAll, QuoteUpdate, SecurityStatus,
                              ClosingPrice, FirmUpTimer)


@mypyc_attr(native_class=False)  # mypyc cannot make a native subclass of OSError
class JournalError(OSError):
    """The journal's write or fsync failed: ``op`` says which, ``filename`` the file."""

    def __init__(self, op: str, path: str, cause: OSError) -> None:
        code = cause.errno or errno.EIO
        super().__init__(code, cause.strerror or os.strerror(code), path)
        self.op = op


def _enum_of(hint: Any) -> type[Enum] | None:
    if isinstance(hint, type) and issubclass(hint, Enum):
        return hint
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        for arg in typing.get_args(hint):
            if isinstance(arg, type) and issubclass(arg, Enum):
                return arg
    return None


def _field_hints(cls: type) -> dict[str, Any]:
    """The field annotations of a command class, evaluated.

    From the class's source: a mypyc-compiled class keeps only erased annotations (an
    ``X | None`` field says ``type``), so `typing.get_type_hints` would not see an optional
    enum field there, which would then be pickled as an enum (a class reference, and a slow
    reduce) by the compiled build and read back as a plain value by the same build."""
    module = sys.modules[cls.__module__]
    hints: dict[str, Any] = {}
    # found from the top package (never compiled): a compiled module's __file__ is not reliable
    top, *rest = cls.__module__.split(".")
    package_file = getattr(sys.modules[top], "__file__", None)
    if package_file and rest:
        path = os.path.join(os.path.dirname(package_file), *rest) + ".py"
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                tree = ast.parse(f.read())
            for node in tree.body:
                if isinstance(node, ast.ClassDef) and node.name == cls.__name__:
                    for stmt in node.body:
                        if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                            hints[stmt.target.id] = eval(  # noqa: S307 - our own source
                                ast.unparse(stmt.annotation), vars(module))
    return hints or typing.get_type_hints(cls)


class _Codec:
    """Per-command-class field list and enum decoders."""

    def __init__(self, tag: int, cls: type) -> None:
        self.tag = tag
        self.cls = cls
        hints = _field_hints(cls)
        self.names = [f.name for f in dataclasses.fields(cls)]
        self.enums = [(i, e) for i, n in enumerate(self.names)
                      if (e := _enum_of(hints[n])) is not None]
        self.enum_idx = [i for i, _ in self.enums]
        self.get = operator.attrgetter(*self.names)  # one C call for every field

    def encode(self, ts: int, cmd: Any) -> tuple[Any, ...]:
        vals = list(self.get(cmd))
        for i in self.enum_idx:
            v = vals[i]
            if v is not None:
                vals[i] = v._value_  # the plain attribute: `.value` is a property call
        return (ts, self.tag, *vals)

    def decode(self, rec: tuple[Any, ...]) -> Any:
        vals = list(rec[2:])
        for i, e in self.enums:
            if vals[i] is not None:
                vals[i] = e(vals[i])
        return self.cls(*vals)


_BY_CLASS = {cls: _Codec(i, cls) for i, cls in enumerate(_CLASSES)}
_BY_TAG = {c.tag: c for c in _BY_CLASS.values()}
_NEW_ORDER_TAG = _CLASSES.index(NewOrder)


def _encode_new_order(ts: int, cmd: NewOrder) -> tuple[Any, ...]:
    """`_Codec.encode` of a NewOrder (one per order), its fields read directly (native
    attribute reads where compiled, no list); tests check it equals the generic encode."""
    capacity = cmd.capacity
    return (ts, _NEW_ORDER_TAG, cmd.session, cmd.participant, cmd.cl_ord_id, cmd.symbol,
            cmd.side._value_, cmd.qty, cmd.ord_type._value_, cmd.limit, cmd.peg._value_,
            cmd.tif._value_, cmd.min_qty, cmd.min_qty_instruction._value_, cmd.post_only,
            None if capacity is None else capacity._value_, cmd.locate_reqd, cmd.locate_broker,
            cmd.order_class._value_, cmd.conditional_ref, cmd.conditional_interaction, cmd.dncp,
            cmd.inclusion_level, cmd.session_dncp, cmd.smp, cmd.smp_scope,
            cmd.default_inclusion_level)


#: the compact NewOrder record: ``b"N"``, the receipt ns, Side, qty, limit, min_qty,
#: inclusion_level and default_inclusion_level as signed 64-bit ints (0 where None), a flags
#: word (the _F_* bits: which optional values are set, and the bools), then the 13 texts
#: (`_encode_new_order_compact`'s order, "" where None) joined by NUL, in UTF-8
_COMPACT_NEW_ORDER: Final = b"N"
_NO_HEAD: Final = struct.Struct("<cqqqqqqqI")
_NO_HEAD_SIZE: Final = _NO_HEAD.size
_NO_TEXTS: Final = 13
_F_LIMIT: Final = 1
_F_MIN_QTY: Final = 2
_F_INCLUSION: Final = 4
_F_CAPACITY: Final = 8
_F_LOCATE_BROKER: Final = 16
_F_CONDITIONAL_REF: Final = 32
_F_LOCATE_REQD_SET: Final = 64
_F_LOCATE_REQD: Final = 128
_F_DNCP_SET: Final = 256
_F_DNCP: Final = 512
_F_POST_ONLY: Final = 1024
_F_CONDITIONAL_INTERACTION: Final = 2048
_F_SESSION_DNCP: Final = 4096
_F_SMP: Final = 8192


# the common enum members and their values: compiled, an identity test against a Final is a
# pointer compare, reading an enum's ``_value_`` a generic attribute lookup
_BUY: Final = Side.BUY
_BUY_VALUE: Final[int] = Side.BUY._value_
_SELL: Final = Side.SELL
_SELL_VALUE: Final[int] = Side.SELL._value_
_LIMIT: Final = OrdType.LIMIT
_LIMIT_TEXT: Final[str] = OrdType.LIMIT._value_
_PEGGED: Final = OrdType.PEGGED
_PEGGED_TEXT: Final[str] = OrdType.PEGGED._value_
_PEG_NONE: Final = Peg.NONE
_PEG_NONE_TEXT: Final[str] = Peg.NONE._value_
_MIDPOINT: Final = Peg.MIDPOINT
_MIDPOINT_TEXT: Final[str] = Peg.MIDPOINT._value_
_DAY: Final = TimeInForce.DAY
_DAY_TEXT: Final[str] = TimeInForce.DAY._value_
_AON: Final = MinQtyInstruction.AON
_AON_TEXT: Final[str] = MinQtyInstruction.AON._value_
_FIRM: Final = OrderClass.FIRM
_FIRM_TEXT: Final[str] = OrderClass.FIRM._value_


def _encode_new_order_compact(ts: int, cmd: NewOrder) -> bytes | None:
    """A NewOrder's record payload without pickle (the values `_encode_new_order` gives, in a
    fixed layout); None when the layout cannot hold them (an int past 64 bits, a NUL in a
    text): the caller pickles those. `_decode_new_order_compact` is its inverse."""
    flags = 0
    limit = cmd.limit
    if limit is None:
        limit = 0
    else:
        flags |= _F_LIMIT
    min_qty = cmd.min_qty
    if min_qty is None:
        min_qty = 0
    else:
        flags |= _F_MIN_QTY
    inclusion_level = cmd.inclusion_level
    if inclusion_level is None:
        inclusion_level = 0
    else:
        flags |= _F_INCLUSION
    capacity = cmd.capacity
    capacity_text = ""
    if capacity is not None:
        flags |= _F_CAPACITY
        capacity_text = capacity._value_
    locate_broker = cmd.locate_broker
    if locate_broker is None:
        locate_broker = ""
    else:
        flags |= _F_LOCATE_BROKER
    conditional_ref = cmd.conditional_ref
    if conditional_ref is None:
        conditional_ref = ""
    else:
        flags |= _F_CONDITIONAL_REF
    locate_reqd = cmd.locate_reqd
    if locate_reqd is not None:
        flags |= _F_LOCATE_REQD_SET | _F_LOCATE_REQD if locate_reqd else _F_LOCATE_REQD_SET
    dncp = cmd.dncp
    if dncp is not None:
        flags |= _F_DNCP_SET | _F_DNCP if dncp else _F_DNCP_SET
    if cmd.post_only:
        flags |= _F_POST_ONLY
    if cmd.conditional_interaction:
        flags |= _F_CONDITIONAL_INTERACTION
    if cmd.session_dncp:
        flags |= _F_SESSION_DNCP
    if cmd.smp:
        flags |= _F_SMP
    ord_type = cmd.ord_type
    peg = cmd.peg
    tif = cmd.tif
    min_qty_instruction = cmd.min_qty_instruction
    order_class = cmd.order_class
    side = cmd.side
    texts = "\x00".join((
        cmd.session, cmd.participant, cmd.cl_ord_id, cmd.symbol,
        _LIMIT_TEXT if ord_type is _LIMIT else
        _PEGGED_TEXT if ord_type is _PEGGED else ord_type._value_,
        _PEG_NONE_TEXT if peg is _PEG_NONE else
        _MIDPOINT_TEXT if peg is _MIDPOINT else peg._value_,
        _DAY_TEXT if tif is _DAY else tif._value_,
        _AON_TEXT if min_qty_instruction is _AON else min_qty_instruction._value_,
        capacity_text, locate_broker,
        _FIRM_TEXT if order_class is _FIRM else order_class._value_,
        conditional_ref, cmd.smp_scope))
    if texts.count("\x00") != _NO_TEXTS - 1:
        return None
    try:
        head = _NO_HEAD.pack(_COMPACT_NEW_ORDER, ts,
                             _BUY_VALUE if side is _BUY else
                             _SELL_VALUE if side is _SELL else side._value_,
                             cmd.qty, limit, min_qty, inclusion_level,
                             cmd.default_inclusion_level, flags)
    except struct.error:
        return None
    return head + texts.encode("utf-8", "surrogatepass")


def _decode_new_order_compact(payload: bytes) -> tuple[int, NewOrder]:
    """The receipt ns and NewOrder of a compact record (`_encode_new_order_compact`)."""
    _, ts, side, qty, limit, min_qty, inclusion_level, default_inclusion_level, flags = (
        _NO_HEAD.unpack_from(payload))
    texts = payload[_NO_HEAD_SIZE:].decode("utf-8", "surrogatepass").split("\x00")
    if len(texts) != _NO_TEXTS:
        raise ValueError(f"a compact NewOrder record holds {len(texts)} texts, not {_NO_TEXTS}")
    (session, participant, cl_ord_id, symbol, ord_type, peg, tif, min_qty_instruction, capacity,
     locate_broker, order_class, conditional_ref, smp_scope) = texts
    return ts, NewOrder(
        session, participant, cl_ord_id, symbol, Side(side), qty, OrdType(ord_type),
        limit if flags & _F_LIMIT else None, Peg(peg), TimeInForce(tif),
        min_qty if flags & _F_MIN_QTY else None, MinQtyInstruction(min_qty_instruction),
        bool(flags & _F_POST_ONLY), Capacity(capacity) if flags & _F_CAPACITY else None,
        bool(flags & _F_LOCATE_REQD) if flags & _F_LOCATE_REQD_SET else None,
        locate_broker if flags & _F_LOCATE_BROKER else None, OrderClass(order_class),
        conditional_ref if flags & _F_CONDITIONAL_REF else None,
        bool(flags & _F_CONDITIONAL_INTERACTION),
        bool(flags & _F_DNCP) if flags & _F_DNCP_SET else None,
        inclusion_level if flags & _F_INCLUSION else None, bool(flags & _F_SESSION_DNCP),
        bool(flags & _F_SMP), smp_scope, default_inclusion_level)


class Journal:
    """Buffered append-only journal file; ``flush`` writes, ``sync`` also fsyncs.

    Opening an existing file validates it and cuts a garbled tail (see ``warnings``).
    """

    def __init__(self, path: str | os.PathLike[str],
                 crc: Callable[[bytes], int] | None = None) -> None:
        self.path = os.fspath(path)
        # the records' CRC-32: zlib.crc32, or a function giving the same value (the gateway
        # passes its compiled one, gateway.fix._speedups.crc32; reading checks with zlib)
        self._crc: Callable[[bytes], int] = zlib.crc32 if crc is None else crc
        _, self.warnings, good, end = _scan(self.path)
        if good is not None and os.path.exists(self.path):
            os.truncate(self.path, good)
        # (no O_APPEND: records go at the records' end, inside the zero-filled file)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o644)
        self._written = end  # the records' end: zeros follow, up to _allocated
        self._allocated = os.fstat(self._fd).st_size
        os.lseek(self._fd, end, os.SEEK_SET)
        self._pending = bytearray()  # records the OS has not taken yet
        self._sync_error: JournalError | None = None
        if end == 0:
            self._pending += MAGIC
            self.flush()

    def append(self, ts: int, cmd: Command) -> None:
        """Buffer one record (written by flush / sync)."""
        if isinstance(cmd, NewOrder):
            compact = _encode_new_order_compact(ts, cmd)
            payload = (pickle.dumps(_encode_new_order(ts, cmd), 5) if compact is None
                       else compact)
        else:
            payload = pickle.dumps(_BY_CLASS[type(cmd)].encode(ts, cmd), 5)
        self._pending += _HDR.pack(len(payload), self._crc(payload))
        self._pending += payload

    def flush(self) -> None:
        """Write buffered records to the OS; what a failed write did not take stays buffered."""
        self._written, self._allocated, failed = write_records(
            self._fd, self._pending, self._written, self._allocated)
        if failed is not None:
            raise JournalError("write", self.path, failed) from failed

    @property
    def size(self) -> int:
        """The length of the records in the file (zeros follow, up to the file's size)."""
        return self._written

    def fileno(self) -> int:
        """The journal's file descriptor."""
        return self._fd

    def sync(self) -> None:
        """Flush and fsync: the group commit the gateway does once per loop turn."""
        self.flush()
        if self._sync_error is not None:
            raise self._sync_error
        try:
            os.fdatasync(self._fd)
        except OSError as exc:
            self._sync_error = JournalError("fsync", self.path, exc)
            raise self._sync_error from exc

    def close(self) -> None:
        """Flush and close the file (closed even when the flush fails)."""
        if self._fd >= 0:
            try:
                self.flush()
            finally:
                os.close(self._fd)
                self._fd = -1


def read_journal(path: str | os.PathLike[str]) -> tuple[list[tuple[int, Command]], list[str]]:
    """All good (receipt ns, command) records and warnings about a dropped tail."""
    records, warnings, _, _ = _scan(os.fspath(path))
    return records, warnings


def _scan(path: str) -> tuple[list[tuple[int, Command]], list[str], int | None, int]:
    """Records, warnings, the length to truncate to (None when the file is clean), and where
    the records end (a zero-filled tail follows a clean end)."""
    if not os.path.exists(path):
        return [], [], None, 0
    with open(path, "rb") as f:
        data = f.read()
    if not data:
        return [], [], None, 0
    if not data.startswith(MAGIC):
        head = data.rstrip(b"\0")  # (zero-filled before its header was written)
        if MAGIC.startswith(head):
            return [], [f"{path}: truncated header dropped"] if head else [], 0, 0
        raise ValueError(f"{path} is not an ATS journal (bad header)")
    out: list[tuple[int, Command]] = []
    pos, n = len(MAGIC), len(data)
    while pos < n:
        if pos + _HDR.size > n:
            if not data[pos:].strip(b"\0"):
                break  # the zero-filled tail: the clean end
            return out, [f"{path}: truncated record header at byte {pos} dropped"], pos, pos
        length, crc = _HDR.unpack_from(data, pos)
        if length == 0:  # no record is empty: the zero-filled tail, or a hole a crash left
            if not data[pos:].strip(b"\0"):
                break
            hole = f"{path}: a hole of zeros at byte {pos}; what follows it dropped"
            return out, [hole], pos, pos
        start, end = pos + _HDR.size, pos + _HDR.size + length
        payload = data[start:end]
        if end > n or zlib.crc32(payload) != crc:
            return out, [f"{path}: truncated or corrupt record at byte {pos} dropped"], pos, pos
        if payload[:1] == _COMPACT_NEW_ORDER:
            out.append(_decode_new_order_compact(payload))
        else:
            rec = pickle.loads(payload)
            out.append((rec[0], _BY_TAG[rec[1]].decode(rec)))
        pos = end
    return out, [], None, pos
