"""The resting orders of one side of one symbol, kept in priority order at the current NBBO.

Prices are handled as *keys* in which smaller is better on both sides: a buy at price p has key
-p, a sell has key p. Every order's Assigned Limit Price (ALP) is ``max(limit_key, ref_key)``
where ``ref_key`` is the key of the NBBO reference its type follows (Part III Item 7, SPEC 4):

    kind   buy follows     sell follows
    BID    NBB (primary)   NBB (limit, market, market peg)
    ASK    NBO (limit, market, market peg)   NBO (primary)
    MID    mid             mid

So an order whose limit is at or through its reference (``limit_key <= ref_key``; market and
unlimited pegs always) is *capped*: it sits in the kind's pool, one floating level whose price is
the reference itself, and an NBBO move re-prices the whole pool at once. Other orders sit in fixed
levels at their limit. A move of a reference only migrates the orders whose limit lies between the
old and the new reference, so an NBBO update never costs time proportional to the whole book.

Inside a level, entries are ``(-inclusion_level, prio_seq, order)`` tuples kept sorted:
Inclusion Level then Time. Broker priority depends on the taker and is applied while matching.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left, bisect_right, insort
from collections.abc import Iterator

from matcher.types import OrdType, Peg, Side, TimeInForce

NEG_INF = -(1 << 62)
NO_LIMIT = NEG_INF - 1  # the limit key of a market order or an unlimited peg
KIND_BID, KIND_ASK, KIND_MID = 0, 1, 2

Entry = tuple[int, int, "Order"]


class Settings:
    """Static interaction attributes shared by every order of one participant / session setup.

    ``blocked`` caches, per contra ``Settings``, whether an order with these settings as the
    taker may never meet such a contra (self-match prevention, DNCP): both are fixed for an
    order's life, so each pair of setups is worked out once.
    """

    __slots__ = ("pid", "bg", "aff", "is_bd", "taker_level", "smp", "smp_aff", "dncp",
                 "op_principal", "blocked")

    def __init__(self, pid: str, bg: str, aff: str, is_bd: bool, taker_level: int, smp: bool,
                 smp_aff: bool, dncp: bool, op_principal: bool) -> None:
        self.pid, self.bg, self.aff, self.is_bd = pid, bg, aff, is_bd
        self.taker_level, self.smp, self.smp_aff = taker_level, smp, smp_aff
        self.dncp, self.op_principal = dncp, op_principal
        self.blocked: dict[Settings, bool] = {}

    def blocks(self, c: Settings) -> bool:
        """True when a taker with these settings may never meet a contra with ``c``'s."""
        b = self.blocked.get(c)
        if b is None:
            b = self.blocked[c] = (
                (self.smp or c.smp) and _self_match(self, c)
            ) or (self.dncp and c.op_principal) or (c.dncp and self.op_principal)
        return b


def _self_match(a: Settings, b: Settings) -> bool:
    """SMP: either side's session has it on and they share participant / affiliate group."""
    if a.smp and (a.aff == b.aff if a.smp_aff else a.pid == b.pid):
        return True
    return b.smp and (a.aff == b.aff if b.smp_aff else a.pid == b.pid)


class Order:
    """The engine's mutable state of one order (identity equality on purpose)."""

    __slots__ = (
        "order_id", "session", "cl_ord_id", "pid", "symbol", "side", "is_buy", "qty", "cum",
        "notional", "ord_type", "peg", "limit", "limit_key", "kind", "tif", "min_qty",
        "min_cancel", "post_only", "incl", "prio_seq", "entry", "level", "open", "short",
        "bg", "cfg", "locate_reqd", "locate_broker",
    )

    def __init__(self, order_id: int, session: str, cl_ord_id: str, symbol: str,
                 tif: TimeInForce, cfg: Settings, prio_seq: int) -> None:
        self.order_id = order_id
        self.session = session
        self.cl_ord_id = cl_ord_id
        self.symbol = symbol
        self.tif = tif
        self.cfg = cfg
        self.pid = cfg.pid
        self.bg = cfg.bg
        self.prio_seq = prio_seq
        self.entry: Entry | None = None
        self.level: Level | None = None
        self.open = True
        self.cum = 0
        self.notional = 0

    # attribute annotations for mypy (set by the engine)
    side: Side
    is_buy: bool
    qty: int
    ord_type: OrdType
    peg: Peg
    limit: int | None
    limit_key: int
    kind: int
    min_qty: int
    min_cancel: bool
    post_only: bool
    incl: int
    short: bool
    locate_reqd: bool | None
    locate_broker: str | None

    @property
    def leaves(self) -> int:
        """Open quantity (0 once done)."""
        return self.qty - self.cum if self.open else 0


class Level:
    """Orders at one priority price: a fixed limit price or a kind's floating pool."""

    __slots__ = ("key", "entries", "pool", "heap", "by_bg")

    def __init__(self, key: int, pool: bool) -> None:
        self.key = key
        self.entries: list[Entry] = []
        # the same entries per broker group, for Broker priority without scanning the level
        self.by_bg: dict[str, list[Entry]] = {}
        self.pool = pool
        # pools only: (-limit_key, push_no, order) to find capped orders that become uncapped
        self.heap: list[tuple[int, int, Order]] = []

    def add(self, o: Order) -> None:
        """Insert at the order's Inclusion Level / Time position."""
        e = (-o.incl, o.prio_seq, o)
        entries = self.entries
        if not entries or entries[-1] < e:
            entries.append(e)
        else:
            insort(entries, e)
        group = self.by_bg.get(o.bg)
        if group is None:
            self.by_bg[o.bg] = [e]
        elif group[-1] < e:
            group.append(e)
        else:
            insort(group, e)
        o.entry = e
        o.level = self

    def discard(self, o: Order) -> None:
        """Remove the order's entry (bisect on its unique (inclusion, time) key)."""
        e = o.entry
        if e is None:
            return
        for entries in (self.entries, self.by_bg[o.bg]):
            if entries[0] is e:
                del entries[0]
            else:
                del entries[bisect_left(entries, e[:2])]
        if not self.by_bg[o.bg]:
            del self.by_bg[o.bg]
        o.entry = None
        o.level = None


class SideBook:
    """One side (buys or sells) of one symbol."""

    __slots__ = ("is_buy", "fixed", "keys", "pools", "ref_keys", "_push_no")

    def __init__(self, is_buy: bool) -> None:
        self.is_buy = is_buy
        self.fixed: dict[int, Level] = {}
        self.keys: list[int] = []  # sorted keys of the fixed levels
        self.pools = [Level(NEG_INF, True) for _ in range(3)]
        self.ref_keys = [NEG_INF, NEG_INF, NEG_INF]  # NEG_INF: no NBBO yet, ALP = limit
        self._push_no = 0

    def __len__(self) -> int:
        return sum(len(lv.entries) for lv in self.fixed.values()) + sum(
            len(p.entries) for p in self.pools
        )

    def alp_key(self, o: Order) -> int:
        """The order's ALP as a key (without any Rule 201 floor)."""
        r = self.ref_keys[o.kind]
        return o.limit_key if o.limit_key > r else r

    def insert(self, o: Order) -> None:
        """Rest an order in its pool (capped) or at its limit level."""
        k = o.kind
        if o.limit_key <= self.ref_keys[k]:
            pool = self.pools[k]
            pool.add(o)
            if o.limit_key != NO_LIMIT:
                self._push_no += 1
                heapq.heappush(pool.heap, (-o.limit_key, self._push_no, o))
            return
        key = o.limit_key
        level = self.fixed.get(key)
        if level is None:
            level = self.fixed[key] = Level(key, False)
            insort(self.keys, key)
        level.add(o)

    def remove(self, o: Order) -> None:
        """Take an order out of the book."""
        level = o.level
        if level is None:
            return
        level.discard(o)
        if not level.pool and not level.entries:
            self._drop_level(level.key)
        elif level.pool and len(level.heap) > 2 * len(level.entries) + 64:
            level.heap = [(-x.limit_key, n, x) for n, (_, _, x) in enumerate(level.entries)
                          if x.limit_key != NO_LIMIT]
            heapq.heapify(level.heap)

    def _drop_level(self, key: int) -> None:
        del self.fixed[key]
        del self.keys[bisect_left(self.keys, key)]

    def best_key(self) -> int | None:
        """Key of the best ALP on this side (None if empty)."""
        best = self.keys[0] if self.keys else None
        pools, refs = self.pools, self.ref_keys
        for k in (0, 1, 2):
            if pools[k].entries:
                r = refs[k]
                if best is None or r < best:
                    best = r
        return best

    def set_ref(self, kind: int, new: int) -> None:
        """Move a kind's reference and migrate only the orders its move crosses."""
        old = self.ref_keys[kind]
        if new == old:
            return
        self.ref_keys[kind] = new
        pool = self.pools[kind]
        pool.key = new
        if new > old:  # the reference got worse: fixed orders of this kind become capped
            keys = self.keys
            lo, hi = bisect_right(keys, old), bisect_right(keys, new)
            if lo == hi:
                return
            for key in keys[lo:hi]:
                level = self.fixed[key]
                movers = [e[2] for e in level.entries if e[2].kind == kind]
                for o in movers:
                    level.discard(o)
                    pool.add(o)
                    self._push_no += 1
                    heapq.heappush(pool.heap, (-o.limit_key, self._push_no, o))
                if not level.entries:
                    self._drop_level(key)
            return
        heap = pool.heap  # the reference got better: capped orders with a worse limit leave
        while heap and -heap[0][0] > new:
            _, _, o = heapq.heappop(heap)
            if o.level is pool and o.limit_key > new:
                pool.discard(o)
                self.insert(o)

    def levels_upto(self, bound: int) -> Iterator[tuple[int, list[Level]]]:
        """Levels whose key <= bound, grouped by equal key, best first (lazily)."""
        pools = [(self.ref_keys[k], k) for k in range(3)
                 if self.pools[k].entries and self.ref_keys[k] <= bound]
        if len(pools) > 1:
            pools.sort()
        keys = self.keys
        n = bisect_right(keys, bound)
        i = 0
        pi = 0
        np_ = len(pools)
        fixed = self.fixed
        while i < n or pi < np_:
            fk = keys[i] if i < n else None
            pk = pools[pi][0] if pi < np_ else None
            if pk is None or (fk is not None and fk < pk):
                assert fk is not None
                yield fk, [fixed[fk]]
                i += 1
                continue
            group = [self.pools[pools[pi][1]]]
            pi += 1
            while pi < np_ and pools[pi][0] == pk:
                group.append(self.pools[pools[pi][1]])
                pi += 1
            if fk == pk:
                group.append(fixed[pk])
                i += 1
            yield pk, group

    def orders(self) -> list[Order]:
        """Every resting order (any order)."""
        out = [e[2] for p in self.pools for e in p.entries]
        for lv in self.fixed.values():
            out.extend(e[2] for e in lv.entries)
        return out
