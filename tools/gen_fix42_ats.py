"""Generate config/FIX42-ATS.xml: QuickFIX's FIX 4.2 DataDictionary plus the ATS dialect.

Usage: python tools/gen_fix42_ats.py UPSTREAM_FIX42.xml [OUTPUT]

UPSTREAM_FIX42.xml is spec/FIX42.xml of the QuickFIX distribution (the `quickfix` sdist on
PyPI carries it: `pip download --no-deps --no-binary :all: quickfix==1.16.0`). The edits are
textual insertions so that `diff` against the upstream file shows exactly the dialect and
nothing else; the result is then parsed and checked before it is written.
"""

from __future__ import annotations

import re
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

SOURCE = "QuickFIX 1.16.0 spec/FIX42.xml (PyPI sdist quickfix-1.16.0)"

QUICKFIX_LICENSE = """\
The QuickFIX Software License, Version 1.0

Copyright (c) 2001-2020 Oren Miller

Redistribution and use in source and binary forms, with or without
modification, are permitted provided that the following conditions
are met:

1. Redistributions of source code must retain the above copyright
   notice, this list of conditions and the following disclaimer.

2. Redistributions in binary form must reproduce the above copyright
   notice, this list of conditions and the following disclaimer in
   the documentation and/or other materials provided with the
   distribution.

3. The end-user documentation included with the redistribution,
   if any, must include the following acknowledgment:
      "This product includes software developed by
       quickfixengine.org (http://www.quickfixengine.org/)."
   Alternately, this acknowledgment may appear in the software itself,
   if and wherever such third-party acknowledgments normally appear.

4. The names "QuickFIX" and "quickfixengine.org" must
   not be used to endorse or promote products derived from this
   software without prior written permission. For written
   permission, please contact ask@quickfixengine.org

5. Products derived from this software may not be called "QuickFIX",
   nor may "QuickFIX" appear in their name, without prior written
   permission of quickfixengine.org

THIS SOFTWARE IS PROVIDED ``AS IS'' AND ANY EXPRESSED OR IMPLIED
WARRANTIES, INCLUDING, BUT NOT LIMITED TO, THE IMPLIED WARRANTIES
OF MERCHANTABILITY AND FITNESS FOR A PARTICULAR PURPOSE ARE
DISCLAIMED.  IN NO EVENT SHALL QUICKFIXENGINE.ORG OR
ITS CONTRIBUTORS BE LIABLE FOR ANY DIRECT, INDIRECT, INCIDENTAL,
SPECIAL, EXEMPLARY, OR CONSEQUENTIAL DAMAGES (INCLUDING, BUT NOT
LIMITED TO, PROCUREMENT OF SUBSTITUTE GOODS OR SERVICES; LOSS OF
USE, DATA, OR PROFITS; OR BUSINESS INTERRUPTION) HOWEVER CAUSED AND
ON ANY THEORY OF LIABILITY, WHETHER IN CONTRACT, STRICT LIABILITY,
OR TORT (INCLUDING NEGLIGENCE OR OTHERWISE) ARISING IN ANY WAY OUT
OF THE USE OF THIS SOFTWARE, EVEN IF ADVISED OF THE POSSIBILITY OF
SUCH DAMAGE."""

BOOLEAN = (("N", "NO"), ("Y", "YES"))


@dataclass(frozen=True, slots=True)
class NewField:
    """A field FIX 4.2 does not define, added by the dialect."""

    number: int
    name: str
    type: str
    values: tuple[tuple[str, str], ...] = ()
    note: str = ""


NEW_FIELDS: tuple[NewField, ...] = (
    NewField(851, "LastLiquidityInd", "INT", (("1", "ADDED_LIQUIDITY"), ("2", "REMOVED_LIQUIDITY")),
             "FIX 4.3+ tag, used on fills"),
    NewField(5700, "LocateBroker", "STRING", (), "broker that gave the short-sale locate"),
    NewField(7001, "OrderClass", "CHAR", (("C", "CONDITIONAL"), ("F", "FIRM")), "default F"),
    NewField(7002, "ConditionalOrderRef", "STRING", (),
             "on a firm-up order: ClOrdID of the conditional it firms up"),
    NewField(7010, "DoNotCrossPrincipal", "BOOLEAN", BOOLEAN, "default N"),
    NewField(7011, "InclusionLevel", "INT",
             tuple((str(n), f"LEVEL_{n}") for n in range(1, 6)),
             "1..5, default the session's default_inclusion_level"),
    NewField(7012, "MinQtyInstruction", "CHAR", (("A", "ALL_OR_NONE"), ("C", "CANCEL_LEAVES")),
             "leaves below MinQty; default A"),
    NewField(7013, "ConditionalInteraction", "BOOLEAN", BOOLEAN,
             "Y: firm order may interact with conditionals"),
    NewField(7101, "LULDState", "INT",
             (("0", "NORMAL"), ("1", "LIMIT_STATE"), ("2", "STRADDLE_STATE")), ""),
    NewField(7102, "ShortSaleRestriction", "BOOLEAN", BOOLEAN, "Rule 201 in effect"),
)

ORDER_FIELDS = ("OrderClass", "ConditionalOrderRef", "DoNotCrossPrincipal", "InclusionLevel",
                "MinQtyInstruction", "ConditionalInteraction", "LocateBroker")

# msgtype -> optional fields the dialect adds to that message
MESSAGE_FIELDS: dict[str, tuple[str, ...]] = {
    "D": ORDER_FIELDS,
    "F": ORDER_FIELDS,
    "G": ORDER_FIELDS,
    "8": ("LastLiquidityInd", "OrderClass"),
    "f": ("LULDState", "ShortSaleRestriction"),
}

# Application messages the dialect adds: (name, msgtype, ((field, required), ...)).
# FirmUpRequest (SPEC 5.1) goes to a conditional order's session; ExecID identifies it.
NEW_MESSAGES: tuple[tuple[str, str, tuple[tuple[str, bool], ...]], ...] = (
    ("FirmUpRequest", "UF", (("ClOrdID", True), ("OrderID", True), ("ExecID", False),
                             ("Symbol", True), ("Side", True), ("OrderQty", True),
                             ("ExpireTime", True), ("TransactTime", True))),
)

# Values the gateway may send that FIX 4.2's enums lack (99 = Other, as FIX 4.3 defines it;
# CxlRejReason 6 = duplicate ClOrdID, as FIX 4.4 defines it), so a validating client does not
# reject the ExecutionReport / OrderCancelReject carrying them; and TimeInForce 7 = At the
# Close (FIX 4.3+), which MOC orders may carry.
EXTRA_VALUES: dict[int, tuple[tuple[str, str], ...]] = {
    59: (("7", "AT_THE_CLOSE"),),
    35: (("UF", "FIRM_UP_REQUEST"),),
    102: (("6", "DUPLICATE_CLORDID_RECEIVED"), ("99", "OTHER")),
    103: (("99", "OTHER"),),
}

# Values the dialect uses that FIX 4.2 already defines: checked, not added.
REQUIRED_EXISTING: dict[int, tuple[str, ...]] = {
    18: ("M", "R", "P", "6"),
    20: ("0",),
    39: ("0", "1", "2", "4", "5", "8"),
    40: ("1", "2", "5", "P"),
    47: ("A", "P", "R"),
    54: ("1", "2", "5", "6"),
    59: ("0", "3"),
    114: ("N", "Y"),
    103: ("0", "1", "3", "4", "6"),
    150: ("0", "1", "2", "4", "5", "8"),
    269: ("0", "1", "5"),
    326: ("2", "17"),
}


def _field_xml(field: NewField) -> str:
    head = f"  <field number='{field.number}' name='{field.name}' type='{field.type}'"
    if not field.values:
        return head + " />\n"
    body = "".join(f"   <value enum='{e}' description='{d}' />\n" for e, d in field.values)
    return f"{head}>\n{body}  </field>\n"


def _insert_before(text: str, start: str, end: str, insert: str) -> str:
    """Insert `insert` before the first `end` after the unique occurrence of `start`."""
    if text.count(start) != 1:
        raise ValueError(f"expected exactly one {start!r} in the upstream file")
    at = text.index(end, text.index(start))
    return text[:at] + insert + text[at:]


def _add_message_fields(text: str) -> str:
    for msgtype, names in MESSAGE_FIELDS.items():
        lines = "   <!-- ATS dialect -->\n" + "".join(
            f"   <field name='{n}' required='N' />\n" for n in names)
        text = _insert_before(text, f"msgtype='{msgtype}'", "  </message>\n", lines)
    return text


def _add_messages(text: str) -> str:
    block = "  <!-- ATS dialect -->\n"
    for name, msgtype, fields in NEW_MESSAGES:
        block += f"  <message name='{name}' msgtype='{msgtype}' msgcat='app'>\n" + "".join(
            f"   <field name='{f}' required='{'Y' if req else 'N'}' />\n" for f, req in fields
        ) + "  </message>\n"
    return _insert_before(text, "<messages>", " </messages>\n", block)


def _add_enum_values(text: str) -> str:
    for number, values in EXTRA_VALUES.items():
        lines = "   <!-- ATS dialect -->\n" + "".join(
            f"   <value enum='{e}' description='{d}' />\n" for e, d in values)
        text = _insert_before(text, f"<field number='{number}' ", "  </field>\n", lines)
    return text


def _add_fields(text: str) -> str:
    block = "  <!-- ATS dialect -->\n" + "".join(_field_xml(f) for f in NEW_FIELDS)
    return _insert_before(text, "<fields>", " </fields>\n", block)


def header_comment() -> str:
    """The XML comment that opens the generated file."""
    added = [f"  {f.number} {f.name} ({f.type}"
             + (": " + ", ".join(f"{e}={d}" for e, d in f.values) if f.values else "")
             + ")" + (f" - {f.note}" if f.note else "") for f in NEW_FIELDS]
    msgs = [f"  {t}: {', '.join(n)}" for t, n in MESSAGE_FIELDS.items()]
    new_msgs = [f"  {t} {name}: " + ", ".join(f + ("" if req else " (optional)")
                                             for f, req in fields)
                for name, t, fields in NEW_MESSAGES]
    extra = [f"  {n}: " + ", ".join(f"{e}={d}" for e, d in v) for n, v in EXTRA_VALUES.items()]
    checked = [f"  {n}: {' '.join(v)}" for n, v in REQUIRED_EXISTING.items()]
    return "\n".join([
        "<!--",
        "FIX 4.2 DataDictionary for the ATS gateway (FIX dialect of the NMS Stock ATS).",
        "",
        f"Base: {SOURCE}, unchanged except for the",
        "insertions that follow an 'ATS dialect' comment (header, trailer and all other",
        "messages are as upstream). Generated by tools/gen_fix42_ats.py; regenerate it",
        "rather than editing by hand.",
        "",
        "Fields added (all optional):",
        *added,
        "Optional fields added to messages (by MsgType):",
        *msgs,
        "Application messages added:",
        *new_msgs,
        "Enum values added to FIX 4.2 fields:",
        *extra,
        "FIX 4.2 values the dialect uses, already in the base (checked by the generator):",
        *checked,
        "MarketDataSnapshotFullRefresh (W) is unchanged (269=5 Closing Price runs the MOC cross).",
        "",
        "The base file is distributed under the QuickFIX licence:",
        "",
        QUICKFIX_LICENSE,
        "-->",
        "",
    ])


def check(text: str) -> None:
    """Fail loudly if the result is not a coherent dictionary with the dialect in it."""
    root = ET.fromstring(text)
    fields = root.find("fields")
    assert fields is not None
    numbers = [f.get("number") for f in fields]
    names = [f.get("name") for f in fields]
    if len(set(numbers)) != len(numbers) or len(set(names)) != len(names):
        raise ValueError("duplicate field number or name")
    by_number = {int(f.get("number", "0")): f for f in fields}
    for number, wanted in REQUIRED_EXISTING.items():
        have = {v.get("enum") for v in by_number[number]}
        missing = set(wanted) - have
        if missing:
            raise ValueError(f"tag {number} lacks {sorted(missing)}: add them to EXTRA_VALUES")
    messages = root.find("messages")
    assert messages is not None
    types = {m.get("msgtype") for m in messages}
    enum35 = {v.get("enum") for v in by_number[35]}
    field_names = set(names)
    for name, msgtype, fields_ in NEW_MESSAGES:
        if msgtype not in types or msgtype not in enum35:
            raise ValueError(f"message {name} ({msgtype}) missing or not a MsgType value")
        unknown = {f for f, _ in fields_} - field_names
        if unknown:
            raise ValueError(f"message {name} names undefined fields {sorted(unknown)}")


def generate(upstream: str) -> str:
    """Return the dialect dictionary built from the upstream FIX42.xml text."""
    text = _add_fields(_add_enum_values(_add_messages(_add_message_fields(upstream))))
    out = header_comment() + text
    if "--" in header_comment()[4:-4]:
        raise ValueError("'--' is not allowed inside an XML comment")
    check(out)
    return out


def main(argv: list[str]) -> int:
    """Command-line entry: read upstream, write the dialect file."""
    if len(argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    upstream = Path(argv[1]).read_text(encoding="utf-8")
    if not re.match(r"<fix type='FIX' major='4' minor='2'", upstream):
        print(f"{argv[1]}: not QuickFIX's FIX42.xml", file=sys.stderr)
        return 1
    out = Path(argv[2]) if len(argv) == 3 else Path(__file__).parents[1] / "config/FIX42-ATS.xml"
    out.write_text(generate(upstream), encoding="utf-8")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
