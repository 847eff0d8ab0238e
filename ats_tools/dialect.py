"""The FIX dialect the tools speak: config/FIX42-ATS.xml, read at run time (the one truth).

The venue ships that DataDictionary to its participants; the tools validate what the gateway
sends against it, so every value the venue may send (OrdRejReason 99, CxlRejReason 6...) and
every message type it defines is accepted and shown.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

from gateway.fix.dictionary import Dictionary, load_dictionary
from gateway.fix.validate import Validator

XML_NAME = "FIX42-ATS.xml"


def dialect_path() -> Path:
    """Where the installed FIX42-ATS.xml is (package data of ``ats_config``)."""
    return Path(str(resources.files("ats_config").joinpath(XML_NAME)))


@cache
def dialect(path: Path | None = None) -> Dictionary:
    """The dialect's dictionary (loaded once per process)."""
    return load_dictionary(path or dialect_path())


@cache
def dialect_validator(path: Path | None = None) -> Validator:
    """A validator of inbound messages against the dialect."""
    return Validator(dialect(path))


def app_msg_types(path: Path | None = None) -> frozenset[str]:
    """Every application message type of the dialect (what the tools take from the gateway)."""
    return frozenset(t for t, m in dialect(path).messages.items() if m.category == "app")
