"""`ats-client`: a FIX order-entry and drop-copy client for people and scripts.

Commands, one a line (from --script FILE, the command line after --, piped on stdin, or typed
at the prompt when stdin is a terminal):

    new SIDE SYMBOL QTY [limit=PX] [peg=mid|primary|market] [tif=day|ioc] [minqty=N]
        [minqty_action=aon|cancel] [post] [capacity=agency|principal|riskless] [dncp=y|n]
        [inclusion=1..5] [locate=y|n] [locate_broker=ID] [class=C|F] [eligible[=y|n]]
        [id=CLORDID]
    new SIDE SYMBOL QTY moc [tif=day|close] [id=CLORDID]     (market on close: 40=5)
    cancel CLORDID [id=NEWID]
    replace CLORDID [qty=N] [limit=PX] [peg=...] [id=NEWID]
    firmup CO_CLORDID [qty=N] [limit=PX] [peg=...] [minqty=N] [id=NEWID]
    wait SECONDS
    help                (at the prompt: this list)
    quit                (at the prompt; or Ctrl-D)

SIDE is buy, sell, short (sell short) or exempt (sell short exempt). class=C sends a
conditional order (7001=C), eligible a firm order that may meet conditionals (7013=Y), moc a
market-on-close order (40=5, no price; tif=close sends 59=7). firmup answers a firm-up
invitation: an IOC NewOrderSingle with 7002=CO_CLORDID, the CO's symbol and side, the invited
quantity (else the CO's) and the CO's own price terms unless limit= or peg= is given;
--auto-firmup does that at once for every invitation not already past its deadline.

Every message from the gateway is printed one a line: execution reports (rejects with their
OrdRejReason), firm-up invitations (INVITED), cancel rejects, session-level rejects and the
Logout. At the prompt each command is sent as it is typed and reports are printed as they
arrive. `--watch` logs on to a drop-copy session and prints everything it receives, including
what it missed while away (the gateway resends the gap). If the gateway ends the session,
ats-client says so and exits 3.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import shlex
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from ats_tools.initiator import Initiator, InitiatorError, find_session
from gateway.config import ConfigError, SessionConfig, load_config
from gateway.fix import Message, SessionEvent, format_utc, parse_utc

SIDES = {"buy": "1", "sell": "2", "short": "5", "exempt": "6"}
SIDE_NAMES = {"1": "BUY", "2": "SELL", "5": "SHORT", "6": "SHORT-EXEMPT"}
EXEC_TYPES = {
    "0": "NEW",
    "1": "PARTIAL",
    "2": "FILL",
    "4": "CANCELED",
    "5": "REPLACED",
    "8": "REJECTED",
}
PEGS = {"mid": "M", "primary": "R", "market": "P"}
TIFS = {"day": "0", "ioc": "3", "close": "7"}
CLASSES = {"c": "C", "conditional": "C", "f": "F", "firm": "F"}
FLAGS = ("post", "moc", "eligible")
YES = ("y", "yes", "true")
CAPACITIES = {"agency": "A", "principal": "P", "riskless": "R"}


class CommandError(Exception):
    """A script line that cannot be sent (the message says which and why)."""


@dataclass
class OrderState:
    """What the client remembers of its own orders, to fill in cancels and replaces."""

    symbol: str
    side: str
    qty: str
    fields: dict[int, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Invitation:
    """A FirmUpRequest (UF) the gateway sent for one of our conditional orders."""

    co: str  # the CO's ClOrdID (11)
    symbol: str
    side: str
    qty: str  # the invited quantity (38)
    expires: str  # ExpireTime (126)

    def expired(self, now_ns: int) -> bool:
        """The deadline has passed (a resent invitation, say): a firm-up would be rejected."""
        deadline = parse_utc(self.expires)
        return deadline is not None and now_ns >= deadline


# what a firm-up does not take over from its CO: class, eligibility, TimeInForce, post only
NOT_FIRMED_UP = (7001, 7013, 59)


class Commands:
    """Turns command lines into FIX bodies."""

    def __init__(self, prefix: str) -> None:
        self._ids = (f"{prefix}-{n}" for n in itertools.count(1))
        self.orders: dict[str, OrderState] = {}
        self.invitations: dict[str, Invitation] = {}

    def next_id(self, opts: dict[str, str]) -> str:
        return opts.pop("id", None) or next(self._ids)

    def parse(self, line: str) -> tuple[str, bytes] | float | None:
        """(msg_type, body) to send, a wait in seconds, or None for a blank/comment line."""
        words = shlex.split(line, comments=True)
        if not words:
            return None
        verb, args = words[0].lower(), words[1:]
        positional = [a for a in args if "=" not in a and a not in FLAGS]
        opts = dict(a.split("=", 1) for a in args if "=" in a)
        flags = {a for a in args if a in FLAGS}
        if verb == "new":
            return "D", self._new(positional, opts, flags)
        if verb == "cancel":
            return "F", self._cancel(positional, opts)
        if verb == "replace":
            return "G", self._replace(positional, opts, flags)
        if verb == "firmup":
            return "D", self._firm_up(positional, opts, flags)
        if verb == "wait":
            try:
                return float(positional[0])
            except (IndexError, ValueError):
                raise CommandError("wait needs a number of seconds") from None
        raise CommandError(f"unknown command {verb!r} (new, cancel, replace, firmup, wait)")

    def _terms(self, opts: dict[str, str], flags: set[str]) -> dict[int, str]:
        f: dict[int, str] = {}
        peg = opts.pop("peg", None)
        limit = opts.pop("limit", None)
        if peg is not None and peg not in PEGS:
            raise CommandError(f"peg={peg}: use mid, primary or market")
        if "moc" in flags:
            if peg or limit or "post" in flags:
                raise CommandError("moc: a market-on-close order takes no limit, peg or post")
            f[40] = "5"
        elif peg:
            f[40] = "P"
        elif limit:
            f[40] = "2"
        else:
            f[40] = "1"
        if limit:
            f[44] = limit
        inst = ([PEGS[peg]] if peg else []) + (["6"] if "post" in flags else [])
        if inst:
            f[18] = " ".join(inst)
        for key, tag, table in (
            ("tif", 59, TIFS),
            ("capacity", 47, CAPACITIES),
            ("class", 7001, CLASSES),
        ):
            if key in opts:
                value = opts.pop(key)
                if value.lower() not in table:
                    raise CommandError(f"{key}={value}: use one of {', '.join(table)}")
                f[tag] = table[value.lower()]
        simple = {"minqty": 110, "inclusion": 7011, "locate_broker": 5700}
        for key, tag in simple.items():
            if key in opts:
                f[tag] = opts.pop(key)
        yes_no = {"dncp": 7010, "locate": 114, "eligible": 7013}
        for key, tag in yes_no.items():
            if key in opts:
                f[tag] = "Y" if opts.pop(key).lower() in YES else "N"
        if "eligible" in flags:
            f[7013] = "Y"
        if "minqty_action" in opts:
            f[7012] = {"aon": "A", "cancel": "C"}.get(opts.pop("minqty_action"), "A")
        return f

    def _new(self, pos: list[str], opts: dict[str, str], flags: set[str]) -> bytes:
        if len(pos) != 3 or pos[0].lower() not in SIDES:
            raise CommandError("usage: new buy|sell|short|exempt SYMBOL QTY [options]")
        side, symbol, qty = SIDES[pos[0].lower()], pos[1].upper(), pos[2]
        cl = self.next_id(opts)
        terms = self._terms(opts, flags)
        if opts:
            raise CommandError(f"unknown option(s): {', '.join(opts)}")
        self.orders[cl] = OrderState(symbol, side, qty, terms)
        fields = {11: cl, 21: "1", 55: symbol, 54: side, 38: qty, **terms, 60: _now()}
        return _body(fields)

    def _cancel(self, pos: list[str], opts: dict[str, str]) -> bytes:
        if len(pos) != 1:
            raise CommandError("usage: cancel CLORDID")
        orig = pos[0]
        known = self.orders.get(orig)
        cl = self.next_id(opts)
        fields = {
            41: orig,
            11: cl,
            55: known.symbol if known else "?",
            54: known.side if known else "1",
            60: _now(),
        }
        if known:
            fields[38] = known.qty
        return _body(fields)

    def _replace(self, pos: list[str], opts: dict[str, str], flags: set[str]) -> bytes:
        if len(pos) != 1 or pos[0] not in self.orders:
            raise CommandError(
                "usage: replace CLORDID [qty=N] [limit=PX] [peg=...] (an order this client sent)"
            )
        orig = pos[0]
        known = self.orders[orig]
        cl = self.next_id(opts)
        qty = opts.pop("qty", known.qty)
        terms = dict(known.fields)
        if {"limit", "peg"} & set(opts) or flags:
            terms = self._terms(opts, flags)
            # the order keeps its class (SPEC 5.1: 7001 may be repeated on a replace)
            if 7001 in known.fields:
                terms.setdefault(7001, known.fields[7001])
        if opts:
            raise CommandError(f"unknown option(s): {', '.join(opts)}")
        self.orders[cl] = OrderState(known.symbol, known.side, qty, terms)
        fields = {
            41: orig,
            11: cl,
            21: "1",
            55: known.symbol,
            54: known.side,
            38: qty,
            **terms,
            60: _now(),
        }
        return _body(fields)

    def invited(self, msg: Message) -> Invitation:
        """Remember a FirmUpRequest (UF) so `firmup` can answer it."""
        inv = Invitation(
            co=msg.get(11) or "",
            symbol=msg.get(55) or "",
            side=msg.get(54) or "",
            qty=msg.get(38) or "",
            expires=msg.get(126) or "",
        )
        self.invitations[inv.co] = inv
        return inv

    def _firm_up(self, pos: list[str], opts: dict[str, str], flags: set[str]) -> bytes:
        if len(pos) != 1:
            raise CommandError("usage: firmup CO_CLORDID [qty=N] [limit=PX] [peg=...] [id=NEWID]")
        co = pos[0]
        known, inv = self.orders.get(co), self.invitations.get(co)
        if known is None and inv is None:
            raise CommandError(f"firmup {co}: no conditional order or invitation of that id here")
        if flags or {"class", "tif", "eligible"} & set(opts):
            raise CommandError("firmup: a firm-up is a firm IOC order (no class, tif, post, moc)")
        if inv is not None:  # the invitation names the CO's side, symbol and quantity
            symbol, side, qty = inv.symbol, inv.side, inv.qty
        else:
            assert known is not None
            symbol, side, qty = known.symbol, known.side, known.qty
        if known is not None:  # and our own record of the CO wins where we have one
            symbol, side = known.symbol, known.side
        qty = opts.pop("qty", "") or qty
        cl = self.next_id(opts)
        new_price = bool({"limit", "peg"} & set(opts))
        terms = self._terms(opts, flags)
        if known is not None and not new_price:  # the CO's own terms
            del terms[40]
            terms = {
                **{t: v for t, v in known.fields.items() if t not in NOT_FIRMED_UP},
                **terms,
            }
        if opts:
            raise CommandError(f"unknown option(s): {', '.join(opts)}")
        terms[59] = "3"
        self.orders[cl] = OrderState(symbol, side, qty, terms)
        fields = {11: cl, 21: "1", 55: symbol, 54: side, 38: qty, **terms, 7002: co, 60: _now()}
        return _body(fields)


def _now() -> str:
    return format_utc(time.time_ns(), "ms")


def _body(fields: dict[int, str]) -> bytes:
    return b"".join(b"%d=%s\x01" % (tag, value.encode()) for tag, value in fields.items())


def describe(msg: Message) -> str:
    """One readable line for a message from the gateway."""
    t = msg.msg_type
    g = msg.get
    if t == "8":
        kind = EXEC_TYPES.get(g(150) or "", f"ExecType {g(150)}")
        parts = [
            f"{kind:<9}",
            f"{g(11)}" + (f" (was {g(41)})" if g(41) else ""),
            f"{SIDE_NAMES.get(g(54) or '', g(54))} {g(55)}",
            f"qty={g(38)} cum={g(14)} leaves={g(151)} avg={g(6)}",
        ]
        if g(32):
            liq = {"1": "added", "2": "removed"}.get(g(851) or "", "")
            parts.append(f"last={g(32)}@{g(31)} {liq}".rstrip())
        if g(115):
            parts.insert(0, f"[{g(115)}]")
        if g(103):
            parts.append(f"reason={g(103)}")
        if g(58):
            parts.append(f"text={g(58)!r}")
        if msg.poss_dup:
            parts.append("(resent)")
        parts.append(f"order={g(37)} exec={g(17)} time={g(60)}")
        return "  ".join(parts)
    if t == "UF":  # FirmUpRequest: an invitation to firm up a conditional order
        parts = [
            f"{'INVITED':<9}",
            f"CO={g(11)}",
            f"{SIDE_NAMES.get(g(54) or '', g(54))} {g(55)}",
            f"qty={g(38)} expires={g(126)}",
        ]
        if msg.poss_dup:
            parts.append("(resent)")
        parts.append(f"order={g(37)} exec={g(17)} time={g(60)}")
        return "  ".join(parts)
    if t == "9":
        return f"CXL-REJ   {g(11)} orig={g(41)} reason={g(102)} text={g(58)!r}"
    if t in ("3", "j"):
        return f"REJECT    35={t} ref={g(45)} {g(372) or ''} text={g(58)!r}"
    if t == "5":
        return f"LOGOUT    text={g(58) or ''!r}"
    return f"35={t} {msg.raw!r}"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="ats-client",
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--config", type=Path, required=True, help="the gateway's config TOML")
    p.add_argument("--session", help="our SenderCompID: the session's target_comp_id")
    p.add_argument("--host", help="gateway address (default: the config's)")
    p.add_argument("--port", type=int, help="gateway port (default: the config's)")
    p.add_argument("--script", type=Path, help="a file of commands")
    p.add_argument("--watch", action="store_true", help="print what a drop-copy session receives")
    p.add_argument(
        "--state-dir",
        type=Path,
        default=Path(os.environ.get("ATS_CLIENT_STATE_DIR") or ".ats-client"),
        help="sequence numbers and sent messages kept here (default $ATS_CLIENT_STATE_DIR, "
        "else .ats-client)",
    )
    p.add_argument("--reset", action="store_true", help="log on with ResetSeqNumFlag (141=Y)")
    p.add_argument(
        "--auto-firmup",
        action="store_true",
        help="answer every firm-up invitation (UF) at once: `firmup CO` with the invited "
        "quantity and the CO's own terms",
    )
    p.add_argument(
        "--linger",
        type=float,
        default=2.0,
        help="seconds to wait for reports after the last command (default 2)",
    )
    p.add_argument(
        "--duration",
        type=float,
        default=0.0,
        help="with --watch: stop after this many seconds (default: until Ctrl-C)",
    )
    p.add_argument("commands", nargs="*", help="commands, e.g. 'new buy AAPL 100 peg=mid'")
    return p


LOST = 3  # exit status when the gateway ended the session (or the connection dropped)
MAX_LINE = 1024  # characters in one command line


def lost_message(initiator: Initiator) -> str:
    """What to tell the user when the session ended without our Logout."""
    if initiator.logout_text is not None:
        why = initiator.logout_text or "no reason given"
        return f"ats-client: session lost: the gateway logged out ({why})"
    return "ats-client: session lost: the gateway closed the connection"


async def run(args: argparse.Namespace) -> int:
    cfg = load_config(args.config)
    role = "drop_copy" if args.watch else "order_entry"
    session_cfg: SessionConfig = find_session(cfg, args.session, role)

    me = session_cfg.target_comp_id
    commands = Commands(f"{me}-{time.strftime('%H%M%S')}")
    initiator: Initiator | None = None

    def firm_up(co: str) -> None:
        assert initiator is not None
        cl = commands.next_id({})
        try:
            parsed = commands.parse(f"firmup {shlex.quote(co)} id={shlex.quote(cl)}")
        except CommandError as exc:
            print(f"ats-client: cannot firm up {co}: {exc}", file=sys.stderr, flush=True)
            return
        assert isinstance(parsed, tuple)
        initiator.send(*parsed)
        print(f"ats-client: --auto-firmup: sent {cl} for CO {co}", file=sys.stderr, flush=True)

    def on_message(msg: Message) -> None:
        # sys.stdout is looked up each time: at the prompt it is the prompt's proxy
        print(describe(msg), file=sys.stdout, flush=True)
        if msg.msg_type == "UF":
            inv = commands.invited(msg)
            if args.auto_firmup and not args.watch:
                if inv.expired(time.time_ns()):
                    print(f"ats-client: --auto-firmup: the invitation for CO {inv.co} expired at "
                          f"{inv.expires}: not answered", file=sys.stderr, flush=True)
                else:
                    asyncio.get_running_loop().call_soon(firm_up, inv.co)

    def on_event(event: SessionEvent) -> None:
        if event.kind == "reject":  # we refused something the gateway sent: never silent
            print(f"ats-client: rejected a message from the gateway: {event.detail.get('text')}",
                  file=sys.stderr, flush=True)
        elif event.kind == "timeout":
            print(f"ats-client: {event.detail.get('reason')}", file=sys.stderr, flush=True)

    initiator = Initiator(
        session_cfg, on_message, state_dir=args.state_dir, reset=args.reset, on_event=on_event
    )
    await initiator.connect(args.host or cfg.gateway.host, args.port or cfg.gateway.port)
    print(f"logged on as {me} to {session_cfg.sender_comp_id}", file=sys.stderr)
    status = 0
    if args.watch:
        try:
            if args.duration > 0:
                await asyncio.wait_for(initiator.closed.wait(), args.duration)
            else:
                await initiator.closed.wait()
        except TimeoutError:
            pass
    else:
        if args.script is None and not args.commands and sys.stdin.isatty():
            status = await prompt_loop(initiator, commands, f"{me}> ")
        else:
            status = await _send_commands(initiator, commands, _script_lines(args))
            if not initiator.closed.is_set():
                await _wait_or_closed(initiator, args.linger)
    if initiator.closed.is_set() and not initiator.logout_requested:
        await initiator.close()
        print(lost_message(initiator), file=sys.stderr, flush=True)
        return LOST
    await initiator.logout("client done")
    return status


async def _wait_or_closed(initiator: Initiator, seconds: float) -> None:
    try:
        await asyncio.wait_for(initiator.closed.wait(), seconds)
    except TimeoutError:
        pass


def _script_lines(args: argparse.Namespace) -> list[str]:
    if args.script is not None:
        return list(args.script.read_text(encoding="utf-8").splitlines())
    if args.commands:
        return list(args.commands)
    return [line for line in sys.stdin]


async def _send_commands(initiator: Initiator, commands: Commands, lines: list[str]) -> int:
    status = 0
    for n, line in enumerate(lines, start=1):
        if initiator.closed.is_set():
            print(f"ats-client: line {n} and after not sent", file=sys.stderr)
            return status
        try:
            status = await _do(initiator, commands, line) or status
        except CommandError as exc:
            print(f"line {n}: {exc}", file=sys.stderr)
            status = 2
    return status


async def _do(initiator: Initiator, commands: Commands, line: str) -> int:
    """Carry out one command line (send, or wait); CommandError if it cannot be."""
    if len(line) > MAX_LINE:
        raise CommandError(f"line longer than {MAX_LINE} characters")
    parsed = commands.parse(line)
    if parsed is None:
        return 0
    if isinstance(parsed, float):
        await _wait_or_closed(initiator, parsed)
        return 0
    msg_type, body = parsed
    initiator.send(msg_type, body)
    await asyncio.sleep(0.05)
    return 0


HELP = __doc__.split("\n\n")[2] + "\n\n" + __doc__.split("\n\n")[3]


async def prompt_loop(initiator: Initiator, commands: Commands, prompt: str) -> int:
    """The interactive prompt: line editing and history; reports print above the prompt.

    Returns 0 on `quit` or Ctrl-D; LOST as soon as the session ends (the caller says why).
    """
    from prompt_toolkit import PromptSession
    from prompt_toolkit.patch_stdout import patch_stdout

    session: PromptSession[str] = PromptSession()
    print("type help for the commands, quit or Ctrl-D to log out", file=sys.stderr)
    with patch_stdout(raw=True):
        closed = asyncio.ensure_future(initiator.closed.wait())
        try:
            while True:
                ask = asyncio.ensure_future(session.prompt_async(prompt))
                await asyncio.wait({ask, closed}, return_when=asyncio.FIRST_COMPLETED)
                if not ask.done():
                    ask.cancel()
                    await asyncio.gather(ask, return_exceptions=True)
                    return LOST
                try:
                    line = ask.result()
                except EOFError:
                    return 0
                except KeyboardInterrupt:
                    continue
                verb = line.strip().lower()
                if verb in ("quit", "exit"):
                    return 0
                if verb in ("help", "?"):
                    print(HELP, flush=True)
                    continue
                try:
                    await _do(initiator, commands, line)
                except CommandError as exc:
                    print(f"ats-client: {exc}", file=sys.stderr, flush=True)
        finally:
            closed.cancel()


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return asyncio.run(run(args))
    except (ConfigError, InitiatorError, OSError) as exc:
        print(f"ats-client: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
