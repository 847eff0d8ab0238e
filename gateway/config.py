"""Gateway configuration: TOML (SPEC section 6) loaded into frozen dataclasses.

Every problem becomes one `ConfigIssue` naming the file and the key path; `load_config` raises
`ConfigError` carrying all of them, so `ats-gateway --check-config` prints them all.
Unknown keys are errors: a misspelt option must never be silently ignored.
"""

from __future__ import annotations

import difflib
import ipaddress
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from matcher.moc import parse_cutoff

ROLES = ("order_entry", "drop_copy", "market_data")
FSYNC_MODES = ("batch", "always", "never")
SMP_SCOPES = ("participant", "affiliates")
PRECISIONS = ("ms", "ns")
MAX_FIRM_UP_WINDOW_MS = 3_600_000  # an hour: a firm-up window is meant to be short
_COMP_ID = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")


@dataclass(frozen=True, slots=True)
class ConfigIssue:
    """One problem in a config file: where and what."""

    path: str
    key: str
    message: str

    def __str__(self) -> str:
        where = f"{self.path}: {self.key}" if self.key else self.path
        return f"{where}: {self.message}"


class ConfigError(Exception):
    """A config file that cannot be used; `issues` lists every problem found."""

    def __init__(self, issues: list[ConfigIssue]) -> None:
        self.issues = issues
        super().__init__("\n".join(str(i) for i in issues))


@dataclass(frozen=True, slots=True)
class GatewayConfig:
    host: str = "127.0.0.1"
    port: int = 9878
    data_dir: Path = Path("var")
    sender_comp_id: str = "ATS"
    fsync: str = "batch"
    message_log: bool = True
    timezone: str = "America/New_York"
    moc_cutoff: str = "15:50:00"
    firm_up_window_ms: int = 1000


@dataclass(frozen=True, slots=True)
class AdminConfig:
    """The operator's HTTP surface (metrics, health, status): its own port, loopback by default."""

    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = 9879


@dataclass(frozen=True, slots=True)
class ParticipantConfig:
    id: str
    broker_dealer: bool = False
    broker_group: str = ""
    affiliate_group: str = ""
    operator: bool = False
    operator_affiliate: bool = False
    taker_level: int = 5
    moc_opt_in: bool = False


@dataclass(frozen=True, slots=True)
class SessionConfig:
    target_comp_id: str
    sender_comp_id: str
    role: str
    participant: str = ""
    participants: tuple[str, ...] = ()
    heartbeat_interval: int = 30
    dncp: bool = False
    self_match_prevention: bool = True
    smp_scope: str = "participant"
    default_inclusion_level: int = 5
    timestamp_precision: str = "ms"
    reset_on_logon: bool = False
    reset_on_logout: bool = False
    reset_on_disconnect: bool = False
    cancel_on_disconnect: bool = False
    check_latency: bool = True
    max_latency: int = 120
    password: str = ""
    allowed_ips: tuple[str, ...] = ()
    message_log: bool = True
    conditional_interaction: bool = False

    @property
    def key(self) -> str:
        """The session's name in stores and logs: OURS-THEIRS, as QuickFIX names its files."""
        return f"{self.sender_comp_id}-{self.target_comp_id}"


@dataclass(frozen=True, slots=True)
class SymbolConfig:
    symbol: str
    max_spread: Decimal = Decimal("0.50")
    restricted: bool = False
    adr_ftt: bool = False
    ptp: bool = False
    cns_eligible: bool = True


@dataclass(frozen=True, slots=True)
class Config:
    gateway: GatewayConfig
    participants: tuple[ParticipantConfig, ...] = ()
    sessions: tuple[SessionConfig, ...] = ()
    symbols: tuple[SymbolConfig, ...] = ()
    source: str = "<memory>"
    participants_by_id: Mapping[str, ParticipantConfig] = field(default_factory=dict)
    admin: AdminConfig = field(default_factory=AdminConfig)

    def session(self, sender_comp_id: str, target_comp_id: str) -> SessionConfig | None:
        """The session the counterparty addresses: their SenderCompID is our target."""
        for s in self.sessions:
            if s.target_comp_id == sender_comp_id and s.sender_comp_id == target_comp_id:
                return s
        return None


class _Reader:
    """Reads one TOML table with typed getters, recording issues instead of raising."""

    def __init__(self, path: str, prefix: str, table: Mapping[str, Any], issues: list[ConfigIssue]):
        self.path, self.prefix, self.table, self.issues = path, prefix, table, issues
        self.used: set[str] = set()

    def _key(self, name: str) -> str:
        return f"{self.prefix}.{name}" if self.prefix else name

    def error(self, name: str, message: str) -> None:
        self.issues.append(ConfigIssue(self.path, self._key(name), message))

    def _get(self, name: str, types: tuple[type, ...], what: str, default: Any) -> Any:
        self.used.add(name)
        if name not in self.table:
            return default
        value = self.table[name]
        if isinstance(value, bool) and bool not in types:
            self.error(name, f"must be {what}, got {value!r}")
            return default
        if not isinstance(value, types):
            self.error(name, f"must be {what}, got {value!r}")
            return default
        return value

    def boolean(self, name: str, default: bool) -> bool:
        return bool(self._get(name, (bool,), "true or false", default))

    def integer(self, name: str, default: int, lo: int, hi: int) -> int:
        value = int(self._get(name, (int,), "an integer", default))
        if not lo <= value <= hi:
            self.error(name, f"must be between {lo} and {hi}, got {value}")
            return default
        return value

    def string(self, name: str, default: str, choices: tuple[str, ...] = ()) -> str:
        value = str(self._get(name, (str,), "a string", default))
        if choices and value not in choices:
            self.error(name, f"must be one of {', '.join(choices)}; got {value!r}")
            return default
        return value

    def required_string(self, name: str, check: Callable[[str], str | None] | None = None) -> str:
        if name not in self.table:
            self.used.add(name)
            self.error(name, "is required")
            return ""
        value = self.string(name, "")
        problem = check(value) if check and value else None
        if problem:
            self.error(name, problem)
        return value

    def strings(self, name: str) -> tuple[str, ...]:
        value = self._get(name, (list,), "a list of strings", [])
        if not all(isinstance(v, str) for v in value):
            self.error(name, "must be a list of strings")
            return ()
        return tuple(value)

    def finish(self) -> None:
        for name in self.table:
            if name not in self.used:
                self.error(name, "unknown key" + _did_you_mean(name, self.used))


def _did_you_mean(name: str, known: set[str] | tuple[str, ...]) -> str:
    close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
    return f"; did you mean {close[0]}?" if close else ""


def _comp_id_problem(value: str) -> str | None:
    if not _COMP_ID.match(value):
        return f"{value!r} is not a valid CompID (letters, digits, _ . -, at most 64)"
    return None


def _gateway(r: _Reader, base: Path) -> GatewayConfig:
    data_dir = r.string("data_dir", "var")
    cfg = GatewayConfig(
        host=r.string("host", "127.0.0.1"),
        port=r.integer("port", 9878, 0, 65535),
        data_dir=(base / data_dir) if not Path(data_dir).is_absolute() else Path(data_dir),
        sender_comp_id=r.string("sender_comp_id", "ATS"),
        fsync=r.string("fsync", "batch", FSYNC_MODES),
        message_log=r.boolean("message_log", True),
        timezone=r.string("timezone", "America/New_York"),
        moc_cutoff=r.string("moc_cutoff", "15:50:00"),
        firm_up_window_ms=r.integer("firm_up_window_ms", 1000, 1, MAX_FIRM_UP_WINDOW_MS),
    )
    if _comp_id_problem(cfg.sender_comp_id):
        r.error("sender_comp_id", str(_comp_id_problem(cfg.sender_comp_id)))
    _check_moc_clock(r, cfg)
    r.finish()
    return cfg


def _admin(r: _Reader) -> AdminConfig:
    cfg = AdminConfig(
        enabled=r.boolean("enabled", True),
        host=r.string("host", "127.0.0.1"),
        port=r.integer("port", 9879, 0, 65535),
    )
    r.finish()
    return cfg


def _check_moc_clock(r: _Reader, cfg: GatewayConfig) -> None:
    """`timezone` must be an IANA zone and `moc_cutoff` a time of day HH:MM:SS."""
    try:
        ZoneInfo(cfg.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        r.error("timezone", f"{cfg.timezone!r} is not an IANA time zone (e.g. America/New_York)")
    try:
        parse_cutoff(cfg.moc_cutoff)
    except ValueError:
        r.error("moc_cutoff", f"{cfg.moc_cutoff!r} is not a time of day HH:MM:SS (e.g. 15:50:00)")


def _participant(r: _Reader) -> ParticipantConfig:
    pid = r.required_string("id", _comp_id_problem)
    p = ParticipantConfig(
        id=pid,
        broker_dealer=r.boolean("broker_dealer", False),
        broker_group=r.string("broker_group", "") or pid,
        affiliate_group=r.string("affiliate_group", "") or pid,
        operator=r.boolean("operator", False),
        operator_affiliate=r.boolean("operator_affiliate", False),
        taker_level=r.integer("taker_level", 5, 1, 5),
        moc_opt_in=r.boolean("moc_opt_in", False),
    )
    r.finish()
    return p


def _ip_problem(value: str) -> str | None:
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        return f"{value!r} is not an IP address or network"
    return None


def _session(r: _Reader, default_sender: str) -> SessionConfig:
    role = r.string("role", "order_entry", ROLES)
    # a bad role is one problem: the checks that depend on the role would only add noise
    role_ok = r.table.get("role", "order_entry") in ROLES
    s = SessionConfig(
        target_comp_id=r.required_string("target_comp_id", _comp_id_problem),
        sender_comp_id=r.string("sender_comp_id", default_sender),
        role=role,
        participant=r.string("participant", ""),
        participants=r.strings("participants"),
        heartbeat_interval=r.integer("heartbeat_interval", 30, 1, 3600),
        dncp=r.boolean("dncp", False),
        self_match_prevention=r.boolean("self_match_prevention", True),
        smp_scope=r.string("smp_scope", "participant", SMP_SCOPES),
        default_inclusion_level=r.integer("default_inclusion_level", 5, 1, 5),
        timestamp_precision=r.string("timestamp_precision", "ms", PRECISIONS),
        reset_on_logon=r.boolean("reset_on_logon", False),
        reset_on_logout=r.boolean("reset_on_logout", False),
        reset_on_disconnect=r.boolean("reset_on_disconnect", False),
        cancel_on_disconnect=r.boolean("cancel_on_disconnect", False),
        check_latency=r.boolean("check_latency", True),
        max_latency=r.integer("max_latency", 120, 1, 86400),
        password=r.string("password", ""),
        allowed_ips=r.strings("allowed_ips"),
        message_log=r.boolean("message_log", True),
        conditional_interaction=r.boolean("conditional_interaction", False),
    )
    if _comp_id_problem(s.sender_comp_id):
        r.error("sender_comp_id", str(_comp_id_problem(s.sender_comp_id)))
    for ip in s.allowed_ips:
        if _ip_problem(ip):
            r.error("allowed_ips", str(_ip_problem(ip)))
    if role_ok:
        _role_checks(r, s)
    r.finish()
    return s


def _role_checks(r: _Reader, s: SessionConfig) -> None:
    role = s.role
    if role == "order_entry" and not s.participant:
        r.error("participant", "is required for an order_entry session")
    if role != "order_entry" and "participant" in r.table:
        r.error("participant", f"is only for order_entry sessions, not {role}")
    if role == "drop_copy" and not s.participants:
        r.error("participants", 'is required for a drop_copy session (e.g. ["*"])')
    if role != "drop_copy" and "participants" in r.table:
        r.error("participants", f"is only for drop_copy sessions, not {role}")


def _symbol(r: _Reader) -> SymbolConfig:
    sym = r.required_string("symbol")
    raw_spread = r._get("max_spread", (str, int, float), 'a decimal string such as "0.50"', "0.50")
    try:
        spread = Decimal(str(raw_spread))
        if isinstance(raw_spread, float):
            r.error(
                "max_spread", f'must be a quoted decimal string (e.g. "0.50"), got {raw_spread!r}'
            )
        if not spread.is_finite() or spread <= 0:
            r.error("max_spread", f"must be a positive price, got {raw_spread!r}")
    except InvalidOperation:
        r.error("max_spread", f"is not a decimal number: {raw_spread!r}")
        spread = Decimal("0.50")
    s = SymbolConfig(
        symbol=sym,
        max_spread=spread,
        restricted=r.boolean("restricted", False),
        adr_ftt=r.boolean("adr_ftt", False),
        ptp=r.boolean("ptp", False),
        cns_eligible=r.boolean("cns_eligible", True),
    )
    r.finish()
    return s


def _tables(
    path: str, doc: Mapping[str, Any], name: str, issues: list[ConfigIssue]
) -> list[tuple[str, Mapping[str, Any]]]:
    value = doc.get(name, [])
    if not isinstance(value, list) or not all(isinstance(t, dict) for t in value):
        issues.append(ConfigIssue(path, name, f"must be an array of tables ([[{name}]])"))
        return []
    return [(_label(name, i, t), t) for i, t in enumerate(value)]


#: the key that names an entry of each array of tables in messages: sessions[2] (ACME1)
_NAMED_BY = {"participants": "id", "sessions": "target_comp_id", "symbols": "symbol"}
_TABLE_NAMES = ("gateway", "admin", "participants", "sessions", "symbols")


def _label(name: str, i: int, table: Mapping[str, Any]) -> str:
    value = table.get(_NAMED_BY[name])
    return f"{name}[{i}] ({value})" if isinstance(value, str) and value else f"{name}[{i}]"


def parse_config(doc: Mapping[str, Any], path: str, base: Path) -> Config:
    """Validate a parsed TOML document; raises ConfigError listing every problem."""
    issues: list[ConfigIssue] = []
    for key in doc:
        if key not in _TABLE_NAMES:
            hint = _did_you_mean(key, _TABLE_NAMES)
            issues.append(ConfigIssue(path, key, "unknown table" + hint))
    gateway = _gateway(_Reader(path, "gateway", _table(path, doc, "gateway", issues), issues), base)
    admin = _admin(_Reader(path, "admin", _table(path, doc, "admin", issues), issues))
    if admin.enabled and admin.port and admin.port == gateway.port:
        clash = f"{admin.port} is the FIX port (gateway.port)"
        issues.append(ConfigIssue(path, "admin.port", clash))
    participants = [
        _participant(_Reader(path, k, t, issues))
        for k, t in _tables(path, doc, "participants", issues)
    ]
    session_tables = _tables(path, doc, "sessions", issues)
    sessions = [_session(_Reader(path, k, t, issues), gateway.sender_comp_id)
                for k, t in session_tables]
    symbol_tables = _tables(path, doc, "symbols", issues)
    symbols = [_symbol(_Reader(path, k, t, issues)) for k, t in symbol_tables]
    labels = ([k for k, _ in session_tables], [k for k, _ in symbol_tables])
    _cross_checks(path, participants, sessions, symbols, issues, labels)
    if issues:
        raise ConfigError(issues)
    return Config(
        gateway=gateway,
        participants=tuple(participants),
        sessions=tuple(sessions),
        symbols=tuple(symbols),
        source=path,
        participants_by_id={p.id: p for p in participants},
        admin=admin,
    )


def _table(path: str, doc: Mapping[str, Any], name: str, issues: list[ConfigIssue]) -> Any:
    table = doc.get(name, {})
    if not isinstance(table, dict):
        issues.append(ConfigIssue(path, name, f"must be a table ([{name}])"))
        return {}
    return table


def _cross_checks(
    path: str,
    participants: list[ParticipantConfig],
    sessions: list[SessionConfig],
    symbols: list[SymbolConfig],
    issues: list[ConfigIssue],
    labels: tuple[list[str], list[str]],
) -> None:
    session_labels, symbol_labels = labels
    ids = [p.id for p in participants]
    for i, pid in enumerate(ids):
        if pid and pid in ids[:i]:
            issues.append(
                ConfigIssue(path, f"participants[{i}] ({pid}).id", f"duplicate participant {pid!r}")
            )
    pairs: set[tuple[str, str]] = set()
    for i, s in enumerate(sessions):
        pair = (s.sender_comp_id, s.target_comp_id)
        if s.target_comp_id and pair in pairs:
            issues.append(
                ConfigIssue(
                    path,
                    f"{session_labels[i]}.target_comp_id",
                    f"duplicate session {pair[0]}->{pair[1]}",
                )
            )
        pairs.add(pair)
        if s.role == "order_entry" and s.participant and s.participant not in ids:
            issues.append(
                ConfigIssue(
                    path,
                    f"{session_labels[i]}.participant",
                    f"unknown participant {s.participant!r}",
                )
            )
        for p in s.participants:
            if p != "*" and p not in ids:
                issues.append(
                    ConfigIssue(
                        path, f"{session_labels[i]}.participants", f"unknown participant {p!r}"
                    )
                )
    names = [s.symbol for s in symbols]
    for i, name in enumerate(names):
        if name and name in names[:i]:
            issues.append(
                ConfigIssue(path, f"{symbol_labels[i]}.symbol", f"duplicate symbol {name!r}")
            )


def load_config(path: str | Path) -> Config:
    """Read and validate a config file; raises ConfigError (with file and key) on any problem."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([ConfigIssue(str(p), "", f"cannot read: {exc.strerror}")]) from exc
    return loads_config(text, str(p), p.resolve().parent)


def loads_config(text: str, path: str = "<string>", base: Path | None = None) -> Config:
    """Validate config text; relative data_dir is taken against `base` (default: cwd)."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([ConfigIssue(path, "", f"not valid TOML: {exc}")]) from exc
    return parse_config(doc, path, base if base is not None else Path.cwd())


def default_config_text() -> str:
    """The embedded default config shipped in the package (config/ats.toml)."""
    return resources.files("ats_config").joinpath("ats.toml").read_text(encoding="utf-8")


def load_default_config() -> Config:
    """The embedded demo venue; its relative data_dir is taken against the current directory."""
    return loads_config(default_config_text(), "<embedded config/ats.toml>", Path.cwd())
