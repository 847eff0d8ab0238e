"""config/FIX42-ATS.xml: a coherent QuickFIX DataDictionary that carries the ATS dialect."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

DICT_PATH = Path(__file__).parents[2] / "config" / "FIX42-ATS.xml"

# QuickFIX's DataDictionary field types for FIX 4.2.
QUICKFIX_TYPES = {
    "AMT", "BOOLEAN", "CHAR", "CURRENCY", "DATA", "DAYOFMONTH", "EXCHANGE", "FLOAT", "INT",
    "LENGTH", "LOCALMKTDATE", "MONTHYEAR", "MULTIPLEVALUESTRING", "PERCENTAGE", "PRICE",
    "PRICEOFFSET", "QTY", "STRING", "UTCDATE", "UTCTIMEONLY", "UTCTIMESTAMP",
}

# tag -> (name, type, enum values or None for free text)
DIALECT_FIELDS: dict[int, tuple[str, str, set[str] | None]] = {
    851: ("LastLiquidityInd", "INT", {"1", "2"}),
    5700: ("LocateBroker", "STRING", None),
    7001: ("OrderClass", "CHAR", {"F", "C"}),
    7002: ("ConditionalOrderRef", "STRING", None),
    7010: ("DoNotCrossPrincipal", "BOOLEAN", {"Y", "N"}),
    7011: ("InclusionLevel", "INT", {"1", "2", "3", "4", "5"}),
    7012: ("MinQtyInstruction", "CHAR", {"A", "C"}),
    7013: ("ConditionalInteraction", "BOOLEAN", {"Y", "N"}),
    7101: ("LULDState", "INT", {"0", "1", "2"}),
    7102: ("ShortSaleRestriction", "BOOLEAN", {"Y", "N"}),
}

ORDER_TAGS = {7001, 7002, 7010, 7011, 7012, 7013, 5700}
MESSAGE_TAGS: dict[str, set[int]] = {
    "D": ORDER_TAGS,
    "F": ORDER_TAGS,
    "G": ORDER_TAGS,
    "8": {851, 7001},
    "f": {7101, 7102},
}

# Standard FIX 4.2 values the gateway sends or accepts (SPEC sections 2-3).
USED_VALUES: dict[int, set[str]] = {
    18: {"M", "R", "P", "6"},
    20: {"0"},
    39: {"0", "1", "2", "4", "5", "8"},
    40: {"1", "2", "5", "P"},
    47: {"A", "P", "R"},
    54: {"1", "2", "5", "6"},
    59: {"0", "3", "7"},  # 7 At the Close (MOC), added by the dialect
    103: {"0", "1", "3", "4", "6", "99"},
    114: {"Y", "N"},
    150: {"0", "1", "2", "4", "5", "8"},
    269: {"0", "1", "5"},  # 5 Closing Price (the MOC cross)
    326: {"2", "17"},
}


@pytest.fixture(scope="module")
def root() -> ET.Element:
    return ET.parse(DICT_PATH).getroot()


@pytest.fixture(scope="module")
def fields_by_tag(root: ET.Element) -> dict[int, ET.Element]:
    fields = root.find("fields")
    assert fields is not None
    return {int(f.attrib["number"]): f for f in fields}


def _messages(root: ET.Element) -> dict[str, ET.Element]:
    messages = root.find("messages")
    assert messages is not None
    return {m.attrib["msgtype"]: m for m in messages}


def _references(node: ET.Element) -> list[str]:
    """Names of the fields and groups a header, trailer, message or component uses."""
    return [el.attrib["name"] for el in node.iter() if el.tag in ("field", "group")
            and el is not node]


def test_is_fix42_with_header_and_trailer(root: ET.Element) -> None:
    assert (root.get("major"), root.get("minor")) == ("4", "2")
    header, trailer = root.find("header"), root.find("trailer")
    assert header is not None and trailer is not None
    assert _references(header)[:3] == ["BeginString", "BodyLength", "MsgType"]
    assert _references(trailer)[-1] == "CheckSum"


def test_field_numbers_and_names_are_unique(root: ET.Element) -> None:
    fields = root.find("fields")
    assert fields is not None
    numbers = [f.attrib["number"] for f in fields]
    names = [f.attrib["name"] for f in fields]
    assert len(numbers) == len(set(numbers))
    assert len(names) == len(set(names))


def test_every_referenced_field_is_defined(root: ET.Element) -> None:
    fields = root.find("fields")
    assert fields is not None
    defined = {f.attrib["name"] for f in fields}
    users = [root.find("header"), root.find("trailer"), *root.iter("message"),
             *root.iter("component")]
    undefined = {(u.get("name", u.tag), name) for u in users if u is not None
                 for name in _references(u) if name not in defined}
    assert undefined == set()


def test_field_types_are_quickfix_types(root: ET.Element) -> None:
    fields = root.find("fields")
    assert fields is not None
    assert {f.attrib["type"] for f in fields} <= QUICKFIX_TYPES


def test_no_message_lists_a_field_twice(root: ET.Element) -> None:
    for msgtype, message in _messages(root).items():
        top = [el.attrib["name"] for el in message]
        assert len(top) == len(set(top)), msgtype


def test_standard_messages_are_all_there(root: ET.Element) -> None:
    msgtypes = set(_messages(root))
    session = {"0", "1", "2", "3", "4", "5", "A"}
    app = {"D", "F", "G", "8", "9", "W", "V", "f", "j", "E", "R", "S"}
    assert session | app <= msgtypes
    # FIX 4.2's message count in QuickFIX's FIX42.xml, and the dialect's FirmUpRequest
    assert len(msgtypes - {"UF"}) == 46


@pytest.mark.parametrize("tag", sorted(DIALECT_FIELDS))
def test_dialect_field_defined(fields_by_tag: dict[int, ET.Element], tag: int) -> None:
    name, ftype, values = DIALECT_FIELDS[tag]
    field = fields_by_tag[tag]
    assert (field.attrib["name"], field.attrib["type"]) == (name, ftype)
    enums = {v.attrib["enum"] for v in field.iter("value")}
    assert enums == (values or set())


@pytest.mark.parametrize("msgtype", sorted(MESSAGE_TAGS))
def test_dialect_fields_attached_as_optional(
    root: ET.Element, fields_by_tag: dict[int, ET.Element], msgtype: str
) -> None:
    message = _messages(root)[msgtype]
    top = {el.attrib["name"]: el.attrib["required"] for el in message if el.tag == "field"}
    for tag in MESSAGE_TAGS[msgtype]:
        name = fields_by_tag[tag].attrib["name"]
        assert top.get(name) == "N", f"{msgtype} lacks optional {name} ({tag})"


def test_dialect_fields_only_where_meant(
    root: ET.Element, fields_by_tag: dict[int, ET.Element]
) -> None:
    dialect_names = {fields_by_tag[t].attrib["name"]: t for t in DIALECT_FIELDS}
    for msgtype, message in _messages(root).items():
        used = {dialect_names[n] for n in _references(message) if n in dialect_names}
        assert used == MESSAGE_TAGS.get(msgtype, set()), msgtype


@pytest.mark.parametrize("tag", sorted(USED_VALUES))
def test_values_the_gateway_uses_are_enumerated(
    fields_by_tag: dict[int, ET.Element], tag: int
) -> None:
    enums = {v.attrib["enum"] for v in fields_by_tag[tag].iter("value")}
    assert USED_VALUES[tag] <= enums


def test_market_data_snapshot_is_standard(root: ET.Element) -> None:
    snapshot = _messages(root)["W"]
    group = snapshot.find("group[@name='NoMDEntries']")
    assert group is not None
    assert {"MDEntryType", "MDEntryPx", "MDEntrySize"} <= set(_references(group))


def test_file_names_its_origin_and_licence() -> None:
    head = DICT_PATH.read_text(encoding="utf-8")[:6000]
    assert head.startswith("<!--")
    assert "QuickFIX" in head and "FIX42.xml" in head
    assert "The QuickFIX Software License" in head


def test_firm_up_request_message(root: ET.Element, fields_by_tag: dict[int, ET.Element]) -> None:
    """SPEC 5.1: FirmUpRequest, user-defined MsgType UF: 11, 37, 55, 54, 38, 126, 60 (and the
    ExecID that identifies it), the same layout the gateway's own dictionary checks."""
    from gateway.fix import MESSAGES

    message = _messages(root)["UF"]
    assert (message.attrib["name"], message.attrib["msgcat"]) == ("FirmUpRequest", "app")
    numbers = {f.attrib["name"]: n for n, f in fields_by_tag.items()}
    layout = {numbers[el.attrib["name"]]: el.attrib["required"] == "Y" for el in message}
    assert layout == {11: True, 37: True, 17: False, 55: True, 54: True, 38: True, 126: True,
                      60: True}
    assert set(layout) == MESSAGES["UF"].fields
    assert {t for t, req in layout.items() if req} == MESSAGES["UF"].required
    assert "UF" in {v.attrib["enum"] for v in fields_by_tag[35].iter("value")}
