"""The compiled hot path (gateway/fix/_speedups.c) against its Python twins, byte for byte.

The Python functions are the reference. Where the extension was built, the compiled modules must
be the ones in use (unless ATS_PURE=1 asks for the pure build), and each compiled function must
give exactly what its twin gives, for every message type and any field values. CI runs the whole
suite twice: once as built, once with ATS_PURE=1.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import os
import subprocess
import sys
import zlib
from pathlib import Path
from types import ModuleType

import pytest
from fixhelp import order
from hypothesis import given, settings
from hypothesis import strategies as st
from test_fastpaths import EDITS, LONG, STREAM, _mutate

from gateway.fix import _build, codec, session, store
from gateway.fix.dictionary import MESSAGES

# (the package's ``validate`` is the function; the module is reached by its name)
validate_module = importlib.import_module("gateway.fix.validate")
FIX_DIR = Path(codec.__file__).parent
BUILT = [
    p for p in FIX_DIR.iterdir()
    if p.name.startswith("_speedups.") and p.name.endswith(
        tuple(importlib.machinery.EXTENSION_SUFFIXES))
]
PURE = os.environ.get("ATS_PURE", "") not in ("", "0")


def _speedups() -> ModuleType:
    if not BUILT:
        pytest.skip("the extension is not built here (no C compiler at install)")
    from gateway.fix import _speedups

    return _speedups


def test_compiled_modules_are_the_ones_imported_when_built() -> None:
    if PURE or not BUILT:
        assert _build.BUILD == "pure"
        assert codec.build is codec._build_py and store._record is store._record_py
        assert validate_module._values_ok is validate_module._values_ok_py
        assert validate_module._plan_key is validate_module._plan_key_py
        assert store._append_record is store._append_record_py
        assert session.build is codec._build_py
        return
    sp = _speedups()
    assert _build.BUILD == "compiled"
    assert codec.build is sp.build
    assert codec._scan is sp.scan
    assert codec._parse_fast is sp.parse
    assert codec._frame is sp.frame
    assert store._record is sp.record
    assert store._append_record is sp.append_record
    assert validate_module._values_ok is sp.values_ok
    assert validate_module._plan_key is sp.plan_key
    assert session.build is sp.build  # what send_app encodes with


def test_ats_pure_selects_the_python_twins() -> None:
    code = ("from gateway.fix import _build, codec, store; "
            "print(_build.BUILD, codec.build is codec._build_py, "
            "store._record is store._record_py, codec._scan is codec._scan_py)")
    env = dict(os.environ, ATS_PURE="1")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True, cwd=FIX_DIR.parents[1])
    assert out.stdout.split() == ["pure", "True", "True", "True"]


# Values as they reach the encoder: any latin-1 text without SOH (a value the gateway writes
# never holds one), tags, sequence numbers and SendingTimes of any length.
VALUE = st.text(st.characters(min_codepoint=2, max_codepoint=255), max_size=40).map(
    lambda s: s.encode("latin-1"))
# any tag but those the encoder writes itself (a body repeating 34 would hide the MsgSeqNum)
TAG = st.integers(1, 20000).filter(lambda t: t not in (8, 9, 10, 34, 35))


def _body(msg_type: str, data: st.DataObject) -> bytes:
    tags = sorted(MESSAGES[msg_type].fields) or [58]
    chosen = data.draw(st.lists(st.sampled_from(tags) | TAG, max_size=25))
    return b"".join(b"%d=%s\x01" % (t, data.draw(VALUE)) for t in chosen)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(sorted(MESSAGES)), st.integers(1, codec.MAX_INT), VALUE, VALUE, VALUE,
       st.data())
def test_compiled_encoder_equals_pure_encoder_for_every_message_type(
    msg_type: str, seq: int, sender: bytes, target: bytes, stamp: bytes, data: st.DataObject
) -> None:
    sp = _speedups()
    mid, tail = b"\x0149=%s\x0152=" % sender, b"\x0156=%s\x01" % target
    extra = data.draw(st.sampled_from([b"", b"115=%s\x01" % target, b"43=Y\x01"]))
    body = _body(msg_type, data)
    begin = data.draw(st.sampled_from([b"8=FIX.4.2\x01", b"8=FIX.4.4\x01", b"8=X\x01"]))
    args = (begin, msg_type.encode(), seq, mid, stamp, tail, extra, body)
    raw = sp.build(*args)
    assert raw == codec._build_py(*args)
    assert sp.frame(body, begin) == codec._frame_py(body, begin)
    # and what it encodes reads back as sent
    msg = codec.parse(raw)
    assert msg.msg_type == msg_type and msg.seq_num == seq


def test_compiled_encoder_equals_pure_for_every_type_with_the_gateway_header() -> None:
    sp = _speedups()
    for msg_type in sorted(MESSAGES):
        body = b"".join(b"%d=V%d\x01" % (t, t) for t in sorted(MESSAGES[msg_type].fields))
        args = (b"8=FIX.4.2\x01", msg_type.encode(), 7, b"\x0149=ISLD\x0152=",
                b"20231114-22:13:20.000", b"\x0156=TW42\x01", b"115=TW42\x01", body)
        assert sp.build(*args) == codec._build_py(*args), msg_type


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([b"C", b"S", b"T", b"M"]), st.integers(0, 2**64 - 1),
       st.binary(max_size=600))
def test_compiled_store_record_equals_pure(kind: bytes, value: int, payload: bytes) -> None:
    sp = _speedups()
    assert sp.record(kind, value, payload) == store._record_py(kind, value, payload)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=1100), st.integers(0, 2**32 - 1), st.integers(0, 15))
def test_compiled_crc32_equals_zlib_by_either_code(data: bytes, start: int, skip: int) -> None:
    """The store records' CRC-32 (carry-less multiplication from 64 bytes on where the CPU has
    it, tables otherwise) is zlib's, at any length, start value and alignment."""
    sp = _speedups()
    view = memoryview(data)[skip:]
    want = zlib.crc32(view, start)
    assert sp.crc32(view, start) == want
    assert sp.crc32(view, start, True) == want


def test_compiled_crc32_every_length_and_the_cpu_path() -> None:
    sp = _speedups()
    data = bytes(range(256)) * 5
    for n in range(len(data)):
        assert sp.crc32(data[:n]) == zlib.crc32(data[:n]), n
    with open("/proc/cpuinfo") as f:
        has_clmul = " pclmulqdq" in f.read()
    if os.uname().machine == "x86_64" and has_clmul and "ATS_NO_CLMUL" not in os.environ:
        assert sp.CRC_CLMUL == 1  # the fast path is the one in use
    else:
        assert sp.CRC_CLMUL in (0, 1)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=700))
def test_compiled_byte_sum_equals_pure(data: bytes) -> None:
    assert _speedups().byte_sum(data) == codec.byte_sum(data) == sum(data)


def _scanned(scan: object, buf: bytes) -> list[object]:
    steps: list[object] = []
    pos = 0
    while pos < len(buf):
        out: list[bytes] = []
        new = scan(buf, pos, out)  # type: ignore[operator]
        steps.append((new, out))
        pos = max(new, pos + 1)  # step over what it left, as the exact path would
    return steps


@settings(max_examples=400, deadline=None)
@given(EDITS)
def test_compiled_frame_scan_equals_pure_on_damaged_streams(
    edits: list[tuple[int, int, int]],
) -> None:
    sp = _speedups()
    stream = _mutate(b"".join(STREAM) + LONG, edits)
    assert _scanned(sp.scan, stream) == _scanned(codec._scan_py, stream)


def test_compiled_frame_scan_equals_pure_for_every_single_byte_edit() -> None:
    sp = _speedups()
    raw, tail = order(2), order(3)
    for i in range(len(raw) + 1):
        for byte in range(19):
            for kind in (0, 1, 2):
                buf = _mutate(raw, [(kind, i, byte)]) + tail
                assert _scanned(sp.scan, buf) == _scanned(codec._scan_py, buf), (i, kind)


def _parsed(fn: object, raw: bytes) -> object:
    got = fn(raw)  # type: ignore[operator]
    return None if got is None else (list(got[0]), dict(got[1]))


@settings(max_examples=400, deadline=None)
@given(EDITS)
def test_compiled_parse_equals_pure_or_leaves_it_to_the_exact_parser(
    edits: list[tuple[int, int, int]],
) -> None:
    sp = _speedups()
    for raw in (_mutate(order(3), edits), _mutate(LONG, edits)):
        fast = _parsed(sp.parse, raw)
        if fast is not None:  # what it takes, it takes exactly as the Python twin does
            assert fast == _parsed(codec._parse_fast_py, raw), raw
            assert fast == (codec._parse_slow(raw)._flat, codec._parse_slow(raw)._map)


def test_compiled_parse_equals_pure_for_every_single_byte_edit() -> None:
    sp = _speedups()
    raw = order(2)
    for i in range(len(raw) + 1):
        for byte in range(19):
            for kind in (0, 1, 2):
                bad = _mutate(raw, [(kind, i, byte)])
                fast = _parsed(sp.parse, bad)
                if fast is not None:
                    assert fast == _parsed(codec._parse_fast_py, bad), bad
    assert _parsed(sp.parse, raw) == _parsed(codec._parse_fast_py, raw) is not None


CHECKS = [validate_module._FLOAT, validate_module._int, validate_module._char,
          codec.utc_timestamp_ok]
SMALL_VALUE = st.sampled_from(["1", "2", "A", "-3", "1.5", "20231114-22:13:20.000", "Y", "x1",
                               "", "99999999999"])


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.integers(1, 60), SMALL_VALUE, min_size=1, max_size=12), st.data())
def test_compiled_plan_value_checks_equal_pure(
    present: dict[int, str], data: st.DataObject
) -> None:
    sp = _speedups()
    tags = sorted(present)
    enums = tuple(
        (t, frozenset(data.draw(st.lists(SMALL_VALUE, max_size=4))))
        for t in data.draw(st.lists(st.sampled_from(tags), max_size=4, unique=True)))
    formats = tuple(
        (t, data.draw(st.sampled_from(CHECKS)))
        for t in data.draw(st.lists(st.sampled_from(tags), max_size=4, unique=True)))
    assert sp.values_ok(present, enums, formats) is validate_module._values_ok_py(
        present, enums, formats)


def test_compiled_parse_gives_a_repeated_value_as_the_same_object() -> None:
    sp = _speedups()
    first, second = sp.parse(order(2)), sp.parse(order(3))
    assert first is not None and second is not None
    assert (list(second[0]), second[1]) == _parsed(codec._parse_fast_py, order(3))
    assert second[1][55] is first[1][55] and second[1][49] is first[1][49]
    assert second[1][34] == "3" and first[1][34] == "2"


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["8", "9", "35", "10", "55", "5", "55", "-1", "x", "55=1"])
                | st.text(st.characters(min_codepoint=32, max_codepoint=0x3FF), max_size=12),
                max_size=30))
def test_compiled_parse_with_repeated_values_equals_pure(values: list[str]) -> None:
    """One parse after another, the values (equal ones given as the same object) are those
    of the Python twin."""
    sp = _speedups()
    tags = [11, 55, 58, 1, 999]
    for k in range(3):
        body = "".join(f"{tags[(i + k) % len(tags)]}={v}\x01"
                       for i, v in enumerate(values[k:])).encode("latin-1", "replace")
        raw = codec.frame(b"35=D\x01" + body)
        assert _parsed(sp.parse, raw) == _parsed(codec._parse_fast_py, raw)


MSG_TYPE = st.sampled_from(["D", "8", "AE", "", "\xff"]) | st.text(max_size=3) | st.text(
    min_size=250, max_size=260)


@settings(max_examples=300, deadline=None)
@given(MSG_TYPE, st.lists(st.integers(-(2**31), 2**31 - 1) | st.integers(-(2**40), 2**40)
                          | st.sampled_from([8, 9, 35, 34, 10]) | st.booleans(), max_size=80))
def test_compiled_plan_key_equals_pure(msg_type: str, tags: list[int]) -> None:
    sp = _speedups()
    present = dict.fromkeys(tags, "v")
    key = sp.plan_key(msg_type, present)
    assert key == validate_module._plan_key_py(msg_type, present)
    if key is not None and len(present) < 64:  # distinct layouts, distinct keys
        other = dict.fromkeys([*present, 2**31 - 1 if 2**31 - 1 not in present else 7], "v")
        assert sp.plan_key(msg_type, other) != key


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=100), st.sampled_from([b"C", b"S", b"T", b"M"]),
       st.integers(0, 2**64 - 1), st.binary(max_size=600), st.integers(0, 40))
def test_compiled_append_record_equals_pure(
    before: bytes, kind: bytes, value: int, payload: bytes, consumed: int
) -> None:
    sp = _speedups()
    ours, theirs = bytearray(before), bytearray(before)
    del ours[:consumed], theirs[:consumed]  # a bytearray written in part, as FileStore's is
    at = sp.append_record(ours, kind, value, payload)
    assert at == store._append_record_py(theirs, kind, value, payload)
    assert ours == theirs and ours[at - 13 :] == store._record_py(kind, value, payload)


FORMAT_CHECKS = [validate_module._FLOAT, validate_module._int, validate_module._char,
                 validate_module._bool, codec.utc_timestamp_ok]
DIGITS = st.text("0123456789", min_size=1, max_size=4)


@st.composite
def timestamps(draw: st.DrawFn) -> str:
    """UTCTimestamps near the edge of validity (any month and day number, leap years)."""
    year = draw(st.sampled_from([0, 1, 1900, 2000, 2023, 2024, 2100, 9999]) | st.integers(0, 9999))
    text = (f"{year:04d}{draw(st.integers(0, 13)):02d}{draw(st.integers(0, 32)):02d}-"
            f"{draw(st.integers(0, 24)):02d}:{draw(st.integers(0, 60)):02d}:"
            f"{draw(st.integers(0, 61)):02d}")
    text += draw(st.sampled_from(["", "."]) | DIGITS.map(lambda d: "." + d * 3))
    return draw(st.sampled_from([text, text[:-1], text + "Z", text.replace("-", "+", 1)]))


FORMAT_VALUE = (st.text("0123456789-.YN :²\u0660x", max_size=24) | timestamps()
                | st.integers(-(2**33), 2**33).map(str)
                | st.sampled_from(["-", ".", "-.", "1.", "¹"]))


@settings(max_examples=1000, deadline=None)
@given(st.sampled_from(FORMAT_CHECKS), FORMAT_VALUE)
def test_compiled_format_checks_equal_their_python_functions(check: object, value: str) -> None:
    """The checks set_checks hands to C (run by values_ok) give what the Python function gives
    (an exception included: year 0 is left to Python)."""
    sp = _speedups()
    try:
        expected: object = bool(check(value))  # type: ignore[operator]
    except ValueError as exc:
        expected = type(exc)
    try:
        got: object = sp.check(check, value)  # type: ignore[arg-type]
    except ValueError as exc:
        got = type(exc)
    assert got == expected, (check, value)
    if expected is not ValueError:
        assert sp.values_ok({1: value}, (), ((1, check),)) is expected


# ---------------------------------------------------------------- the mypyc-compiled modules


def _setup_mypyc_modules() -> list[str]:
    """setup.py's MYPYC_MODULES as module names (read, not run: running setup.py builds)."""
    import ast

    tree = ast.parse((FIX_DIR.parents[1] / "setup.py").read_text())
    for node in tree.body:
        if (isinstance(node, ast.AnnAssign | ast.Assign)
                and "MYPYC_MODULES" in ast.unparse(node).split("=", 1)[0]):
            assert node.value is not None
            paths = ast.literal_eval(node.value)
            return [p.removesuffix(".py").replace("/", ".") for p in paths]
    raise AssertionError("setup.py has no MYPYC_MODULES")


def test_mypyc_modules_are_the_ones_imported_when_built() -> None:
    """Every module mypyc compiled is imported compiled (or, with ATS_PURE=1, none is)."""
    import matcher.engine
    from matcher import _pure

    compiled = _pure.compiled_modules()
    if not compiled:
        pytest.skip("mypyc modules not built here (no C compiler or no mypyc at install)")
    # exactly the modules setup.py lists (none left out of the build, none left over from an
    # older one)
    assert set(compiled) == set(_setup_mypyc_modules())
    for name in compiled:
        mod = importlib.import_module(name)
        assert _pure.is_compiled(mod) is (not PURE), (name, mod.__file__)
    assert _build.MYPYC is (not PURE) and _pure.is_compiled(matcher.engine) is (not PURE)


def test_ats_pure_imports_the_matcher_source() -> None:
    modules = ["matcher.engine", "matcher.book", "gateway.fix.codec", "gateway.fix.validate",
               "gateway.fix.store", "gateway.fix.session"]
    code = ("import sys, gateway.orders, " + ", ".join(modules) + "; "
            f"print(*(sys.modules[m].__file__.endswith('.py') for m in {modules!r}))")
    env = dict(os.environ, ATS_PURE="1")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True, cwd=FIX_DIR.parents[1])
    assert out.stdout.split() == ["True"] * len(modules)


def test_a_compiled_module_whose_source_changed_is_stale(tmp_path: Path) -> None:
    """An edit after the install must not run the old compiled code: the module is named stale
    (and install() then imports the whole source). A source written after its .so (as a wheel
    install may) but unchanged is not stale."""
    import hashlib

    from matcher import _pure

    pkg = tmp_path / "matcher"
    pkg.mkdir()
    suffix = importlib.machinery.EXTENSION_SUFFIXES[0]
    manifest = []
    for stem in ("engine", "book", "moc"):
        (pkg / f"{stem}.py").write_text(f"# {stem}\n")
        (pkg / f"{stem}{suffix}").write_bytes(b"")
        digest = hashlib.sha256(f"# {stem}\n".encode()).hexdigest()
        if stem != "moc":  # moc: compiled but not in the manifest
            manifest.append(f"{digest}  matcher/{stem}.py\n")
    (pkg / f"hot__mypyc{suffix}").write_bytes(b"")  # the group library: no source of its own
    (pkg / "_compiled.sha256").write_text("".join(manifest))
    assert set(_pure.compiled_modules(tmp_path)) == {
        "matcher.engine", "matcher.book", "matcher.moc"}
    assert _pure.stale_modules(tmp_path) == ["matcher.moc"]
    (pkg / "book.py").write_text("# book, edited\n")
    assert _pure.stale_modules(tmp_path) == ["matcher.book", "matcher.moc"]


def _keyed(fn: object, raw: bytes) -> tuple[list[str], dict[int, str], bytes | None] | None:
    got = fn(raw)  # type: ignore[operator]
    return None if got is None else (list(got[0]), dict(got[1]), got[2])


@settings(max_examples=300, deadline=None)
@given(EDITS, st.lists(st.sampled_from([11, 55, 58, 1, 999, 44, 11]), max_size=6))
def test_compiled_parse_makes_the_layout_key_of_the_python_twin(
    edits: list[tuple[int, int, int]], extra: list[int]
) -> None:
    """The layout key parse makes as it goes is codec.layout_key of what it parsed (None when
    a tag is repeated), as the Python twin gives it; an unchanged layout, the same object."""
    sp = _speedups()
    body = b"".join(b"%d=v%d\x01" % (t, i) for i, t in enumerate(extra))
    for raw in (_mutate(order(3), edits), _mutate(LONG, edits),
                codec.frame(b"35=D\x01" + body), codec.frame(b"35=" + b"x" * 300 + b"\x01" + body)):
        fast = _keyed(sp.parse, raw)
        assert fast == _keyed(codec._parse_fast_py, raw), raw
        if fast is not None:
            flat, tag_map, key = fast
            repeated = len(tag_map) * 2 != len(flat)
            assert key == (None if repeated else codec.layout_key(flat[5], tag_map))
            again = sp.parse(raw)
            assert again is not None and (again[2] is key or key is None)


def _draw_checks(
    data: st.DataObject, places: st.SearchStrategy[int], most: int
) -> tuple[tuple[tuple[int, frozenset[str]], ...], tuple[tuple[int, object], ...]]:
    """A plan's value checks at some places: (place, allowed values) and (place, format)."""
    enums = tuple(
        (at, frozenset(data.draw(st.lists(SMALL_VALUE, max_size=4))))
        for at in data.draw(st.lists(places, max_size=most, unique=True)))
    formats = tuple(
        (at, data.draw(st.sampled_from(CHECKS)))
        for at in data.draw(st.lists(places, max_size=most, unique=True)))
    return enums, formats


@settings(max_examples=300, deadline=None)
@given(st.lists(SMALL_VALUE, min_size=1, max_size=12), st.data())
def test_compiled_plan_value_checks_by_place_equal_pure(
    flat: list[str], data: st.DataObject
) -> None:
    """values_ok over a message's flat list, by place (as the plans call it)."""
    sp = _speedups()
    places = st.integers(-len(flat), len(flat) - 1)
    enums, formats = _draw_checks(data, places, 4)
    assert sp.values_ok(flat, enums, formats) is validate_module._values_ok_py(
        flat, enums, formats)
    with pytest.raises(IndexError):
        sp.values_ok(flat, ((len(flat), frozenset()),), ())


@pytest.mark.parametrize("fields", [1, 120, 124, 125, 126, 127, 128, 300])
def test_compiled_parse_of_a_long_message_equals_pure(fields: int) -> None:
    """Past the fields parse notes in its first pass (128), it reads the rest again."""
    sp = _speedups()
    body = b"".join(b"%d=v%d\x01" % (100 + i % 800, i) for i in range(fields))
    for raw in (codec.frame(b"35=D\x01" + body), codec.frame(b"35=D\x01" + body + b"55=x\x01")):
        assert _keyed(sp.parse, raw) == _keyed(codec._parse_fast_py, raw) is not None


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(SMALL_VALUE, min_size=6, max_size=6), min_size=1, max_size=8),
       st.data())
def test_compiled_plan_value_checks_with_their_memory_equal_pure(
    messages: list[list[str]], data: st.DataObject
) -> None:
    """values_ok keeping the value objects that passed (one plan, message after message; equal
    values as one object, as the parser gives them) answers as the Python twin does."""
    sp = _speedups()
    interned: dict[str, str] = {}
    places = st.integers(0, 5)
    enums, formats = _draw_checks(data, places, 3)
    passed: list[object] = [None] * (len(enums) + len(formats))
    for values in messages:
        flat = [interned.setdefault(v, "".join(v)) for v in values]
        expected = validate_module._values_ok_py(flat, enums, formats, passed)
        assert sp.values_ok(flat, enums, formats, passed) is expected
        assert sp.values_ok(flat, enums, formats, passed) is expected  # all remembered now
