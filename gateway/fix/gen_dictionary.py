"""Generate ``_fix42_spec.py`` from QuickFIX's ``spec/FIX42.xml``.

Usage: ``python -m gateway.fix.gen_dictionary path/to/FIX42.xml`` rewrites
``gateway/fix/_fix42_spec.py`` (committed; the XML is not needed at run time).
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from pprint import pformat

OUT = Path(__file__).with_name("_fix42_spec.py")


def _members(elem: ET.Element, numbers: dict[str, int]) -> tuple[object, ...]:
    """(fields {tag: required}, groups {count_tag: (delimiter, fields, groups)}) of a node."""
    fields: dict[int, bool] = {}
    groups: dict[int, object] = {}
    for child in elem:
        tag = numbers[child.attrib["name"]]
        fields[tag] = child.attrib.get("required") == "Y"
        if child.tag == "group":
            sub_fields, sub_groups = _members(child, numbers)
            first = numbers[child[0].attrib["name"]]
            groups[tag] = (first, sub_fields, sub_groups)
    return fields, groups


def read_spec(xml_path: Path) -> tuple[
    dict[int, tuple[str, str]],
    dict[int, tuple[str, ...]],
    dict[int, bool],
    dict[int, bool],
    dict[str, tuple[object, ...]],
]:
    """(fields, enums, header, trailer, messages) of a QuickFIX DataDictionary XML file.

    The shapes are those of ``_fix42_spec`` (see its docstring).
    """
    root = ET.parse(xml_path).getroot()
    numbers: dict[str, int] = {}
    fields: dict[int, tuple[str, str]] = {}
    enums: dict[int, tuple[str, ...]] = {}
    for f in root.find("fields") or []:
        num = int(f.attrib["number"])
        numbers[f.attrib["name"]] = num
        fields[num] = (f.attrib["name"], f.attrib["type"])
        values = tuple(v.attrib["enum"] for v in f.findall("value"))
        if values:
            enums[num] = values
    header, _ = _members(root.find("header"), numbers)  # type: ignore[arg-type]
    trailer, _ = _members(root.find("trailer"), numbers)  # type: ignore[arg-type]
    messages: dict[str, tuple[object, ...]] = {}
    for m in root.find("messages") or []:
        body, groups = _members(m, numbers)
        messages[m.attrib["msgtype"]] = (m.attrib["name"], m.attrib["msgcat"], body, groups)
    return fields, enums, header, trailer, messages  # type: ignore[return-value]


def generate(xml_path: Path) -> str:
    """Return the Python source of the generated module."""
    fields, enums, header, trailer, messages = read_spec(xml_path)
    parts = [
        '"""FIX 4.2 data dictionary generated from QuickFIX spec/FIX42.xml by gen_dictionary.py.',
        "",
        "Do not edit by hand. FIELDS: tag -> (name, type); ENUMS: tag -> allowed values;",
        "HEADER/TRAILER: tag -> required; MESSAGES: msgtype -> (name, category, body fields",
        '{tag: required}, groups {count_tag: (delimiter, fields, groups)})."""',
        "",
        "# ruff: noqa: E501",
        "from typing import Any",
        "",
        f"FIELDS: dict[int, tuple[str, str]] = {pformat(fields, width=100)}",
        "",
        f"ENUMS: dict[int, tuple[str, ...]] = {pformat(enums, width=100)}",
        "",
        f"HEADER: dict[int, bool] = {pformat(header, width=100)}",
        "",
        f"TRAILER: dict[int, bool] = {pformat(trailer, width=100)}",
        "",
        f"MESSAGES: dict[str, Any] = {pformat(messages, width=100)}",
        "",
    ]
    return "\n".join(parts)


def main() -> None:
    """Entry point: write the generated module next to this file."""
    OUT.write_text(generate(Path(sys.argv[1])))


if __name__ == "__main__":
    main()
