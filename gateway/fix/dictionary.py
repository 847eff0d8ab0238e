"""Compact FIX 4.2 data dictionary: fields, types, enums, header/trailer, message layouts.

Built from ``_fix42_spec`` (generated from QuickFIX's spec/FIX42.xml) plus the gateway's
dialect tags (SPEC section 3). Lookups are plain dicts and frozensets for the hot path.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path
from typing import Any

from gateway.fix import _fix42_spec as spec


class RejectReason(IntEnum):
    """SessionRejectReason (373) codes (13-17 are FIX 4.3+ values QuickFIX also knows)."""

    INVALID_TAG_NUMBER = 0
    REQUIRED_TAG_MISSING = 1
    TAG_NOT_DEFINED_FOR_MSG_TYPE = 2
    UNDEFINED_TAG = 3
    TAG_WITHOUT_VALUE = 4
    VALUE_INCORRECT = 5
    INCORRECT_DATA_FORMAT = 6
    COMPID_PROBLEM = 9
    SENDING_TIME_ACCURACY = 10
    INVALID_MSG_TYPE = 11
    TAG_APPEARS_MORE_THAN_ONCE = 13
    TAG_OUT_OF_ORDER = 14
    INCORRECT_NUM_IN_GROUP = 16


REJECT_TEXT: dict[int, str] = {
    0: "Invalid tag number",
    1: "Required tag missing",
    2: "Tag not defined for this message type",
    3: "Undefined Tag",
    4: "Tag specified without a value",
    5: "Value is incorrect (out of range) for this tag",
    6: "Incorrect data format for value",
    9: "CompID problem",
    10: "SendingTime accuracy problem",
    11: "Invalid MsgType",
    13: "Tag appears more than once",
    14: "Tag specified out of required order",
    16: "Incorrect NumInGroup count for repeating group",
}


@dataclass(frozen=True, slots=True)
class GroupDef:
    """A repeating group: its NumInGroup tag, delimiter (first) tag and member tags."""

    count_tag: int
    delimiter: int
    fields: frozenset[int]
    required: frozenset[int]
    groups: dict[int, GroupDef]


@dataclass(frozen=True, slots=True)
class MessageDef:
    """A message type: body tags (top level), required body tags, repeating groups."""

    msg_type: str
    name: str
    category: str  # "admin" | "app"
    fields: frozenset[int]
    required: frozenset[int]
    groups: dict[int, GroupDef]


# Dialect tags (SPEC section 3) and the one FIX 4.3+ tag we send on fills.
DIALECT_FIELDS: dict[int, tuple[str, str]] = {
    851: ("LastLiquidityInd", "INT"),
    5700: ("LocateBroker", "STRING"),
    7001: ("OrderClass", "CHAR"),
    7002: ("ConditionalOrderRef", "STRING"),
    7010: ("DoNotCrossPrincipal", "BOOLEAN"),
    7011: ("InclusionLevel", "INT"),
    7012: ("MinQtyInstruction", "CHAR"),
    7013: ("ConditionalInteraction", "BOOLEAN"),
    7101: ("LULDState", "INT"),
    7102: ("ShortSaleRestriction", "BOOLEAN"),
}
_ORDER_DIALECT = (5700, 7001, 7002, 7010, 7011, 7012, 7013)
DIALECT_IN_MESSAGES: dict[str, tuple[int, ...]] = {
    "D": _ORDER_DIALECT,
    "G": _ORDER_DIALECT,
    "F": (7001,),
    "8": (851, 5700, 7001, 7002, 7010, 7011, 7012, 7013),
    "f": (7101, 7102),
}

FIELDS: dict[int, tuple[str, str]] = {**spec.FIELDS, **DIALECT_FIELDS}
FIELD_TYPES: dict[int, str] = {tag: typ for tag, (_, typ) in FIELDS.items()}
# Values FIX 4.2's enums lack that the dialect takes: TimeInForce 7 At the Close (FIX 4.3+),
# on MOC orders. (MDEntryType 5 Closing Price, for the MOC cross, is FIX 4.2's own.)
DIALECT_VALUES: dict[int, tuple[str, ...]] = {59: ("7",)}
ENUMS: dict[int, frozenset[str]] = {
    tag: frozenset(v) | frozenset(DIALECT_VALUES.get(tag, ())) for tag, v in spec.ENUMS.items()
}
MULTI_VALUE: frozenset[int] = frozenset(
    t for t, typ in FIELD_TYPES.items() if typ == "MULTIPLEVALUESTRING"
)
HEADER_FIELDS: frozenset[int] = frozenset(spec.HEADER)
REQUIRED_HEADER: tuple[int, ...] = tuple(t for t, req in spec.HEADER.items() if req)
TRAILER_FIELDS: frozenset[int] = frozenset(spec.TRAILER)
ADMIN_MSG_TYPES: frozenset[str] = frozenset({"0", "1", "2", "3", "4", "5", "A"})


def _group(count_tag: int, raw: Any) -> GroupDef:
    delimiter, members, subgroups = raw
    return GroupDef(
        count_tag=count_tag,
        delimiter=delimiter,
        fields=frozenset(members),
        required=frozenset(t for t, r in members.items() if r),
        groups={t: _group(t, g) for t, g in subgroups.items()},
    )


def _build_messages() -> dict[str, MessageDef]:
    out: dict[str, MessageDef] = {}
    for msg_type, (name, category, body, groups) in spec.MESSAGES.items():
        tags = set(body) | set(DIALECT_IN_MESSAGES.get(msg_type, ()))
        out[msg_type] = MessageDef(
            msg_type=msg_type,
            name=name,
            category=category,
            fields=frozenset(tags),
            required=frozenset(t for t, r in body.items() if r),
            groups={t: _group(t, g) for t, g in groups.items()},
        )
    return out


MESSAGES: dict[str, MessageDef] = _build_messages()

# The dialect's own application message (SPEC 5.1), sent to a conditional order's session.
FIRM_UP_REQUEST = "UF"
MESSAGES[FIRM_UP_REQUEST] = MessageDef(
    msg_type=FIRM_UP_REQUEST,
    name="FirmUpRequest",
    category="app",
    fields=frozenset({11, 37, 17, 55, 54, 38, 126, 60}),
    required=frozenset({11, 37, 55, 54, 38, 126, 60}),
    groups={},
)

# The inbound application types the gateway takes (per session role, chosen by the caller)
# and the outbound ones it sends, for documentation and for SessionSettings.app_msg_types.
ORDER_ENTRY_INBOUND: frozenset[str] = frozenset({"D", "F", "G"})
MARKET_DATA_INBOUND: frozenset[str] = frozenset({"W", "f"})
OUTBOUND_APP: frozenset[str] = frozenset({"8", "9", "j", FIRM_UP_REQUEST})


def field_name(tag: int) -> str:
    """Name of a tag, or its number as text."""
    entry = FIELDS.get(tag)
    return entry[0] if entry else str(tag)


@dataclass(frozen=True, slots=True)
class Dictionary:
    """One dialect's tables, as ``validate.Validator`` reads them."""

    field_types: dict[int, str]
    enums: dict[int, frozenset[str]]
    multi_value: frozenset[int]
    header_fields: frozenset[int]
    required_header: tuple[int, ...]
    trailer_fields: frozenset[int]
    messages: dict[str, MessageDef]


#: The acceptor's dictionary: QuickFIX's FIX 4.2 plus the dialect tags above.
STANDARD = Dictionary(
    FIELD_TYPES, ENUMS, MULTI_VALUE, HEADER_FIELDS, REQUIRED_HEADER, TRAILER_FIELDS, MESSAGES
)


def load_dictionary(xml_path: Path) -> Dictionary:
    """A dictionary read from a QuickFIX DataDictionary XML file (e.g. config/FIX42-ATS.xml).

    The file is the whole dialect: fields, enums, header, trailer and messages all come from it.
    """
    from gateway.fix.gen_dictionary import read_spec

    fields, enums, header, trailer, raw_messages = read_spec(xml_path)
    field_types = {tag: typ for tag, (_, typ) in fields.items()}
    messages: dict[str, MessageDef] = {}
    for msg_type, raw in raw_messages.items():
        name, category, body, groups = raw
        assert isinstance(body, dict) and isinstance(groups, dict)
        messages[msg_type] = MessageDef(
            msg_type=msg_type,
            name=str(name),
            category=str(category),
            fields=frozenset(body),
            required=frozenset(t for t, r in body.items() if r),
            groups={t: _group(t, g) for t, g in groups.items()},
        )
    return Dictionary(
        field_types=field_types,
        enums={tag: frozenset(v) for tag, v in enums.items()},
        multi_value=frozenset(t for t, typ in field_types.items() if typ == "MULTIPLEVALUESTRING"),
        header_fields=frozenset(header),
        required_header=tuple(t for t, req in header.items() if req),
        trailer_fields=frozenset(trailer),
        messages=messages,
    )
