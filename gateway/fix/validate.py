"""Dictionary validation of a parsed message (QuickFIX DataDictionary semantics).

``validate(msg)`` returns the first problem as ``Problem(reason, tag)`` (a SessionRejectReason
code and the RefTagID, or None for the tag) or None when the message is valid. It checks
against the acceptor's dictionary; ``Validator(load_dictionary(xml))`` checks against another
(the tools' initiator uses config/FIX42-ATS.xml, the dialect the venue ships).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

from gateway.fix._build import speedups
from gateway.fix.codec import MAX_INT, MIN_INT, Message, layout_key, utc_timestamp_ok
from gateway.fix.dictionary import STANDARD, Dictionary, GroupDef, RejectReason


@dataclass(frozen=True, slots=True)
class Problem:
    """Why a message is rejected: SessionRejectReason and the tag it refers to."""

    reason: RejectReason
    tag: int | None = None


_INT = re.compile(r"-?[0-9]+").fullmatch
_FLOAT = re.compile(r"-?(?:[0-9]+\.?[0-9]*|\.[0-9]+)").fullmatch
_TIME_ONLY = re.compile(r"(?:[01][0-9]|2[0-3]):[0-5][0-9]:(?:[0-5][0-9]|60)(?:\.[0-9]{1,9})?")
_DATE = re.compile(r"[0-9]{4}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])").fullmatch
_MONTH_YEAR = re.compile(r"[0-9]{4}(?:0[1-9]|1[0-2])(?:[0-9]{2}|w[1-5])?").fullmatch


def _int(v: str) -> bool:
    """An integer that fits INT (signed 32-bit, as QuickFIX): larger is a format error."""
    return len(v) <= 20 and _INT(v) is not None and MIN_INT <= int(v) <= MAX_INT


def _char(v: str) -> bool:
    return len(v) == 1


def _bool(v: str) -> bool:
    return v == "Y" or v == "N"


_TYPE_CHECK: dict[str, Callable[[str], object]] = {
    "INT": _int,
    "LENGTH": _int,
    "SEQNUM": _int,
    "NUMINGROUP": _int,
    "DAYOFMONTH": _int,
    "FLOAT": _FLOAT,
    "QTY": _FLOAT,
    "PRICE": _FLOAT,
    "PRICEOFFSET": _FLOAT,
    "AMT": _FLOAT,
    "CHAR": _char,
    "BOOLEAN": _bool,
    "UTCTIMESTAMP": utc_timestamp_ok,
    "UTCTIMEONLY": _TIME_ONLY.fullmatch,
    "UTCDATE": _DATE,
    "LOCALMKTDATE": _DATE,
    "MONTHYEAR": _MONTH_YEAR,
}
if speedups is not None:
    # values_ok runs these checks in C (each equal to its Python function here: tests)
    speedups.set_checks(_FLOAT, _int, _char, _bool, utc_timestamp_ok)
# Checked by the session itself on every message (SendingTime is parsed for its accuracy
# check, MsgSeqNum for sequencing), so the fast path does not check their format twice.
SESSION_CHECKED = frozenset({34, 52})
# The exact walk starts after MsgType and stops before CheckSum (the parser placed them).
_NOT_WALKED = frozenset({8, 9, 35, 10})


@dataclass(frozen=True, slots=True)
class _Plan:
    """What the fast path checks for one message layout (type + tags in wire order).

    ``ok`` is False when the layout itself has a problem (or a repeating group, which only
    the walk understands): such messages always take the exact walk.
    """

    ok: bool
    # By the value's place in the message's flat list (tag text, value, tag text, ...):
    enums: tuple[tuple[int, frozenset[str]], ...] = ()  # single-valued enums: allowed values
    formats: tuple[tuple[int, Callable[[str], object]], ...] = ()  # format not implied by enum
    multi: tuple[tuple[int, int], ...] = ()  # multi-valued (tag, place): check_value
    # values_ok's memory: the value object that last passed each check (enums, then formats)
    passed: list[object] = field(default_factory=list)


def _values_ok_py(
    present: dict[int, str] | list[str],
    enums: tuple[tuple[int, frozenset[str]], ...],
    formats: tuple[tuple[int, Callable[[str], object]], ...],
    passed: list[object] | None = None,
) -> bool:
    """A plan's value checks: each enumerated value allowed, each format check passed; the
    values are ``present[k]`` for the k of each pair (a tag of a map, or a place in a
    message's flat list). ``_speedups.values_ok`` is the compiled twin; it keeps in
    ``passed`` (one slot per check) the value object that last passed each check, and passes
    that same object again without checking it (the parser gives a value equal to the last
    one of its tag as the same object). The result does not depend on ``passed``: this
    reference ignores it (in the pure build every value is a new object)."""
    for tag, allowed in enums:
        if present[tag] not in allowed:
            return False
    for tag, check in formats:
        if not check(present[tag]):
            return False
    return True


# (Final: compiled, a static read, not a lookup in the module's dict per call)
_values_ok: Final = speedups.values_ok if speedups is not None else _values_ok_py
#: the plan key of a layout (``codec.layout_key``; ``_speedups.plan_key`` is the compiled twin)
_plan_key_py = layout_key
_plan_key: Final = speedups.plan_key if speedups is not None else _plan_key_py
_NO_PLAN = _Plan(ok=False)
_MAX_PLANS = 4096  # distinct layouts remembered (bounded: layouts are the sender's choice)


class Validator:
    """Validation against one dictionary (the acceptor's ``STANDARD``, or a loaded dialect)."""

    def __init__(self, d: Dictionary) -> None:
        self.d = d
        # tag -> format check, only for tags whose type has one (STRING, DATA... have none)
        self.value_check: dict[int, Callable[[str], object]] = {
            tag: _TYPE_CHECK[typ] for tag, typ in d.field_types.items() if typ in _TYPE_CHECK
        }
        # Enumerated tags whose valid values all pass the type's format check as well.
        self._enum_implies_format = frozenset(
            tag for tag, values in d.enums.items()
            if tag not in d.multi_value and all(self.value_check.get(tag, bool)(v) for v in values)
        )
        self._plans: dict[bytes, _Plan] = {}
        # the last plan used and its key (a run of one layout skips the dict lookup)
        self._last_key = b""
        self._last_plan = _NO_PLAN

    def check_value(self, tag: int, value: str) -> Problem | None:
        """Format (6) and enumeration (5) check of one value."""
        chk = self.value_check.get(tag)
        if chk is not None and not chk(value):
            return Problem(RejectReason.INCORRECT_DATA_FORMAT, tag)
        allowed = self.d.enums.get(tag)
        if allowed is not None and value not in allowed:
            if tag not in self.d.multi_value or not all(v in allowed for v in value.split(" ")):
                return Problem(RejectReason.VALUE_INCORRECT, tag)
        return None

    def _plan(self, msg_type: str, shape: tuple[int, ...]) -> _Plan:
        """The plan for a layout without repeated tags: the walk's structural checks, once."""
        d = self.d
        mdef = d.messages.get(msg_type)
        if mdef is None:
            return _NO_PLAN
        tags = frozenset(shape)
        if (
            not tags.isdisjoint(mdef.groups)
            or not tags >= mdef.required
            or not tags.issuperset(d.required_header)
            or not tags <= d.header_fields | d.trailer_fields | mdef.fields
            or not d.header_fields.issuperset(shape[: len(d.header_fields & tags)])
        ):
            return _NO_PLAN
        # (tag, where its value is in the message's flat list: tag text, value, ...)
        walked = [(t, 2 * i + 1) for i, t in enumerate(shape)
                  if t not in _NOT_WALKED and t not in SESSION_CHECKED]
        enums, multi_value, value_check = d.enums, d.multi_value, self.value_check
        enum_checks = tuple(
            (at, enums[t]) for t, at in walked if t in enums and t not in multi_value)
        format_checks = tuple(
            (at, value_check[t]) for t, at in walked
            if t in value_check and t not in self._enum_implies_format and t not in multi_value
        )
        return _Plan(
            ok=True,
            enums=enum_checks,
            formats=format_checks,
            passed=[None] * (len(enum_checks) + len(format_checks)),
            multi=tuple(
                (t, at) for t, at in walked
                if t in multi_value and (t in enums or t in value_check)
            ),
        )

    def _new_plan(self, key: bytes, msg_type: str, shape: tuple[int, ...]) -> _Plan:
        plans = self._plans
        if len(plans) >= _MAX_PLANS:
            plans.clear()
        plan = self._plan(msg_type, shape)
        plans[key] = plan
        return plan

    def validate(self, msg: Message) -> Problem | None:
        """First dictionary problem of ``msg`` (already framed and parsed), or None.

        The formats of MsgSeqNum(34) and SendingTime(52) are left to the session, which reads
        both on every message (``SESSION_CHECKED``).
        """
        key = msg.layout_key  # made by the parser when no tag is repeated
        if key is None:
            present = msg._map
            if len(present) << 1 != len(msg._flat) or msg.no_value:
                return self.walk(msg)
            key = _plan_key(msg.msg_type, present)
            if key is None:
                return self.walk(msg)
        # No repeated tag, so the map's keys are the tags in wire order: the layout's plan
        # (a pure function of type and layout) proves the structure; only the values that
        # have a check are then looked at, by their place in the flat list. Any problem found
        # goes to the exact walk, which reports the first problem in wire order.
        if key is self._last_key:  # the parser gives an unchanged layout as the same key
            plan = self._last_plan
        else:
            found = self._plans.get(key)
            plan = found if found is not None else self._new_plan(
                key, msg.msg_type, tuple(msg._map))
            self._last_key = key
            self._last_plan = plan
        if plan.ok:
            flat = msg._flat
            if not _values_ok(flat, plan.enums, plan.formats, plan.passed):
                return self.walk(msg)
            for tag, at in plan.multi:
                if self.check_value(tag, flat[at]) is not None:
                    return self.walk(msg)
            return None
        return self.walk(msg)

    def walk(self, msg: Message) -> Problem | None:
        """The exact field-by-field walk (reports the first problem in wire order)."""
        d = self.d
        mdef = d.messages.get(msg.msg_type)
        if mdef is None:
            return Problem(RejectReason.INVALID_MSG_TYPE)
        present = msg._map
        for tag in d.required_header:
            if tag not in present:
                return Problem(RejectReason.REQUIRED_TAG_MISSING, tag)
        for tag in mdef.required:
            if tag not in present:
                return Problem(RejectReason.REQUIRED_TAG_MISSING, tag)
        header_fields, trailer_fields, field_types = (
            d.header_fields, d.trailer_fields, d.field_types)
        check_value = self.check_value
        fields = msg.fields
        body_tags = mdef.fields
        groups = mdef.groups
        seen: set[int] = set()
        in_body = False
        end = len(fields) - 1  # the CheckSum is last (checked by the parser)
        i = 3
        while i < end:
            tag, value = fields[i]
            if tag in header_fields:
                if in_body:
                    return Problem(RejectReason.TAG_OUT_OF_ORDER, tag)
            elif tag not in body_tags:
                if tag not in field_types:
                    return Problem(RejectReason.INVALID_TAG_NUMBER, tag)
                if tag not in trailer_fields:
                    return Problem(RejectReason.TAG_NOT_DEFINED_FOR_MSG_TYPE, tag)
            else:
                in_body = True
            if tag in seen:
                return Problem(RejectReason.TAG_APPEARS_MORE_THAN_ONCE, tag)
            seen.add(tag)
            if not value:
                return Problem(RejectReason.TAG_WITHOUT_VALUE, tag)
            problem = check_value(tag, value)
            if problem is not None:
                return problem
            i += 1
            if tag in groups:
                i, problem = self._group(fields, i, end, groups[tag], int(value))
                if problem is not None:
                    return problem
        return None

    def _group(
        self, fields: list[tuple[int, str]], i: int, end: int, gdef: GroupDef, count: int
    ) -> tuple[int, Problem | None]:
        """Walk the instances of a group starting at ``fields[i]``; return the next index."""
        instances = 0
        seen: set[int] = set()
        while i < end:
            tag, value = fields[i]
            if tag == gdef.delimiter:
                if instances and not gdef.required <= seen:
                    missing = min(gdef.required - seen)
                    return i, Problem(RejectReason.REQUIRED_TAG_MISSING, missing)
                instances += 1
                seen = set()
            elif tag not in gdef.fields or not instances or tag in seen:
                break
            seen.add(tag)
            if not value:
                return i, Problem(RejectReason.TAG_WITHOUT_VALUE, tag)
            problem = self.check_value(tag, value)
            if problem is not None:
                return i, problem
            i += 1
            sub = gdef.groups.get(tag)
            if sub is not None:
                i, problem = self._group(fields, i, end, sub, int(value))
                if problem is not None:
                    return i, problem
        if instances and not gdef.required <= seen:
            return i, Problem(RejectReason.REQUIRED_TAG_MISSING, min(gdef.required - seen))
        if instances != count:
            return i, Problem(RejectReason.INCORRECT_NUM_IN_GROUP, gdef.count_tag)
        return i, None


#: The acceptor's validator (QuickFIX FIX 4.2 plus the dialect tags, ``dictionary.STANDARD``).
STANDARD_VALIDATOR = Validator(STANDARD)
validate = STANDARD_VALIDATOR.validate
check_value = STANDARD_VALIDATOR.check_value
VALUE_CHECK = STANDARD_VALIDATOR.value_check
_validate_walk = STANDARD_VALIDATOR.walk
