"""The resting orders of one side of one symbol, kept in priority order at the current NBBO.

Prices are handled as *keys* in which smaller is better on both sides: a buy at price p has key
-p, a sell has key p. Every order's Assigned Limit Price (ALP) is ``max(limit_key, ref_key)``
where ``ref_key`` is the key of the NBBO reference its type follows (Part III Item 7, SPEC 4):

    kind   buy follows     sell follows
    BID    NBB (primary)   NBB (limit, market, market peg)
    ASK    NBO (limit, market, market peg)   NBO (primary)
    MID    mid             mid

Orders rest in levels per (kind, limit key), never per ALP. The levels of one kind whose limit
is at or through the kind's reference (``limit_key <= ref_key``; market orders and unlimited
pegs always) are *capped*: together they form the kind's pool, one floating price level at the
reference. That set is a prefix of the kind's sorted limit keys, so an NBBO move only stores
the new reference: no order moves and the update costs O(1) whatever the size of the book.
Walking the book (``levels_upto``) groups the levels by ALP: a kind's capped prefix at its
reference, then each uncapped level at its limit.

Inside a level the orders themselves are the entries, kept sorted by Inclusion Level then
Time (``incl`` descending, ``prio_seq`` ascending: ``before``). Broker priority depends on the
taker and is applied while matching.
"""

from __future__ import annotations

from operator import itemgetter
from typing import Final

from matcher.types import OrdType, Peg, Side, TimeInForce

# Final: mypyc inlines them. Inside mypyc's tagged (63-bit) ints, so keys stay unboxed.
NEG_INF: Final = -(1 << 61)
NO_LIMIT: Final = -(1 << 61) - 1  # the limit key of a market order or an unlimited peg
#: SideBook.best() of an empty side: above every key (prices are far below 2**61)
EMPTY_KEY: Final = 1 << 61
#: emptied levels a kind may keep for reuse beyond twice its live ones (SideBook.remove)
_KEPT_LEVELS: Final = 64
KIND_BID: Final = 0
KIND_ASK: Final = 1
KIND_MID: Final = 2

_BUY: Final = Side.BUY
_SHORT: Final = Side.SELL_SHORT
_MID_PEG: Final = Peg.MIDPOINT
_PRIMARY_PEG: Final = Peg.PRIMARY


def kind_of(is_buy: bool, peg: Peg) -> int:
    """Which NBBO reference the order's ALP follows (the table above)."""
    if peg is _MID_PEG:
        return KIND_MID
    if peg is _PRIMARY_PEG:
        return KIND_BID if is_buy else KIND_ASK
    return KIND_ASK if is_buy else KIND_BID  # limit, market, market peg


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
    """The engine's mutable state of one order (identity equality on purpose).

    A resting order is its own book entry: levels, broker groups and pools are lists of
    orders kept in (Inclusion Level, Time) order, read from ``incl`` and ``prio_seq``, which
    do not change while the order is in a book (a replace takes it out first).
    """

    __slots__ = (
        "order_id", "session", "cl_ord_id", "pid", "symbol", "side", "is_buy", "qty", "cum",
        "notional", "ord_type", "peg", "limit", "limit_key", "kind", "tif", "min_qty",
        "min_cancel", "post_only", "incl", "prio_seq", "level", "open", "short",
        "bg", "cfg", "locate_reqd", "locate_broker", "opens",
    )
    # Declared here, in this order, because a compiled class lays its fields out in the order
    # of declaration: what a walk reads of every contra it looks at (and a search of every
    # entry it probes) comes first, in the object's first cache lines; the flags pack into one
    # word. The rest is read only for an order that trades.
    open: bool
    is_buy: bool
    short: bool
    min_cancel: bool
    post_only: bool
    incl: int
    prio_seq: int
    cfg: Settings
    bg: str
    qty: int
    cum: int
    min_qty: int
    level: Level | None
    kind: int
    limit_key: int
    notional: int
    order_id: int
    session: str
    cl_ord_id: str
    pid: str
    symbol: str
    side: Side
    #: the open orders of its session (keyed by the order itself, oldest first), set when the
    #: engine registers it: closing an order deletes from it without looking its session up
    #: again. (An identity hash and compare: an order id key is a new boxed int per lookup,
    #: compared with the stored one, a cold object, at every insert and delete.)
    opens: dict[Order, Order]
    tif: TimeInForce
    ord_type: OrdType
    limit: int | None
    peg: Peg
    locate_reqd: bool | None
    locate_broker: str | None

    def __init__(self, order_id: int, session: str, cl_ord_id: str, symbol: str,
                 tif: TimeInForce, cfg: Settings, prio_seq: int, side: Side, qty: int,
                 ord_type: OrdType, limit: int | None, peg: Peg, min_qty: int | None,
                 min_cancel: bool, post_only: bool, incl: int, locate_reqd: bool | None,
                 locate_broker: str | None) -> None:
        # one positional call builds the whole order (the hot path of every NewOrder);
        # set_terms repeats the terms part for a replace
        self.order_id = order_id
        self.session = session
        self.cl_ord_id = cl_ord_id
        self.symbol = symbol
        self.tif = tif
        self.cfg = cfg
        self.pid = cfg.pid
        self.bg = cfg.bg
        self.prio_seq = prio_seq
        self.level = None
        self.open = True
        self.cum = 0
        self.notional = 0
        self.side = side
        self.is_buy = is_buy = side is _BUY
        self.short = side is _SHORT  # Rule 201 applies; short exempt does not
        self.qty, self.ord_type, self.limit, self.peg = qty, ord_type, limit, peg
        self.kind = kind_of(is_buy, peg)
        self.limit_key = NO_LIMIT if limit is None else (-limit if is_buy else limit)
        self.min_qty = min_qty or 0
        self.min_cancel = min_cancel
        self.post_only, self.incl = post_only, incl
        self.locate_reqd, self.locate_broker = locate_reqd, locate_broker

    def set_terms(self, side: Side, qty: int, ord_type: OrdType, limit: int | None, peg: Peg,
                  min_qty: int | None, min_cancel: bool, post_only: bool, incl: int,
                  locate_reqd: bool | None, locate_broker: str | None) -> None:
        """Take a replace's complete new terms (the order must be out of the book)."""
        self.side = side
        self.is_buy = is_buy = side is _BUY
        self.short = side is _SHORT
        self.qty, self.ord_type, self.limit, self.peg = qty, ord_type, limit, peg
        self.kind = kind_of(is_buy, peg)
        self.limit_key = NO_LIMIT if limit is None else (-limit if is_buy else limit)
        self.min_qty = min_qty or 0
        self.min_cancel = min_cancel
        self.post_only, self.incl = post_only, incl
        self.locate_reqd, self.locate_broker = locate_reqd, locate_broker

    @property
    def leaves(self) -> int:
        """Open quantity (0 once done)."""
        return self.qty - self.cum if self.open else 0


def before(x: Order, y: Order) -> bool:
    """``x`` ahead of ``y`` in a level: higher Inclusion Level, then earlier time (prio_seq is
    unique, so two orders are never equal)."""
    return x.incl > y.incl or (x.incl == y.incl and x.prio_seq < y.prio_seq)


def find(entries: list[Order], o: Order) -> int:
    """Where ``o`` is, or goes, in ``entries`` (in (Inclusion Level, Time) order, each key
    unique): the first position whose order is not ahead of ``o``.

    A loop of native int compares over the orders' own fields (``incl``, ``prio_seq``, next to
    each other in the object): no entry tuple and boxed time to read per probe."""
    incl = o.incl
    prio = o.prio_seq
    lo = 0
    hi = len(entries)
    while lo < hi:
        mid = (lo + hi) >> 1
        x = entries[mid]
        a = x.incl
        if a > incl or (a == incl and x.prio_seq < prio):
            lo = mid + 1
        else:
            hi = mid
    return lo


def run_end(entries: list[Order], incl: int, lo: int) -> int:
    """The first position from ``lo`` whose order is of a lower Inclusion Level than
    ``incl``, by native compares."""
    hi = len(entries)
    while lo < hi:
        mid = (lo + hi) >> 1
        if entries[mid].incl >= incl:
            lo = mid + 1
        else:
            hi = mid
    return lo


def key_right(keys: list[int], x: int, lo: int = 0) -> int:
    """``bisect_right(keys, x, lo)`` over a sorted list of keys, by native compares."""
    hi = len(keys)
    while lo < hi:
        mid = (lo + hi) >> 1
        if x < keys[mid]:
            hi = mid
        else:
            lo = mid + 1
    return lo


def key_left(keys: list[int], x: int) -> int:
    """``bisect_left(keys, x)`` over a sorted list of keys, by native compares."""
    lo = 0
    hi = len(keys)
    while lo < hi:
        mid = (lo + hi) >> 1
        if keys[mid] < x:
            lo = mid + 1
        else:
            hi = mid
    return lo


def merge(lists: list[list[Order]]) -> list[Order]:
    """The orders of several lists, each in (Inclusion Level, Time) order, in that order: a
    new list (pairwise merges by native compares, where a sort would need a key per order)."""
    if not lists:
        return []
    runs = lists
    while len(runs) > 1:
        nxt: list[list[Order]] = []
        n = len(runs)
        j = 0
        while j + 1 < n:
            nxt.append(_merge2(runs[j], runs[j + 1]))
            j += 2
        if j < n:
            nxt.append(runs[j])
        runs = nxt
    out = runs[0]
    return out if out is not lists[0] else out[:]


def _merge2(a: list[Order], b: list[Order]) -> list[Order]:
    if not a:
        return b[:]
    if not b:
        return a[:]
    out: list[Order] = []
    i = j = 0
    na, nb = len(a), len(b)
    x, y = a[0], b[0]
    while True:
        if before(x, y):
            out.append(x)
            i += 1
            if i == na:
                out += b[j:]
                return out
            x = a[i]
        else:
            out.append(y)
            j += 1
            if j == nb:
                out += a[i:]
                return out
            y = b[j]


def by_time(orders: list[Order]) -> list[Order]:
    """The orders by prio_seq (unique; a new list): a C sort of (prio_seq, position) pairs, no
    key call per order."""
    keyed = [(orders[i].prio_seq, i) for i in range(len(orders))]
    keyed.sort()
    return [orders[k[1]] for k in keyed]


class Level:
    """Orders of one kind at one limit key (NO_LIMIT: market orders and unlimited pegs)."""

    __slots__ = ("key", "entries", "low", "by_bg")

    def __init__(self, key: int) -> None:
        self.key = key
        self.entries: list[Order] = []
        # At most the Inclusion Level of the last entry (exact after an append; a removal only
        # raises the last entry's): where the newest order's level is not above it, the order
        # goes last without reading the last entry, an order elsewhere in memory.
        self.low = 0
        # The same entries per broker group, for Broker priority without scanning the level.
        # Made when a taker first asks for a group (``group``), then kept up to date by insert
        # and discard: most levels are never walked by a broker-dealer taker before their
        # orders leave, and those pay no dict or list per broker group.
        self.by_bg: dict[str, list[Order]] | None = None

    def group(self, bg: str) -> list[Order]:
        """Broker group ``bg``'s entries, in the level's order (read them, do not change them)."""
        by_bg = self.by_bg
        if by_bg is None:
            by_bg = self.by_bg = {}
            for e in self.entries:
                g = by_bg.get(e.bg)
                if g is None:
                    by_bg[e.bg] = [e]
                else:
                    g.append(e)
        return by_bg.get(bg, _NO_ENTRIES)

    def discard(self, o: Order) -> None:
        """Remove the order's entry (found by ``find`` on its unique (inclusion, time) key; the
        first entry, the commonest case, without a search)."""
        if o.level is None:
            return
        # A list about to empty is replaced by a new empty one: popped to empty, CPython
        # hands its item array to the C allocator (a 0-byte realloc), and the list refilled
        # then grows there, past Python's small-object allocator.
        entries = self.entries
        if len(entries) == 1:
            self.entries = []
        elif entries[0] is o:
            entries.pop(0)  # (pop, not del: compiled, del boxes the index)
        else:
            entries.pop(find(entries, o))
        by_bg = self.by_bg
        if by_bg is not None:
            group = by_bg[o.bg]
            if len(group) == 1:
                by_bg[o.bg] = []
            elif group[0] is o:
                group.pop(0)
            else:
                group.pop(find(group, o))
        o.level = None


class SideBook:
    """One side (buys or sells) of one symbol."""

    __slots__ = ("is_buy", "levels", "keys", "lvls", "pool_ref", "pool", "pool_bg", "pool_low",
                 "hi", "r0", "r1", "r2", "t0", "t1", "t2")

    def __init__(self, is_buy: bool) -> None:
        self.is_buy = is_buy
        # per kind: limit key -> level (and emptied levels kept for reuse: see remove)
        self.levels: list[dict[int, Level]] = [{}, {}, {}]
        self.keys: list[list[int]] = [[], [], []]  # per kind: sorted limit keys
        # per kind: the live levels in the order of ``keys`` (a walk reads the levels it needs
        # by position: no dict lookup by a boxed key, which compares with the stored key object)
        self.lvls: list[list[Level]] = [[], [], []]
        # The references per kind (r0 KIND_BID, r1 KIND_ASK, r2 KIND_MID; NEG_INF: no NBBO yet,
        # ALP = limit; read by ref(kind)) and each kind's first limit key (EMPTY_KEY: no level)
        # as plain attributes: compiled, these are unboxed ints in the object, where a list
        # item is a boxed int to unbox (prices take two PyLong digits) on every read, and an
        # NBBO update stores three ints instead of building a list of three boxed ones.
        self.r0 = self.r1 = self.r2 = NEG_INF
        self.t0 = self.t1 = self.t2 = EMPTY_KEY
        # Per kind, the entries of its pool (the capped levels) merged in Inclusion | Time
        # order, whole and per broker group: the levels capped at pool_ref[kind] (None: not
        # kept). Built when a taker first walks the pool, kept up to date by insert / remove
        # (whatever the reference does since), and taken as it is at a moved reference that
        # caps the same levels (no level key between the two): a taker reads the pool's order
        # instead of merging and sorting its levels again. A move that caps other levels
        # rebuilds it when next walked.
        self.pool_ref: list[int | None] = [None, None, None]
        self.pool: list[list[Order]] = [[], [], []]
        self.pool_bg: list[dict[str, list[Order]]] = [{}, {}, {}]
        # per kind, at most the Inclusion Level of the pool's last entry (as Level.low; 0 when
        # not known)
        self.pool_low: list[int] = [0, 0, 0]
        self.hi = 0  # the highest prio_seq inserted so far (insert: the newest order goes last)

    def __len__(self) -> int:
        return sum(len(lv.entries) for lvs in self.levels for lv in lvs.values())

    def alp_key(self, o: Order) -> int:
        """The order's ALP as a key (without any Rule 201 floor)."""
        r = self.ref(o.kind)
        return o.limit_key if o.limit_key > r else r

    def ref(self, kind: int) -> int:
        """The key of the NBBO reference that ``kind`` follows (NEG_INF before any NBBO)."""
        if kind == 0:
            return self.r0
        if kind == 1:
            return self.r1
        return self.r2

    def insert(self, o: Order) -> None:
        """Rest an order at its (kind, limit) level."""
        key = o.limit_key
        levels = self.levels[o.kind]
        level = levels.get(key)
        if level is None:
            level = levels[key] = Level(key)
        if not level.entries:  # a new level, or an emptied one kept for reuse (see remove)
            keys = self.keys[o.kind]
            lvls = self.lvls[o.kind]
            if not keys or keys[-1] < key:
                keys.append(key)
                lvls.append(level)
            else:
                i = key_left(keys, key)
                keys.insert(i, key)
                lvls.insert(i, level)
            if keys[0] == key:
                self._set_top(o.kind, key)
        # Level.add, inlined: this runs for every resting order
        # The newest order of the side (a new order, or a replace that lost its priority; not
        # a conditional order going back to its book) sorts after every entry of its
        # Inclusion Level: it goes last unless the last entry is of a lower level.
        prio = o.prio_seq
        newest = prio > self.hi
        if newest:
            self.hi = prio
        incl = o.incl
        entries = level.entries
        if not entries or (level.low >= incl or entries[-1].incl >= incl if newest
                           else before(entries[-1], o)):
            entries.append(o)
            level.low = incl
        else:
            i = find(entries, o)
            if i == len(entries):
                level.low = incl
            entries.insert(i, o)
        by_bg = level.by_bg
        if by_bg is not None:  # (made when first asked for: see Level)
            group = by_bg.get(o.bg)
            if group is None:
                by_bg[o.bg] = [o]
            elif not group or (group[-1].incl >= incl if newest else before(group[-1], o)):
                group.append(o)  # (an emptied group is kept, as its level is)
            else:
                group.insert(find(group, o), o)
        o.level = level
        pr = self.pool_ref[o.kind]
        if pr is not None and key <= pr:  # the order joins the kept pool
            pool = self.pool[o.kind]
            lows = self.pool_low
            if newest and (not pool or lows[o.kind] >= incl or pool[-1].incl >= incl):
                pool.append(o)
                lows[o.kind] = incl
            else:
                i = find(pool, o)
                if i == len(pool):
                    lows[o.kind] = incl
                pool.insert(i, o)
            group = self.pool_bg[o.kind].get(o.bg)
            if group is not None:  # (a broker group's list is made when first walked)
                if newest and (not group or group[-1].incl >= incl):
                    group.append(o)
                else:
                    group.insert(find(group, o), o)

    def remove(self, o: Order) -> None:
        """Take an order out of the book."""
        level = o.level
        if level is None:
            return
        pr = self.pool_ref[o.kind]
        if pr is not None and level.key <= pr:  # the order leaves the kept pool
            pool = self.pool[o.kind]
            if len(pool) == 1:  # (a new empty list: see Level.discard)
                self.pool[o.kind] = []
            else:
                pool.pop(0 if pool[0] is o else find(pool, o))
            groups = self.pool_bg[o.kind]
            group = groups.get(o.bg)
            if group is not None:
                if len(group) == 1:
                    groups[o.bg] = []
                else:
                    group.pop(0 if group[0] is o else find(group, o))
        level.discard(o)
        if not level.entries:
            # The emptied level stays in ``levels`` (with its emptied broker group lists), to be
            # reused when an order comes back to its price: no level, list and dict to build
            # and free again, no dict insert and delete. Only ``keys`` lists the levels that
            # hold orders; a lookup by key checks ``entries``. Kept levels are dropped once they
            # outnumber twice the live ones (plus a margin), so memory stays bounded.
            kind = o.kind
            keys = self.keys[kind]
            if len(keys) == 1:  # (new empty lists: see Level.discard)
                self.keys[kind] = []
                self.lvls[kind] = []
                self._set_top(kind, EMPTY_KEY)
            else:
                i = key_left(keys, level.key)
                keys.pop(i)
                self.lvls[kind].pop(i)
                if i == 0:
                    self._set_top(kind, keys[0])
            levels = self.levels[kind]
            if len(levels) > len(self.keys[kind]) * 2 + _KEPT_LEVELS:
                self.levels[kind] = {k: lv for k, lv in levels.items() if lv.entries}

    def _set_top(self, kind: int, key: int) -> None:
        if kind == 0:
            self.t0 = key
        elif kind == 1:
            self.t1 = key
        else:
            self.t2 = key

    def best_key(self) -> int | None:
        """Key of the best ALP on this side (None if empty)."""
        best = self.best()
        return None if best == EMPTY_KEY else best

    def best(self) -> int:
        """``best_key()`` as a plain int, EMPTY_KEY (above every key) when the side is empty:
        compiled, an ``int | None`` is a boxed object, this is not (it runs for every taker)."""
        # unrolled over the three kinds: this runs for every arriving order. A kind without
        # levels has t = EMPTY_KEY, above every reference: it never lowers the minimum.
        t, r = self.t0, self.r0
        best = t if t > r else r
        t, r = self.t1, self.r1
        x = t if t > r else r
        if x < best:
            best = x
        t, r = self.t2, self.r2
        x = t if t > r else r
        if x < best:
            best = x
        return best

    def set_refs(self, bid: int, ask: int, mid: int) -> None:
        """Move the references (keys of the NBB, NBO, mid): pools are re-priced, no order
        moves."""
        self.r0, self.r1, self.r2 = bid, ask, mid

    def share_refs(self, other: SideBook) -> None:
        """Take ``other``'s references."""
        self.r0, self.r1, self.r2 = other.r0, other.r1, other.r2

    def group_at(self, key: int, bg: str | None
                 ) -> tuple[list[Level], tuple[list[Order], list[Order]] | None]:
        """``(levels, None)``: the levels whose ALP key is exactly ``key`` (the first group of
        ``levels_upto`` when ``key`` is ``best_key()``: a taker that fills at the best price
        never lists the levels behind it); or, when those levels are exactly one kind's pool of
        more than one level, ``([], pool_at(...))``: the kept merged entries without listing
        the pool's levels (a taker's first group is most often a pool, walked once per taker)."""
        out: list[Level] = []
        pool_kind = -1
        n = 0
        for k in range(3):  # (a native loop; a tuple literal is iterated generically)
            ks = self.keys[k]
            if not ks:
                continue
            r = self.ref(k)
            if key > r:
                # (a key outside the kind's range has no level: no boxed key, no dict lookup)
                if ks[0] <= key <= ks[-1]:
                    lv = self.levels[k].get(key)
                    if lv is not None and lv.entries:  # (not an emptied level kept for reuse)
                        out.append(lv)
            elif key == r and ks[0] <= r:
                if len(ks) == 1 or ks[1] > r:
                    out.append(self.lvls[k][0])
                elif pool_kind < 0:
                    pool_kind = k
                    n = key_right(ks, r)
                else:  # a second kind's pool at the same price (a locked NBBO): its levels
                    m = key_right(ks, r)
                    out += self.lvls[k][:m]
        if pool_kind < 0:
            return out, None
        if not out:
            return out, self._kept_pool(pool_kind, key, n, bg)
        out += self.lvls[pool_kind][:n]
        return out, None

    def next_key(self, prev: int) -> int:
        """The smallest ALP key above ``prev`` that any level has (EMPTY_KEY: none): the key of
        the group after ``prev`` in ``levels_upto``'s order, without listing the levels."""
        best = EMPTY_KEY
        for k in range(3):
            ks = self.keys[k]
            if not ks:
                continue
            r = self.ref(k)
            if r > prev and ks[0] <= r:
                x = r  # the kind's pool, ahead of its uncapped levels
            else:
                i = key_right(ks, r if r > prev else prev)
                if i == len(ks):
                    continue
                x = ks[i]
            if x < best:
                best = x
        return best

    def pool_at(self, key: int, n: int, bg: str | None) -> tuple[list[Order], list[Order]] | None:
        """The merged entries (all, and broker group ``bg``'s) of the group of ``n`` levels at
        ALP ``key`` when that group is exactly one kind's pool; None otherwise (merge the
        levels). The lists are the kept ones: read them, do not change them."""
        for k in range(3):
            if self.ref(k) != key:
                continue
            ks = self.keys[k]
            if not ks or ks[0] > key or key_right(ks, key) != n:
                return None  # no pool, or other kinds' levels share the price
            return self._kept_pool(k, key, n, bg)
        return None

    def _kept_pool(self, k: int, key: int, n: int, bg: str | None
                   ) -> tuple[list[Order], list[Order]]:
        """Kind ``k``'s pool (its first ``n`` levels, capped at ``key``), merged; kept."""
        lvls = self.lvls[k]
        pr = self.pool_ref[k]
        if pr is not None and pr != key:
            # the kept pool holds the levels capped at pr: bring it to the levels capped at
            # key when few entries change (a bisect each, where a rebuild merges the whole
            # pool and so reads every entry)
            lo = key_right(self.keys[k], pr)
            a, b = (lo, n) if lo < n else (n, lo)
            m = 0
            for j in range(a, b):
                m += len(lvls[j].entries)
            if m * 8 <= len(self.pool[k]):
                self._pool_move(k, a, b, lo < n)
                pr = self.pool_ref[k] = key
        if pr != key:
            pool = merge([lvls[j].entries for j in range(n)])
            self.pool_low[k] = 0
            self.pool[k], self.pool_bg[k], self.pool_ref[k] = pool, {}, key
        if bg is None:
            return self.pool[k], _NO_ENTRIES
        group = self.pool_bg[k].get(bg)
        if group is None:
            group = merge([lvls[j].group(bg) for j in range(n)])
            self.pool_bg[k][bg] = group
        return self.pool[k], group

    def _pool_move(self, k: int, a: int, b: int, join: bool) -> None:
        """Kind ``k``'s levels ``a`` to ``b`` (positions in ``keys``) join the kept pool (and its
        broker groups) or leave it."""
        pool = self.pool[k]
        lvls = self.lvls[k]
        groups = self.pool_bg[k]
        if join:
            self.pool_low[k] = 0
        for j in range(a, b):
            lv = lvls[j]
            for e in lv.entries:
                if join:
                    pool.insert(find(pool, e), e)
                else:
                    pool.pop(find(pool, e))
            for gbg, group in groups.items():
                for e in lv.group(gbg):
                    if join:
                        group.insert(find(group, e), e)
                    else:
                        group.pop(find(group, e))

    def levels_upto(self, bound: int) -> list[tuple[int, list[Level]]]:
        """Levels whose ALP key <= bound, grouped by equal ALP key, best first."""
        out: list[tuple[int, list[Level]]] = []
        for k in range(3):
            ks = self.keys[k]
            if not ks:
                continue
            r = self.ref(k)
            if ks[0] > bound or r > bound:
                continue
            lvls = self.lvls[k]
            n = key_right(ks, r)  # the capped prefix: one pool at the reference
            if n:
                out.append((r, lvls[:n]))
            for j in range(n, key_right(ks, bound, n)):
                out.append((ks[j], [lvls[j]]))
        if len(out) > 1:
            out.sort(key=_FIRST)
            merged = [out[0]]
            for key, lvs in out[1:]:
                if key == merged[-1][0]:
                    merged[-1] = (key, merged[-1][1] + lvs)
                else:
                    merged.append((key, lvs))
            return merged
        return out

    def entries_upto(self, bound: int) -> list[Order]:
        """The entries of every level whose ALP key <= bound, in no particular order (what
        ``levels_upto`` lists, without grouping or sorting the levels)."""
        out: list[Order] = []
        for k in range(3):
            ks = self.keys[k]
            if not ks or ks[0] > bound or self.ref(k) > bound:
                continue
            # capped levels (limit <= reference <= bound) and uncapped ones up to bound
            lvls = self.lvls[k]
            for j in range(key_right(ks, bound)):
                out += lvls[j].entries
        return out

    def orders(self) -> list[Order]:
        """Every resting order (any order)."""
        return [e for lvs in self.levels for lv in lvs.values() for e in lv.entries]


_FIRST: Final = itemgetter(0)
_NO_ENTRIES: Final[list[Order]] = []
