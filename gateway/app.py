"""The order path: the application behind the FIX sessions.

Order-entry messages become matcher commands (gateway.orders), the engine's events become
ExecutionReports for the order's session and copies for every drop-copy session that covers its
participant (gateway.reports), market-data messages become NBBO and status commands. The server
fsyncs the matcher journal with the session stores before anything leaves (group commit), so an
acknowledged order survives a crash; on start the journal is replayed and any report the crash
kept from a session store is sent then.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Protocol

import structlog

from gateway import logs, orders, reports
from gateway.application import Application, Outbound
from gateway.config import Config, SessionConfig
from gateway.fix import Message, format_utc
from gateway.fix._build import speedups
from gateway.stats import LatencyHistogram
from gateway.storage import StorageUnavailable
from matcher import (
    Cancel,
    CancelAll,
    CancelRejected,
    CloseRefused,
    ClosingPrice,
    Command,
    CxlRejReason,
    Engine,
    Event,
    Filled,
    FirmUpInvited,
    FirmUpTimer,
    MocSettings,
    OrderEvent,
    Participant,
    QuoteUpdate,
    Rejected,
    RejectReason,
    Replace,
    SecurityStatus,
    SymbolConfig,
    parse_price,
)

log = structlog.get_logger("gateway.orders")

_EXEC_ID = re.compile(rb"\x0117=(\d+)\x01")


class Sender(Protocol):
    """What the order path needs of the server: send an application message on a session."""

    def send(self, key: str, msg_type: str, body: bytes, header_extra: bytes = b"") -> None: ...

    def stored_messages(self, key: str) -> list[bytes]: ...


def matcher_participants(cfg: Config) -> dict[str, Participant]:
    return {
        p.id: Participant(
            id=p.id,
            broker_dealer=p.broker_dealer,
            broker_group=p.broker_group,
            affiliate_group=p.affiliate_group,
            operator=p.operator,
            operator_affiliate=p.operator_affiliate,
            taker_level=p.taker_level,
            moc_opt_in=p.moc_opt_in,
        )
        for p in cfg.participants
    }


def matcher_symbols(cfg: Config) -> dict[str, SymbolConfig]:
    return {
        s.symbol: SymbolConfig(
            symbol=s.symbol,
            max_spread=_spread(s.max_spread),
            restricted=s.restricted,
            adr_ftt=s.adr_ftt,
            ptp=s.ptp,
            cns_eligible=s.cns_eligible,
        )
        for s in cfg.symbols
    }


def _spread(value: Decimal) -> int:
    return parse_price(format(value, "f"))


class OrderApplication(Application):
    """Routes order-entry, drop-copy and market-data traffic through one matching engine."""

    def __init__(
        self, cfg: Config, sender: Sender, data_dir: Path, clock: Callable[[], int] = time.time_ns
    ) -> None:
        self.cfg = cfg
        self.sender = sender
        # the server's compiled send (gateway.server.Gateway.outbound), called natively for
        # each report; any other Sender through its `send`
        outbound = getattr(sender, "outbound", None)
        self._outbound = outbound if isinstance(outbound, Outbound) else None
        self.clock = clock
        self.fsync = cfg.gateway.fsync
        self.sessions: dict[str, SessionConfig] = {s.key: s for s in cfg.sessions}
        self._order_defaults = {s.key: orders.OrderDefaults(s) for s in cfg.sessions}
        self._symbols = frozenset(s.symbol for s in cfg.symbols)
        self._drop_copies: dict[str, list[SessionConfig]] = {}
        for p in cfg.participants:
            self._drop_copies[p.id] = [
                s
                for s in cfg.sessions
                if s.role == "drop_copy" and ("*" in s.participants or p.id in s.participants)
            ]
        # counters for the operator surface (gateway/admin.py reads them at scrape time)
        self.orders_received: dict[str, int] = {}
        self.fills: dict[str, int] = {}
        self.rejects: dict[tuple[str, str], int] = {}  # (session, reason)
        self.cancel_rejects: dict[tuple[str, str], int] = {}
        self.ack_latency = LatencyHistogram()  # NewOrderSingle read -> its report committed
        self.commit_latency = LatencyHistogram()  # one group commit (stores + journal)
        self._ack_pending: list[int] = []
        self._commands = 0
        self._commands_committed = 0
        self._commit_start = 0
        self.journal_dir = journal_dir = data_dir / "journal"
        journal_dir.mkdir(parents=True, exist_ok=True)
        self._watermark_path = journal_dir / "delivered"
        self.engine, replayed = Engine.recover(
            matcher_participants(cfg),
            matcher_symbols(cfg),
            clock,
            str(journal_dir / "matcher.journal"),
            MocSettings(cfg.gateway.timezone, cfg.gateway.moc_cutoff),
            # the compiled CRC-32 where built (zlib's value, computed faster)
            None if speedups is None else speedups.crc32,
        )
        for warning in self.engine.warnings:
            log.warning("journal_recovered", detail=warning)
        self._delivered = self._read_watermark()
        self._check_journal_covers(replayed)
        self._watermark_fd = os.open(self._watermark_path, os.O_WRONLY | os.O_CREAT, 0o644)
        self._watermark_failed = False
        self._last_exec_id = self._delivered
        self._reject_seq = 0
        self._targets: dict[tuple[str, str], list[tuple[str, str, bytes]]] = {}
        # TransactTime (60) text per precision of the last event time: the events of one
        # command share their time, so it is formatted once per command and precision ("ms":
        # once per millisecond)
        self._stamp_ts = -1
        self._stamp_tick = -1
        self._stamps: dict[str, bytes] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._timer_due: int | None = None
        self._redeliver(replayed)
        # states the firm-up window, and expires what passed its deadline while we were down
        self._apply(FirmUpTimer(cfg.gateway.firm_up_window_ms))
        self._cancel_on_restart()

    # -- recovery ------------------------------------------------------------------------------

    def _read_watermark(self) -> int:
        try:
            return int(self._watermark_path.read_text().strip() or 0)
        except (OSError, ValueError):
            return 0

    def _check_journal_covers(self, replayed: list[Event]) -> None:
        """The stores hold reports up to the delivered mark: a journal that ends before it
        lost commands that were acknowledged, and going on would reuse their ExecIDs."""
        last = max((e.exec_id for e in replayed if isinstance(e, (OrderEvent, FirmUpInvited))),
                   default=0)
        if last < self._delivered:
            raise StorageUnavailable(
                f"{self.engine.journal.path if self.engine.journal else 'the journal'} ends at "
                f"ExecID {last} but reports up to ExecID {self._delivered} were delivered "
                f"({self._watermark_path}): the journal lost acknowledged commands; refusing "
                "to start (restore the journal, or start a new venue with an empty data dir)"
            )

    def _redeliver(self, replayed: list[Event]) -> None:
        """Send the reports a crash kept out of the session stores (ExecID above the mark)."""
        pending = [e for e in replayed if isinstance(e, (OrderEvent, FirmUpInvited))
                   and e.exec_id > self._delivered]
        if pending:
            stored: dict[str, set[bytes]] = {}
            for ev in pending:
                if isinstance(ev, FirmUpInvited):
                    self._invite(ev, skip_stored=stored)
                else:
                    self._route(ev, skip_stored=stored)
            log.info("recovered_reports", checked=len(pending))
        for event in replayed:
            if isinstance(event, (OrderEvent, FirmUpInvited)):
                self._last_exec_id = max(self._last_exec_id, event.exec_id)

    def _stored_exec_ids(self, key: str, cache: dict[str, set[bytes]]) -> set[bytes]:
        if key not in cache:
            cache[key] = {
                m.group(1)
                for raw in self.sender.stored_messages(key)
                for m in _EXEC_ID.finditer(raw)
            }
        return cache[key]

    def _cancel_on_restart(self) -> None:
        for s in self.cfg.sessions:
            if (
                s.role == "order_entry"
                and s.cancel_on_disconnect
                and self.engine.open_orders(s.key)
            ):
                self._apply(CancelAll(s.key, "cancel_on_disconnect: gateway restarted"))

    # -- Application callbacks -----------------------------------------------------------------

    def on_logout(self, key: str, now_ns: int) -> None:
        cfg = self.sessions[key]
        if cfg.role == "order_entry" and cfg.cancel_on_disconnect:
            if self.engine.open_orders(key):
                self._apply(CancelAll(key, "cancel_on_disconnect: session disconnected"))

    def from_app(self, key: str, msg: Message, now_ns: int) -> None:
        cfg = self.sessions[key]
        mtype = msg.msg_type
        if mtype == "j":
            log.warning("business_reject_received", session=key, ref_seq=msg.get(45),
                        ref_msg_type=msg.get(372), reason=msg.get(380), text=msg.get(58))
            return
        if logs.DEBUG:
            log.debug("app_message", session=key, msg_type=mtype, seq=msg.seq_num,
                      cl_ord_id=msg.get(11), symbol=msg.get(55), poss_dup=msg.poss_dup)
        if cfg.role == "order_entry":
            if mtype == "D":
                self.orders_received[key] = self.orders_received.get(key, 0) + 1
                self._ack_pending.append(now_ns)
                self._new_order(key, cfg, msg)
            elif mtype == "F":
                self._cancel_or_replace(key, msg, orders.cancel(msg, key), is_replace=False)
            elif mtype == "G":
                self._cancel_or_replace(key, msg, orders.replace(msg, key), is_replace=True)
        elif cfg.role == "market_data":
            command = orders.market_data(msg) if mtype == "W" else orders.security_status(msg)
            if isinstance(command, orders.OrderError):
                self._business_reject(key, msg, command.text)
            elif command.symbol not in self._symbols:
                self._business_reject(key, msg, f"unknown symbol {command.symbol!r}", reason=b"2")
            elif isinstance(command, ClosingPrice):
                self._closing_price(key, msg, command)
            elif msg.poss_dup and self._stale(command):
                log.info("stale_market_data_ignored", session=key, msg_type=mtype,
                         symbol=command.symbol, seq=msg.seq_num, orig_sending_time=msg.get(122))
            else:
                self._apply(command)

    def _stale(self, command: QuoteUpdate | SecurityStatus) -> bool:
        """A PossDup copy sent no later than the last market data of its kind the venue
        applied to the symbol (compared by the source's send time, then MsgSeqNum)."""
        last = self.engine.market_data_source(command.symbol, type(command))
        if last is None or command.source_time is None:
            return False
        return (command.source_time, command.source_seq or 0) <= last

    def before_send(self) -> object:
        """Hand the journal's buffered commands to the OS (`sync` fsyncs them); the token is
        the last ExecID whose reports are in the stores' buffers now."""
        self._commit_start = time.perf_counter_ns()
        journal = self.engine.journal
        if journal is not None:
            journal.flush()
        return self._last_exec_id

    def sync(self) -> None:
        journal = self.engine.journal
        if journal is not None:
            journal.sync()

    def after_commit(self, token: object) -> None:
        """The stores durably hold every report up to the token: advance the recovery mark."""
        if self._commands != self._commands_committed:  # a commit that carried commands
            self._commands_committed = self._commands
            self.commit_latency.observe(time.perf_counter_ns() - self._commit_start)
        if self._ack_pending:
            now = self.clock()
            for received in self._ack_pending:
                self.ack_latency.observe(now - received)
            self._ack_pending.clear()
        if isinstance(token, int) and token > self._delivered:
            self._delivered = token
            self._write_watermark()

    def _write_watermark(self) -> None:
        # The mark only narrows the recovery scan, so it is neither fsynced nor renamed: a
        # torn or stale mark costs a wider scan, never a report. Fixed width, one pwrite in
        # place (it needs no new disk space); if even that fails the mark stays behind, which
        # is as safe, so it is said once and not fatal.
        try:
            os.pwrite(self._watermark_fd, b"%020d\n" % self._delivered, 0)
        except OSError as exc:
            if not self._watermark_failed:
                self._watermark_failed = True
                log.warning("watermark_write_failed", path=str(self._watermark_path),
                            error=exc.strerror or str(exc))

    def close(self) -> None:
        """At shutdown, after the stores were synced and closed."""
        token = self.before_send()
        self.sync()
        self.after_commit(token)
        if self._timer is not None:
            self._timer.cancel()
        os.close(self._watermark_fd)
        if self.engine.journal is not None:
            self.engine.journal.close()

    # -- orders --------------------------------------------------------------------------------

    def _new_order(self, key: str, cfg: SessionConfig, msg: Message) -> None:
        cl_ord_id = msg.get(11) or ""
        if msg.poss_dup and self.engine.order(key, cl_ord_id) is not None:
            log.debug("possdup_order_ignored", session=key, cl_ord_id=cl_ord_id)
            return
        command = orders.new_order_with(msg, key, self._order_defaults[key])
        if isinstance(command, orders.OrderError):
            self._reject_new(key, cfg, msg, command)
            return
        self._apply(command)

    def _cancel_or_replace(
        self,
        key: str,
        msg: Message,
        command: Cancel | Replace | orders.OrderError,
        is_replace: bool,
    ) -> None:
        if isinstance(command, orders.OrderError):
            info = self.engine.order(key, msg.get(41) or "")
            self._send_event(
                CancelRejected(
                    ts=self.clock(),
                    session=key,
                    cl_ord_id=orders.echo(msg.get(11)),
                    orig_cl_ord_id=orders.echo(msg.get(41)),
                    order_id=info.order_id if info else 0,
                    is_replace=is_replace,
                    reason=CxlRejReason(command.reason),
                    text=command.text,
                    cum_qty=info.cum_qty if info else 0,
                    leaves_qty=info.leaves_qty if info else 0,
                )
            )
            return
        if msg.poss_dup and self.engine.order(key, msg.get(11) or "") is not None:
            return
        self._apply(command)

    def _closing_price(self, key: str, msg: Message, command: ClosingPrice) -> None:
        """The MOC cross; a closing price the engine refused gets a BusinessMessageReject."""
        for ev in self.engine.apply(command):
            if isinstance(ev, CloseRefused):
                self._business_reject(key, msg, ev.text)
            else:
                self._send_event(ev)

    def _apply(self, command: Command) -> None:
        self._commands += 1
        for ev in self.engine.apply(command):
            self._send_event(ev)
        self._arm_firm_up_timer()

    # -- firm-up deadlines ---------------------------------------------------------------------

    def _arm_firm_up_timer(self) -> None:
        """Have a FirmUpTimer applied at the earliest pending firm-up deadline (the matcher
        learns time only from its commands, so this is what expires an idle invitation)."""
        due = self.engine.next_firm_up_deadline()
        if due is None or (self._timer_due is not None and self._timer_due <= due):
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # not serving (a tool or a test): the caller applies timers
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer_due = due
        self._timer = loop.call_later(max(0.0, (due - self.clock()) / 1e9), self._firm_up_due)

    def _firm_up_due(self) -> None:
        due, self._timer, self._timer_due = self._timer_due, None, None
        self._apply(FirmUpTimer(self.cfg.gateway.firm_up_window_ms, due or 0))

    def _send_event(self, ev: Event) -> None:
        if not isinstance(ev, OrderEvent):
            if isinstance(ev, CancelRejected):
                self._cancel_rejected(ev)
                info = self.engine.order(ev.session, ev.orig_cl_ord_id) if ev.order_id else None
                body = reports.cancel_reject_body(ev, info.order_qty if info else None)
                self.sender.send(ev.session, "9", body)
            elif isinstance(ev, FirmUpInvited):
                self._invite(ev)
                if ev.exec_id > self._last_exec_id:
                    self._last_exec_id = ev.exec_id
            # a CloseRefused comes only from a ClosingPrice: _closing_price answers it
            return
        if isinstance(ev, Filled):
            self.fills[ev.session] = self.fills.get(ev.session, 0) + 1
        elif isinstance(ev, Rejected):
            self._rejected(ev.session, ev.cl_ord_id, ev.symbol, ev.reason, ev.text)
        if logs.DEBUG:
            log.debug("report", session=ev.session, cl_ord_id=ev.cl_ord_id,
                      kind=type(ev).__name__, exec_id=ev.exec_id, order_id=ev.order_id,
                      cum_qty=ev.cum_qty, leaves_qty=ev.leaves_qty)
        self._route(ev)
        if ev.exec_id > self._last_exec_id:
            self._last_exec_id = ev.exec_id

    def _route(self, ev: OrderEvent, skip_stored: dict[str, set[bytes]] | None = None) -> None:
        """A matcher event's report to its session and the drop copies covering it."""
        self._deliver(
            ev.session,
            ev.participant,
            reports.exec_report_body(ev),
            ev.ts,
            # the ExecID as bytes only where recovery compares it with the stores
            b"" if skip_stored is None else str(ev.exec_id).encode(),
            skip_stored,
        )

    def _invite(self, ev: FirmUpInvited, skip_stored: dict[str, set[bytes]] | None = None) -> None:
        """A FirmUpRequest (UF) goes to the CO's own session only: it is no ExecutionReport, so
        drop copies do not get it."""
        cfg = self.sessions.get(ev.session)
        if cfg is None:
            return
        if skip_stored is not None and str(ev.exec_id).encode() in self._stored_exec_ids(
            ev.session, skip_stored
        ):
            return
        body = reports.firm_up_request_body(ev, cfg.timestamp_precision)
        self.sender.send(ev.session, "UF", body)

    def _deliver(
        self,
        key: str,
        participant: str,
        body: bytes,
        ts: int,
        exec_id: bytes,
        skip_stored: dict[str, set[bytes]] | None = None,
    ) -> None:
        """Send a report (without 60) to the order's session and a copy to each drop copy
        covering its participant, 60 in each receiver's precision; on recovery skip_stored
        leaves out receivers that already hold this ExecID."""
        targets = self._targets.get((key, participant))
        if targets is None:
            targets = self._targets[(key, participant)] = self._targets_for(key, participant)
        if ts != self._stamp_ts:
            self._stamp_ts = ts
            tick = ts // 1_000_000
            if tick != self._stamp_tick:  # a millisecond's "ms" stamp serves all its events
                self._stamp_tick = tick
                self._stamps = {}
            else:  # only the "ms" stamp is the same for another time in its millisecond
                ms = self._stamps.get("ms")
                self._stamps = {} if ms is None else {"ms": ms}
        stamps = self._stamps
        stamped: dict[str, bytes] = {}  # precision -> the body with its 60, made once
        outbound = self._outbound
        for target_key, precision, header in targets:
            if skip_stored is not None and exec_id in self._stored_exec_ids(
                target_key, skip_stored
            ):
                continue
            full = stamped.get(precision)
            if full is None:
                stamp = stamps.get(precision)
                if stamp is None:
                    stamp = stamps[precision] = b"60=%s\x01" % format_utc(ts, precision).encode()
                full = stamped[precision] = body + stamp
            if outbound is not None:
                outbound.send(target_key, "8", full, header)
            else:
                self.sender.send(target_key, "8", full, header)

    def _targets_for(self, key: str, participant: str) -> list[tuple[str, str, bytes]]:
        """(session, precision, extra header) of everyone who gets this session's reports."""
        own = self.sessions.get(key)
        targets = [(key, own.timestamp_precision, b"")] if own is not None else []
        on_behalf = (own.target_comp_id if own else key).encode()
        for dc in self._drop_copies.get(participant, ()):
            targets.append((dc.key, dc.timestamp_precision, b"115=" + on_behalf + b"\x01"))
        return targets

    def _reject_new(
        self, key: str, cfg: SessionConfig, msg: Message, err: orders.OrderError
    ) -> None:
        """ExecutionReport reject for an order that never reached the matcher."""
        now = self.clock()
        self._reject_seq += 1
        exec_id = b"R%d-%d" % (now, self._reject_seq)
        body = reports.gateway_reject_body(
            exec_id,
            orders.echo(msg.get(11)),
            orders.echo(msg.get(55)),
            orders.echo(msg.get(54)),
            orders.echo(msg.get(38)),
            err.reason,
            err.text,
        )
        self._deliver(key, cfg.participant, body, now, exec_id)
        echo = orders.echo
        self._rejected(key, echo(msg.get(11)), echo(msg.get(55)), err.reason, err.text)

    def _rejected(self, key: str, cl_ord_id: str, symbol: str, code: int, text: str) -> None:
        """Count and log an order reject, decided by the gateway or by the matcher."""
        reason = _reason_name(RejectReason, code)
        self.rejects[(key, reason)] = self.rejects.get((key, reason), 0) + 1
        log.info("order_rejected", session=key, cl_ord_id=cl_ord_id, symbol=symbol,
                 reason=reason, text=text)

    def _cancel_rejected(self, ev: CancelRejected) -> None:
        reason = _reason_name(CxlRejReason, ev.reason)
        self.cancel_rejects[(ev.session, reason)] = (
            self.cancel_rejects.get((ev.session, reason), 0) + 1)
        log.info("cancel_rejected", session=ev.session, cl_ord_id=ev.cl_ord_id,
                 orig_cl_ord_id=ev.orig_cl_ord_id, replace=ev.is_replace, reason=reason,
                 text=ev.text)

    def _business_reject(self, key: str, msg: Message, text: str, reason: bytes = b"0") -> None:
        body = b"".join(
            [
                b"45=",
                str(msg.seq_num or 0).encode(),
                b"\x01372=",
                msg.msg_type.encode(),
                b"\x01380=",
                reason,
                b"\x0158=",
                text.encode(),
                b"\x01",
            ]
        )
        self.sender.send(key, "j", body)
        log.info("business_reject", session=key, msg_type=msg.msg_type, reason=text)


def _reason_name(enum: type[RejectReason] | type[CxlRejReason], code: int) -> str:
    """A reject code as a metric label and log value: 1 -> "unknown_symbol"."""
    try:
        return enum(code).name.lower()
    except ValueError:
        return str(code)


def build_application(cfg: Config, gateway: Sender) -> OrderApplication:
    return OrderApplication(cfg, gateway, cfg.gateway.data_dir)
