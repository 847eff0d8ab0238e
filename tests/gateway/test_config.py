"""Config loading: the embedded default works, and every bad key is named with its file."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from gateway.cli import main as cli_main
from gateway.config import ConfigError, load_config, load_default_config, loads_config

GOOD = """
[gateway]
port = 9999
data_dir = "state"

[[participants]]
id = "ACME"
broker_dealer = true

[[sessions]]
target_comp_id = "ACME1"
participant = "ACME"

[[sessions]]
target_comp_id = "DC"
role = "drop_copy"
participants = ["*"]

[[symbols]]
symbol = "AAPL"
max_spread = "0.25"
"""


def issues_of(text: str) -> list[str]:
    with pytest.raises(ConfigError) as err:
        loads_config(text, "venue.toml")
    return [str(i) for i in err.value.issues]


def test_embedded_default_is_a_working_demo_venue() -> None:
    cfg = load_default_config()
    roles = {s.role for s in cfg.sessions}
    assert roles == {"order_entry", "drop_copy", "market_data"}
    assert cfg.gateway.port == 9878 and cfg.gateway.host == "127.0.0.1"
    assert len({s.participant for s in cfg.sessions if s.role == "order_entry"}) >= 2
    assert cfg.session("TW42", "ISLD") is not None  # the conformance session
    assert cfg.session("TW42", "ISLD").reset_on_logon  # type: ignore[union-attr]


def test_defaults_and_relative_data_dir(tmp_path: Path) -> None:
    path = tmp_path / "venue.toml"
    path.write_text(GOOD)
    cfg = load_config(path)
    assert cfg.gateway.data_dir == tmp_path / "state"
    s = cfg.session("ACME1", "ATS")
    assert s is not None
    assert s.sender_comp_id == "ATS" and s.heartbeat_interval == 30
    assert s.self_match_prevention and s.smp_scope == "participant"
    assert s.default_inclusion_level == 5 and s.timestamp_precision == "ms"
    assert cfg.symbols[0].max_spread == Decimal("0.25")
    assert cfg.participants_by_id["ACME"].broker_group == "ACME"


def test_unknown_key_is_an_error_naming_file_and_key() -> None:
    problems = issues_of(
        GOOD + "\n[[sessions]]\ntarget_comp_id='X'\nparticipant='ACME'\nhartbeat=3\n"
    )
    assert problems == [
        "venue.toml: sessions[2] (X).hartbeat: unknown key; did you mean heartbeat_interval?"
    ]


def test_every_problem_is_listed_once() -> None:
    text = GOOD.replace("port = 9999", 'port = "x"').replace(
        'max_spread = "0.25"', "max_spread = 0.25"
    )
    text += '\n[[sessions]]\nrole = "order_entry"\ntimestamp_precision = "us"\n'
    problems = issues_of(text)
    assert "venue.toml: gateway.port: must be an integer, got 'x'" in problems
    assert any(
        p.startswith("venue.toml: symbols[0] (AAPL).max_spread: must be a quoted decimal")
        for p in problems
    )
    assert "venue.toml: sessions[2].target_comp_id: is required" in problems
    assert any("sessions[2].timestamp_precision: must be one of ms, ns" in p for p in problems)
    assert "venue.toml: sessions[2].participant: is required for an order_entry session" in problems


def test_cross_references_are_checked() -> None:
    problems = issues_of(GOOD.replace('participant = "ACME"', 'participant = "NOPE"'))
    assert problems == ["venue.toml: sessions[0] (ACME1).participant: unknown participant 'NOPE'"]
    dup = GOOD + '\n[[symbols]]\nsymbol = "AAPL"\n'
    assert issues_of(dup) == ["venue.toml: symbols[1] (AAPL).symbol: duplicate symbol 'AAPL'"]


def test_bad_toml_and_unreadable_file(tmp_path: Path) -> None:
    assert issues_of("[gateway\n")[0].startswith("venue.toml: not valid TOML")
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path / "missing.toml")
    assert "cannot read" in str(err.value)


def test_check_config_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good.toml"
    good.write_text(GOOD)
    assert cli_main(["--check-config", str(good)]) == 0
    assert "OK" in capsys.readouterr().out
    bad = tmp_path / "bad.toml"
    bad.write_text(
        GOOD.replace("heartbeat_interval", "x").replace("[gateway]", "[gateway]\nfsync='sometimes'")
    )
    assert cli_main(["--check-config", str(bad)]) == 1
    err = capsys.readouterr().err
    assert f"{bad}: gateway.fsync: must be one of batch, always, never; got 'sometimes'" in err


def test_check_config_as_a_process(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[[sessions]]\nrole='trader'\n")
    proc = subprocess.run(
        [sys.executable, "-m", "gateway", "--check-config", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1
    assert "sessions[0].role: must be one of order_entry, drop_copy, market_data" in proc.stderr


def test_sessions_are_named_by_their_counterparty() -> None:
    text = GOOD + '\n[[sessions]]\ntarget_comp_id = "ACME2"\nparticipant = "ACME"\ndncp = "yes"\n'
    assert issues_of(text) == [
        "venue.toml: sessions[2] (ACME2).dncp: must be true or false, got 'yes'"
    ]


def test_misspelt_key_or_table_gets_a_suggestion() -> None:
    text = GOOD + "\n[admn]\nport = 1\n"
    text = text.replace('"ACME1"', '"ACME1"\ncancel_on_disconect = true')
    problems = issues_of(text)
    assert problems == [
        "venue.toml: admn: unknown table; did you mean admin?",
        "venue.toml: sessions[0] (ACME1).cancel_on_disconect: unknown key; "
        "did you mean cancel_on_disconnect?",
    ]
    # nothing close: no suggestion
    assert issues_of(GOOD + "\n[venue]\n") == ["venue.toml: venue: unknown table"]


def test_bad_role_is_one_line() -> None:
    text = GOOD + '\n[[sessions]]\ntarget_comp_id = "T1"\nrole = "trader"\n'
    assert issues_of(text) == [
        "venue.toml: sessions[2] (T1).role: must be one of order_entry, drop_copy, market_data; "
        "got 'trader'"
    ]


def test_admin_table_defaults_and_values() -> None:
    cfg = loads_config(GOOD)
    assert (cfg.admin.enabled, cfg.admin.host, cfg.admin.port) == (True, "127.0.0.1", 9879)
    cfg = loads_config(GOOD + '\n[admin]\nenabled = false\nhost = "0.0.0.0"\nport = 0\n')
    assert (cfg.admin.enabled, cfg.admin.host, cfg.admin.port) == (False, "0.0.0.0", 0)
    assert issues_of(GOOD + "\n[admin]\nport = 70000\n") == [
        "venue.toml: admin.port: must be between 0 and 65535, got 70000"
    ]
    assert issues_of(GOOD + "\n[admin]\nport = 9999\n") == [
        "venue.toml: admin.port: 9999 is the FIX port (gateway.port)"
    ]


def test_moc_clock_keys() -> None:
    """[gateway] timezone (an IANA zone) and moc_cutoff (HH:MM:SS), SPEC section 6."""
    cfg = loads_config(GOOD)
    assert (cfg.gateway.timezone, cfg.gateway.moc_cutoff) == ("America/New_York", "15:50:00")
    cfg = loads_config(GOOD.replace("[gateway]", '[gateway]\ntimezone = "Europe/London"\n'
                                                 'moc_cutoff = "16:25:30"'))
    assert (cfg.gateway.timezone, cfg.gateway.moc_cutoff) == ("Europe/London", "16:25:30")
    bad = GOOD.replace("[gateway]", '[gateway]\ntimezone = "Mars/Olympus"\nmoc_cutoff = "3:50pm"')
    assert issues_of(bad) == [
        "venue.toml: gateway.timezone: 'Mars/Olympus' is not an IANA time zone "
        "(e.g. America/New_York)",
        "venue.toml: gateway.moc_cutoff: '3:50pm' is not a time of day HH:MM:SS (e.g. 15:50:00)",
    ]
    for value in ("24:00:00", "15:60:00", "15:50", "15:50:00.5", ""):
        text = GOOD.replace("[gateway]", f'[gateway]\nmoc_cutoff = "{value}"')
        assert [p.split(": ")[1] for p in issues_of(text)] == ["gateway.moc_cutoff"], value
    for value in ("", "../etc/passwd", "America/Nowhere"):
        text = GOOD.replace("[gateway]", f'[gateway]\ntimezone = "{value}"')
        assert [p.split(": ")[1] for p in issues_of(text)] == ["gateway.timezone"], value
    not_text = issues_of(GOOD.replace("[gateway]", "[gateway]\ntimezone = 5"))
    assert not_text == ["venue.toml: gateway.timezone: must be a string, got 5"]
