"""Dictionary validation of a parsed message (QuickFIX DataDictionary semantics).

``validate(msg)`` returns the first problem as ``Problem(reason, tag)`` (a SessionRejectReason
code and the RefTagID, or None for the tag) or None when the message is valid.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from gateway.fix.codec import Message, parse_utc
from gateway.fix.dictionary import (
    ENUMS,
    FIELD_TYPES,
    HEADER_FIELDS,
    MESSAGES,
    MULTI_VALUE,
    REQUIRED_HEADER,
    TRAILER_FIELDS,
    GroupDef,
    RejectReason,
)


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


def _char(v: str) -> bool:
    return len(v) == 1


def _bool(v: str) -> bool:
    return v == "Y" or v == "N"


def _timestamp(v: str) -> bool:
    return parse_utc(v) is not None


_TYPE_CHECK: dict[str, Callable[[str], object]] = {
    "INT": _INT,
    "LENGTH": _INT,
    "SEQNUM": _INT,
    "NUMINGROUP": _INT,
    "DAYOFMONTH": _INT,
    "FLOAT": _FLOAT,
    "QTY": _FLOAT,
    "PRICE": _FLOAT,
    "PRICEOFFSET": _FLOAT,
    "AMT": _FLOAT,
    "CHAR": _char,
    "BOOLEAN": _bool,
    "UTCTIMESTAMP": _timestamp,
    "UTCTIMEONLY": _TIME_ONLY.fullmatch,
    "UTCDATE": _DATE,
    "LOCALMKTDATE": _DATE,
    "MONTHYEAR": _MONTH_YEAR,
}
# tag -> format check, only for tags whose type has one (STRING, DATA... have none)
VALUE_CHECK: dict[int, Callable[[str], object]] = {
    tag: _TYPE_CHECK[typ] for tag, typ in FIELD_TYPES.items() if typ in _TYPE_CHECK
}


# Values that rarely repeat (sequence numbers, timestamps): not worth caching.
_VOLATILE = frozenset(t for t, typ in FIELD_TYPES.items() if typ in ("UTCTIMESTAMP", "SEQNUM"))
_VOLATILE |= {34, 9, 10}


def check_value(tag: int, value: str) -> Problem | None:
    """Format (6) and enumeration (5) check of one value."""
    chk = VALUE_CHECK.get(tag)
    if chk is not None and not chk(value):
        return Problem(RejectReason.INCORRECT_DATA_FORMAT, tag)
    allowed = ENUMS.get(tag)
    if allowed is not None and value not in allowed:
        if tag not in MULTI_VALUE or not all(v in allowed for v in value.split(" ")):
            return Problem(RejectReason.VALUE_INCORRECT, tag)
    return None


# Checked by the session itself on every message (SendingTime is parsed for its accuracy
# check, MsgSeqNum for sequencing), so the fast path does not check their format twice.
SESSION_CHECKED = frozenset({34, 52})


@dataclass(frozen=True, slots=True)
class _Fast:
    """Per message type sets for the set-algebra fast path (no repeating group present)."""

    group_tags: frozenset[int]
    allowed: frozenset[int]
    required: frozenset[int]
    checked: frozenset[int]


_FAST: dict[str, _Fast] = {
    mt: _Fast(
        group_tags=frozenset(m.groups),
        allowed=HEADER_FIELDS | TRAILER_FIELDS | m.fields,
        required=frozenset(REQUIRED_HEADER) | m.required,
        checked=frozenset(t for t in HEADER_FIELDS | TRAILER_FIELDS | m.fields
                          if (t in VALUE_CHECK or t in ENUMS) and t not in SESSION_CHECKED),
    )
    for mt, m in MESSAGES.items()
}
_HEADER_TEXT = frozenset(str(t) for t in HEADER_FIELDS)  # as the tags appear on the wire
_good_values: set[tuple[int, str]] = set()  # (tag, value) pairs already found valid


def validate(msg: Message) -> Problem | None:
    """First dictionary problem of ``msg`` (already framed and parsed), or None."""
    fast = _FAST.get(msg.msg_type)
    if fast is not None and not msg.no_value:
        # C-level set checks; any doubt falls through to the exact walk below.
        present = msg._map
        tags = present.keys()
        if (
            len(present) == msg.field_count
            and fast.group_tags.isdisjoint(tags)
            and fast.required <= tags
            and fast.allowed >= tags
            and _HEADER_TEXT.issuperset(msg._flat[0 : 2 * len(HEADER_FIELDS & tags) : 2])
        ):
            good = _good_values
            for tag in fast.checked & tags:
                value = present[tag]
                if (tag, value) in good:
                    continue
                problem = check_value(tag, value)
                if problem is not None:
                    return problem
                if tag not in _VOLATILE:
                    if len(good) > 100_000:
                        good.clear()
                    good.add((tag, value))
            return None
    return _validate_walk(msg)


def _validate_walk(msg: Message) -> Problem | None:
    """The exact field-by-field walk (reports the first problem in wire order)."""
    mdef = MESSAGES.get(msg.msg_type)
    if mdef is None:
        return Problem(RejectReason.INVALID_MSG_TYPE)
    present = msg._map
    for tag in REQUIRED_HEADER:
        if tag not in present:
            return Problem(RejectReason.REQUIRED_TAG_MISSING, tag)
    for tag in mdef.required:
        if tag not in present:
            return Problem(RejectReason.REQUIRED_TAG_MISSING, tag)
    fields = msg.fields
    body_tags = mdef.fields
    groups = mdef.groups
    seen: set[int] = set()
    in_body = False
    end = len(fields) - 1  # the CheckSum is last (checked by the parser)
    i = 3
    while i < end:
        tag, value = fields[i]
        if tag in HEADER_FIELDS:
            if in_body:
                return Problem(RejectReason.TAG_OUT_OF_ORDER, tag)
        elif tag not in body_tags:
            if tag not in FIELD_TYPES:
                return Problem(RejectReason.INVALID_TAG_NUMBER, tag)
            if tag not in TRAILER_FIELDS:
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
            i, problem = _validate_group(fields, i, end, groups[tag], int(value))
            if problem is not None:
                return problem
    return None


def _validate_group(
    fields: list[tuple[int, str]], i: int, end: int, gdef: GroupDef, count: int
) -> tuple[int, Problem | None]:
    """Walk the instances of a group starting at ``fields[i]``; return the next index."""
    instances = 0
    seen: set[int] = set()
    while i < end:
        tag, value = fields[i]
        if tag == gdef.delimiter:
            if instances and not gdef.required <= seen:
                return i, Problem(RejectReason.REQUIRED_TAG_MISSING, min(gdef.required - seen))
            instances += 1
            seen = set()
        elif tag not in gdef.fields or not instances or tag in seen:
            break
        seen.add(tag)
        if not value:
            return i, Problem(RejectReason.TAG_WITHOUT_VALUE, tag)
        problem = check_value(tag, value)
        if problem is not None:
            return i, problem
        i += 1
        sub = gdef.groups.get(tag)
        if sub is not None:
            i, problem = _validate_group(fields, i, end, sub, int(value))
            if problem is not None:
                return i, problem
    if instances and not gdef.required <= seen:
        return i, Problem(RejectReason.REQUIRED_TAG_MISSING, min(gdef.required - seen))
    if instances != count:
        return i, Problem(RejectReason.INCORRECT_NUM_IN_GROUP, gdef.count_tag)
    return i, None
