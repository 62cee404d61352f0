"""Geospatial commands: GEOADD GEOPOS GEODIST GEOHASH GEOSEARCH GEOSEARCHSTORE GEORADIUS
GEORADIUSBYMEMBER and the _RO forms.

A geo index is an ordinary sorted set whose scores are 52-bit geohashes
(datatypes/geohash.py), so every ZSET command works on it. GEOADD is ZADD with the
coordinates turned into scores, exactly as Valkey rewrites it: ZADD's reply, its "zadd"
event, and it propagates as that ZADD.
"""
from __future__ import annotations

from .. import errors
from ..datatypes import geohash as gh
from ..datatypes.zset import ZSet, limits_of
from ..engine.client import Client
from ..engine.registry import COMMANDS, KeySpec, command
from ..protocol.replies import NULL_ARRAY, Raw
from .util import parse_float, parse_int

_GROUP = "geo"
_RO_SPEC = KeySpec(("RO", "access"), ("index", 1), ("range", 0, 1, 0))
_NEAR_HISTORY = (("6.2.0", "Added the `ANY` option for `COUNT`."),
                 ("7.0.0", "Added support for uppercase unit names."))
_SEARCH_COMPLEXITY = ("O(N+log(M)) where N is the number of elements inside the bounding box of "
                      "the circular area delimited by center and radius and M is the number of "
                      "items inside the index.")


def _zset(c: Client, key: bytes) -> ZSet | None:
    return c.db.get_typed(key, ZSet)


def _lonlat(lon_arg: bytes, lat_arg: bytes) -> tuple[float, float]:
    """extractLongLatOrReply: two floats within the indexable ranges."""
    lon = parse_float(lon_arg)
    lat = parse_float(lat_arg)
    if lon < gh.LONG_MIN or lon > gh.LONG_MAX or lat < gh.LAT_MIN or lat > gh.LAT_MAX:
        raise errors.geo_invalid_pair(lon, lat)
    return lon, lat


def _unit(arg: bytes) -> float:
    factor = gh.UNITS.get(arg.lower())
    if factor is None:
        raise errors.GEO_UNIT
    return factor


def _coordinate(c: Client, x: float):
    """addReplyHumanLongDouble: a bulk string in RESP2, a double with the same digits in RESP3."""
    text = gh.format_coordinate(x)
    return Raw(b",%s\r\n" % text) if c.resp == 3 else text


# ---------------------------------------------------------------- GEOADD
@command("geoadd", arity=-5, flags="write denyoom", keys=1, key_flags="RW update", group=_GROUP,
         since="3.2.0", history=(("6.2.0", "Added the `CH`, `NX` and `XX` options."),),
         complexity="O(log(N)) for each item added, where N is the number of elements in the "
                    "sorted set.",
         summary="Adds members with their longitude and latitude to a geospatial index, creating "
                 "the key if needed.",
         args="key:key [condition: NX | XX]@6.2.0 [change=CH]@6.2.0 "
              "(data: longitude:double latitude:double member)...")
def geoadd(c: Client, key: bytes, *args: bytes):
    i = 0
    nx = xx = False
    while i < len(args):
        opt = args[i].lower()
        if opt == b"nx":
            nx = True
        elif opt == b"xx":
            xx = True
        elif opt != b"ch":
            break
        i += 1
    rest = args[i:]
    if len(rest) % 3 or (nx and xx):
        raise errors.SYNTAX
    zadd_args = list(args[:i])
    for j in range(0, len(rest), 3):
        lon, lat = _lonlat(rest[j], rest[j + 1])
        zadd_args.append(b"%d" % gh.score_of(lon, lat))
        zadd_args.append(rest[j + 2])
    reply = COMMANDS[b"zadd"].func(c, key, *zadd_args)
    c.propagate_argv = [b"zadd", key, *zadd_args]
    return reply


# ---------------------------------------------------------------- point lookups
@command("geopos", arity=-2, flags="readonly", keys=1, key_flags="RO access", group=_GROUP,
         since="3.2.0", complexity="O(1) for each member requested.",
         summary="Returns the longitude and latitude of members of a geospatial index.",
         args="key:key [member...]")
def geopos(c: Client, key: bytes, *members: bytes) -> list:
    z = _zset(c, key)
    out: list = []
    for m in members:
        score = z.score(m) if z is not None else None
        if score is None:
            out.append(NULL_ARRAY)
        else:
            lon, lat = gh.lonlat_of(score)
            out.append([_coordinate(c, lon), _coordinate(c, lat)])
    return out


@command("geohash", arity=-2, flags="readonly", keys=1, key_flags="RO access", group=_GROUP,
         since="3.2.0", complexity="O(1) for each member requested.",
         summary="Returns members of a geospatial index as standard 11-character geohash strings.",
         args="key:key [member...]")
def geohash(c: Client, key: bytes, *members: bytes) -> list:
    z = _zset(c, key)
    out: list = []
    for m in members:
        score = z.score(m) if z is not None else None
        out.append(None if score is None else gh.geohash_string(score))
    return out


@command("geodist", arity=-4, flags="readonly", keys=1, key_flags="RO access", group=_GROUP,
         since="3.2.0", complexity="O(1)",
         summary="Returns the distance between two members of a geospatial index.",
         args="key:key member1 member2 [unit: M | KM | FT | MI]")
def geodist(c: Client, key: bytes, member1: bytes, member2: bytes, *unit: bytes):
    to_meter = 1.0
    if len(unit) == 1:
        to_meter = _unit(unit[0])
    elif len(unit) > 1:
        raise errors.SYNTAX
    z = _zset(c, key)
    if z is None:
        return None
    s1 = z.score(member1)
    s2 = z.score(member2)
    if s1 is None or s2 is None:
        return None
    lon1, lat1 = gh.lonlat_of(s1)
    lon2, lat2 = gh.lonlat_of(s2)
    return gh.format_distance(gh.distance(lon1, lat1, lon2, lat2) / to_meter)


# ---------------------------------------------------------------- searches
_COORDS, _MEMBER, _NOSTORE, _SEARCH, _SEARCHSTORE = 1, 2, 4, 8, 16


def _distance_arg(args: tuple[bytes, ...], i: int) -> tuple[float, float]:
    """extractDistanceOrReply: <radius> <unit> -> (radius, metres per unit)."""
    radius = parse_float(args[i], errors.GEO_NEED_RADIUS)
    if radius < 0:
        raise errors.GEO_NEGATIVE_RADIUS
    return radius, _unit(args[i + 1])


def _collect(z: ZSet, shape: gh.Shape, limit: int) -> list[tuple[float, float, float, float, bytes]]:
    """membersOfAllNeighbors: (lon, lat, dist, score, member) of the points inside the shape,
    cell by cell in Valkey's order, stopping early at ``limit`` (ANY)."""
    found: list[tuple[float, float, float, float, bytes]] = []
    for bits, step in gh.search_boxes(shape):
        if found and limit and len(found) >= limit:
            break
        lo, hi = gh.score_range(bits, step)
        i, j = z.score_span(float(lo), float(hi), False, True)
        while i < j:
            chunk = z.slice(i, min(j, i + 1024))
            i += len(chunk)
            if gh.filter_points(shape, chunk, found, limit):
                return found
    return found


def _partial_sort(items: list, descending: bool, upto: int) -> None:
    """Order ``items`` by distance so that positions 0..upto are right, exactly as Valkey's
    pqsort (NetBSD's quicksort that skips the partitions outside the wanted range) leaves
    them: which of several equally distant points make the cut depends on it."""
    sign = -1 if descending else 1

    def cmp(x, y) -> int:
        dx, dy = x[2], y[2]
        return sign * ((dx > dy) - (dx < dy))

    def swap(i: int, j: int) -> None:
        items[i], items[j] = items[j], items[i]

    def med3(i: int, j: int, k: int) -> int:
        if cmp(items[i], items[j]) < 0:
            return j if cmp(items[j], items[k]) < 0 else (k if cmp(items[i], items[k]) < 0 else i)
        return j if cmp(items[j], items[k]) > 0 else (i if cmp(items[i], items[k]) < 0 else k)

    def wanted(start: int, count: int) -> bool:
        return not ((upto_lo < start and upto < start)
                    or (upto_lo >= start + count and upto >= start + count))

    upto_lo = 0

    def sort(a: int, n: int) -> None:
        while True:
            if n < 7:
                for pm in range(a + 1, a + n):
                    pl = pm
                    while pl > a and cmp(items[pl - 1], items[pl]) > 0:
                        swap(pl, pl - 1)
                        pl -= 1
                return
            pm = a + n // 2
            if n > 7:
                pl, pn = a, a + n - 1
                if n > 40:
                    d = n // 8
                    pl = med3(pl, pl + d, pl + 2 * d)
                    pm = med3(pm - d, pm, pm + d)
                    pn = med3(pn - 2 * d, pn - d, pn)
                pm = med3(pl, pm, pn)
            swap(a, pm)
            pa = pb = a + 1
            pc = pd = a + n - 1
            while True:
                while pb <= pc:
                    r = cmp(items[pb], items[a])
                    if r > 0:
                        break
                    if r == 0:
                        swap(pa, pb)
                        pa += 1
                    pb += 1
                while pb <= pc:
                    r = cmp(items[pc], items[a])
                    if r < 0:
                        break
                    if r == 0:
                        swap(pc, pd)
                        pd -= 1
                    pc -= 1
                if pb > pc:
                    break
                swap(pb, pc)
                pb += 1
                pc -= 1
            pn = a + n
            r = min(pa - a, pb - pa)
            for k in range(r):
                swap(a + k, pb - r + k)
            r = min(pd - pc, pn - pd - 1)
            for k in range(r):
                swap(pb + k, pn - r + k)
            r = pb - pa
            if r > 1 and wanted(a, r):
                sort(a, r)
            r = pd - pc
            if r > 1:
                a, n = pn - r, r
                if wanted(a, n):
                    continue
            return

    sort(0, len(items))


def _typed_name(c: Client, name: str) -> str:
    """The command name as the client spelled it (Valkey prints argv[0] in two errors)."""
    argv = c.server.current_argv
    return errors.text(argv[0]) if argv else name


def _search(c: Client, name: str, args: tuple[bytes, ...], flags: int, store_key: bytes | None = None):
    """georadiusGeneric. ``args`` start at the source key."""
    db = c.db
    server = c.server
    key = args[0]
    z = _zset(c, key)
    shape = gh.Shape()
    if flags & _COORDS:
        base = 5
        shape.lon, shape.lat = _lonlat(args[1], args[2])
        shape.radius, shape.conversion = _distance_arg(args, 3)
    elif flags & _MEMBER:
        base = 4
        if z is not None:
            score = z.score(args[1])
            if score is None:
                raise errors.GEO_MEMBER_DECODE
            shape.lon, shape.lat = gh.lonlat_of(score)
            shape.radius, shape.conversion = _distance_arg(args, 2)
    else:
        base = 1
    withdist = withhash = withcoord = any_ = False
    frommember = fromloc = byradius = bybox = False
    sort = 0                                 # 0 none, 1 asc, 2 desc
    count = 0
    storedist = False
    i = base
    n = len(args)
    while i < n:
        arg = args[i].lower()
        left = n - i                         # this argument and the ones after it
        if arg == b"withdist":
            withdist = True
        elif arg == b"withhash":
            withhash = True
        elif arg == b"withcoord":
            withcoord = True
        elif arg == b"any":
            any_ = True
        elif arg == b"asc":
            sort = 1
        elif arg == b"desc":
            sort = 2
        elif arg == b"count" and left > 1:
            count = parse_int(args[i + 1])
            if count <= 0:
                raise errors.GEO_COUNT
            i += 1
        elif arg in (b"store", b"storedist") and left > 1 and not flags & (_NOSTORE | _SEARCH):
            store_key = args[i + 1]
            storedist = arg == b"storedist"
            i += 1
        elif arg == b"storedist" and flags & _SEARCHSTORE:
            storedist = True
        elif arg == b"frommember" and left > 1 and flags & _SEARCH and not fromloc:
            if z is not None:
                score = z.score(args[i + 1])
                if score is None:
                    raise errors.GEO_MEMBER_DECODE
                shape.lon, shape.lat = gh.lonlat_of(score)
            frommember = True
            i += 1
        elif arg == b"fromlonlat" and left > 2 and flags & _SEARCH and not frommember:
            shape.lon, shape.lat = _lonlat(args[i + 1], args[i + 2])
            fromloc = True
            i += 2
        elif arg == b"byradius" and left > 2 and flags & _SEARCH and not bybox:
            shape.radius, shape.conversion = _distance_arg(args, i + 1)
            shape.kind = gh.CIRCULAR
            byradius = True
            i += 2
        elif arg == b"bybox" and left > 3 and flags & _SEARCH and not byradius:
            width = parse_float(args[i + 1], errors.GEO_NEED_WIDTH)
            height = parse_float(args[i + 2], errors.GEO_NEED_HEIGHT)
            if height < 0 or width < 0:
                raise errors.GEO_NEGATIVE_BOX
            shape.conversion = _unit(args[i + 3])
            shape.width, shape.height = width, height
            shape.kind = gh.RECTANGLE
            bybox = True
            i += 3
        else:
            raise errors.SYNTAX
        i += 1
    if store_key is not None and (withdist or withhash or withcoord):
        raise errors.geo_store_incompatible(
            "GEOSEARCHSTORE" if flags & _SEARCHSTORE else "STORE option in GEORADIUS")
    if flags & _SEARCH and not (frommember or fromloc):
        raise errors.geo_need_center(_typed_name(c, name))
    if flags & _SEARCH and not (byradius or bybox):
        raise errors.geo_need_shape(_typed_name(c, name))
    if any_ and not count:
        raise errors.GEO_ANY_NEEDS_COUNT
    if z is None:
        if store_key is not None:
            if db.delete(store_key):
                server.notify("g", "del", store_key, db.id)
                server.dirty += 1
            return 0
        return []
    if count and not sort and not any_:
        sort = 1
    found = _collect(z, shape, count if any_ else 0)
    if not found and store_key is None:
        return []
    if sort:
        if count and count < len(found):
            _partial_sort(found, sort == 2, count - 1)
        else:                        # glibc's qsort: a stable merge sort
            found.sort(key=lambda p: p[2], reverse=sort == 2)
    if count:
        found = found[:count]
    conversion = shape.conversion
    if store_key is None:
        if not (withdist or withhash or withcoord):
            return [p[4] for p in found]
        out = []
        for lon, lat, d, score, member in found:
            item: list = [member]
            if withdist:
                item.append(gh.format_distance(d / conversion))
            if withhash:
                item.append(int(score))
            if withcoord:
                item.append([_coordinate(c, lon), _coordinate(c, lat)])
            out.append(item)
        return out
    if found:
        result = ZSet((p[4], p[2] / conversion if storedist else p[3]) for p in found)
        result.shrink_if_small(limits_of(server.config))
        db.set(store_key, result)
        server.notify("z", "geosearchstore" if flags & _SEARCH else "georadiusstore", store_key, db.id)
        server.dirty += len(found)
    elif db.delete(store_key):
        server.notify("g", "del", store_key, db.id)
        server.dirty += 1
    return len(found)


def _store_keys(start: int):
    """Key positions as Valkey's key specs give them: the source, then the key after the
    first STORE and after the first STOREDIST found from ``start`` on."""
    def positions(argv: list[bytes]) -> list[int]:
        pos = [1]
        for keyword in (b"store", b"storedist"):
            for i in range(start, len(argv) - 1):
                if argv[i].lower() == keyword:
                    pos.append(i + 1)
                    break
        return pos
    return positions


def _radius_specs(start: int) -> tuple[KeySpec, ...]:
    return (_RO_SPEC,
            KeySpec(("OW", "update"), ("keyword", "STORE", start), ("range", 0, 1, 0)),
            KeySpec(("OW", "update"), ("keyword", "STOREDIST", start), ("range", 0, 1, 0)))


@command("georadius", arity=-6, flags="write denyoom", keys=1, key_specs=_radius_specs(6),
         getkeys=_store_keys(6), group=_GROUP, since="3.2.0", complexity=_SEARCH_COMPLEXITY,
         history=_NEAR_HISTORY, deprecated_since="6.2.0", doc_flags="deprecated",
         replaced_by="`GEOSEARCH` and `GEOSEARCHSTORE` with the `BYRADIUS` argument",
         summary="Queries a geospatial index for members within a distance of a point; can "
                 "store the result.",
         args="key:key longitude:double latitude:double radius:double (unit: M | KM | FT | MI) [WITHCOORD] "
              "[WITHDIST] [WITHHASH] [count-block: COUNT count:integer [ANY]@6.2.0] [order: ASC | DESC] "
              "[store: STORE storekey:key<key> | STOREDIST storedistkey:key<key>]")
def georadius(c: Client, *args: bytes):
    return _search(c, "GEORADIUS", args, _COORDS)


@command("georadius_ro", arity=-6, flags="readonly", keys=1, key_specs=(_RO_SPEC,), group=_GROUP,
         since="3.2.10", complexity=_SEARCH_COMPLEXITY, history=_NEAR_HISTORY,
         deprecated_since="6.2.0", doc_flags="deprecated",
         replaced_by="`GEOSEARCH` with the `BYRADIUS` argument",
         summary="Returns members of a geospatial index within a distance of a point.",
         args="key:key longitude:double latitude:double radius:double (unit: M | KM | FT | MI) [WITHCOORD] "
              "[WITHDIST] [WITHHASH] [count-block: COUNT count:integer [ANY]@6.2.0] [order: ASC | DESC]")
def georadius_ro(c: Client, *args: bytes):
    return _search(c, "GEORADIUS_RO", args, _COORDS | _NOSTORE)


@command("georadiusbymember", arity=-5, flags="write denyoom", keys=1, key_specs=_radius_specs(5),
         getkeys=_store_keys(5), group=_GROUP, since="3.2.0", complexity=_SEARCH_COMPLEXITY,
         history=_NEAR_HISTORY, deprecated_since="6.2.0", doc_flags="deprecated",
         replaced_by="`GEOSEARCH` and `GEOSEARCHSTORE` with the `BYRADIUS` and `FROMMEMBER` "
                     "arguments",
         summary="Queries a geospatial index for members within a distance of a member; can "
                 "store the result.",
         args="key:key member radius:double (unit: M | KM | FT | MI) [WITHCOORD] [WITHDIST] [WITHHASH] "
              "[count-block: COUNT count:integer [ANY]] [order: ASC | DESC] "
              "[store: STORE storekey:key<key> | STOREDIST storedistkey:key<key>]")
def georadiusbymember(c: Client, *args: bytes):
    return _search(c, "GEORADIUSBYMEMBER", args, _MEMBER)


@command("georadiusbymember_ro", arity=-5, flags="readonly", keys=1, key_specs=(_RO_SPEC,),
         group=_GROUP, since="3.2.10", complexity=_SEARCH_COMPLEXITY, history=_NEAR_HISTORY,
         deprecated_since="6.2.0", doc_flags="deprecated",
         replaced_by="`GEOSEARCH` with the `BYRADIUS` and `FROMMEMBER` arguments",
         summary="Returns members of a geospatial index within a distance of a member.",
         args="key:key member radius:double (unit: M | KM | FT | MI) [WITHCOORD] [WITHDIST] [WITHHASH] "
              "[count-block: COUNT count:integer [ANY]] [order: ASC | DESC]")
def georadiusbymember_ro(c: Client, *args: bytes):
    return _search(c, "GEORADIUSBYMEMBER_RO", args, _MEMBER | _NOSTORE)


_BOX_COMPLEXITY = ("O(N+log(M)) where N is the number of elements in the grid-aligned bounding "
                   "box area around the shape provided as the filter and M is the number of "
                   "items inside the shape")
_UNITS_HISTORY = (("7.0.0", "Added support for uppercase unit names."),)


@command("geosearch", arity=-7, flags="readonly", keys=1, key_specs=(_RO_SPEC,), group=_GROUP,
         since="6.2.0", complexity=_BOX_COMPLEXITY, history=_UNITS_HISTORY,
         summary="Finds the members of a geospatial index inside a circle or a box.",
         args="key:key (from: FROMMEMBER member | FROMLONLAT (longitude:double latitude:double)) "
              "(by: (circle: BYRADIUS radius:double (unit: M | KM | FT | MI)) | "
              "(box: BYBOX width:double height:double (unit: M | KM | FT | MI))) [order: ASC | DESC] "
              "[count-block: COUNT count:integer [ANY]] [WITHCOORD] [WITHDIST] [WITHHASH]")
def geosearch(c: Client, *args: bytes):
    return _search(c, "GEOSEARCH", args, _SEARCH)


@command("geosearchstore", arity=-8, flags="write denyoom", keys=(1, 2, 1),
         key_specs=(KeySpec(("OW", "update"), ("index", 1), ("range", 0, 1, 0)),
                    KeySpec(("RO", "access"), ("index", 2), ("range", 0, 1, 0))),
         group=_GROUP, since="6.2.0", complexity=_BOX_COMPLEXITY, history=_UNITS_HISTORY,
         summary="Finds the members of a geospatial index inside a circle or a box and stores "
                 "them (or their distances) in a sorted set.",
         args="destination:key source:key (from: FROMMEMBER member | FROMLONLAT (longitude:double latitude:double)) "
              "(by: (circle: BYRADIUS radius:double (unit: M | KM | FT | MI)) | "
              "(box: BYBOX width:double height:double (unit: M | KM | FT | MI))) [order: ASC | DESC] "
              "[count-block: COUNT count:integer [ANY]] [STOREDIST]")
def geosearchstore(c: Client, dest: bytes, *args: bytes):
    return _search(c, "GEOSEARCHSTORE", args, _SEARCH | _SEARCHSTORE, store_key=dest)
