"""Valkey's geohash: 52-bit interleaved scores, the 3x3 neighbour-box search plan, and the
haversine distances, computed with the same floating-point operations in the same order so
that scores, coordinates and distances agree with Valkey digit for digit.

A point is stored in a sorted set with score = interleave(lat bits, lon bits) over 26 steps
(latitude within +-85.05112878, Web Mercator's limit). A radius or box search picks a step
whose cells are at least as large as the search area, then scans the score ranges of the
centre cell and its eight neighbours (each cell is one contiguous score range) and keeps the
points that are really inside. All functions are O(1) except where noted.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

STEP_MAX = 26
LAT_MIN = -85.05112878
LAT_MAX = 85.05112878
LONG_MIN = -180.0
LONG_MAX = 180.0
EARTH_RADIUS_IN_METERS = 6372797.560856
MERCATOR_MAX = 20037726.37
D_R = math.pi / 180.0
CIRCULAR, RECTANGLE = 1, 2
_U64 = (1 << 64) - 1
_ALPHABET = b"0123456789bcdefghjkmnpqrstuvwxyz"
UNITS = {b"m": 1.0, b"km": 1000.0, b"ft": 0.3048, b"mi": 1609.34}

_sin = math.sin
_cos = math.cos
_asin = math.asin
_sqrt = math.sqrt


def deg_rad(ang: float) -> float:
    return ang * D_R


def rad_deg(ang: float) -> float:
    return ang / D_R


# ----------------------------------------------------------------- bit interleaving
def _spread8(b: int) -> int:
    out = 0
    for i in range(8):
        out |= ((b >> i) & 1) << (2 * i)
    return out


_SPREAD8 = [_spread8(b) for b in range(256)]              # bit i -> bit 2i
_EVEN16 = [0] * 65536                                      # bits 0,2,..,14 -> 0..7
for _b in range(256):
    _EVEN16[_SPREAD8[_b]] = _b
for _v in range(65536):
    _EVEN16[_v] = _EVEN16[_v & 0x5555]
del _b, _v


def interleave64(xlo: int, ylo: int) -> int:
    """Bits of ``xlo`` at even positions, of ``ylo`` at odd positions (32 bits each);
    the same result as Valkey's shift-and-mask interleave64, by table lookups."""
    s = _SPREAD8
    x = s[xlo & 255] | s[(xlo >> 8) & 255] << 16 | s[(xlo >> 16) & 255] << 32 | s[(xlo >> 24) & 255] << 48
    y = s[ylo & 255] | s[(ylo >> 8) & 255] << 16 | s[(ylo >> 16) & 255] << 32 | s[(ylo >> 24) & 255] << 48
    return x | (y << 1)


def deinterleave64(interleaved: int) -> int:
    """The inverse: even bits in the low 32 bits, odd bits in the high 32 bits."""
    e = _EVEN16
    v = interleaved
    w = interleaved >> 1
    x = e[v & 0xFFFF] | e[(v >> 16) & 0xFFFF] << 8 | e[(v >> 32) & 0xFFFF] << 16 | e[(v >> 48) & 0xFFFF] << 24
    y = e[w & 0xFFFF] | e[(w >> 16) & 0xFFFF] << 8 | e[(w >> 32) & 0xFFFF] << 16 | e[(w >> 48) & 0xFFFF] << 24
    return x | (y << 32)


# ----------------------------------------------------------------- encode / decode
def encode(longitude: float, latitude: float, step: int,
           long_range: tuple[float, float] = (LONG_MIN, LONG_MAX),
           lat_range: tuple[float, float] = (LAT_MIN, LAT_MAX)) -> int | None:
    """geohashEncode: the ``2*step``-bit hash of a point, None outside the ranges."""
    if step > 32 or step == 0:
        return None
    if longitude > LONG_MAX or longitude < LONG_MIN or latitude > LAT_MAX or latitude < LAT_MIN:
        return None
    if latitude < lat_range[0] or latitude > lat_range[1] or \
            longitude < long_range[0] or longitude > long_range[1]:
        return None
    lat_offset = (latitude - lat_range[0]) / (lat_range[1] - lat_range[0])
    long_offset = (longitude - long_range[0]) / (long_range[1] - long_range[0])
    lat_offset *= float(1 << step)
    long_offset *= float(1 << step)
    return interleave64(int(lat_offset), int(long_offset))


def align52(bits: int, step: int) -> int:
    return (bits << (52 - step * 2)) & _U64


def score_of(longitude: float, latitude: float) -> int:
    """The 52-bit sorted-set score of a point (geohashEncodeWGS84 at step 26)."""
    bits = encode(longitude, latitude, STEP_MAX)
    return align52(bits or 0, STEP_MAX)


@dataclass
class Area:
    bits: int
    step: int
    lon_min: float
    lon_max: float
    lat_min: float
    lat_max: float


def decode(bits: int, step: int) -> Area | None:
    """geohashDecode over the WGS84 ranges; None for the zero hash."""
    if bits == 0 and step == 0:
        return None
    sep = deinterleave64(bits)
    ilato = sep & 0xFFFFFFFF
    ilono = (sep >> 32) & 0xFFFFFFFF
    lat_scale = LAT_MAX - LAT_MIN
    long_scale = LONG_MAX - LONG_MIN
    div = float(1 << step)
    return Area(bits, step,
                LONG_MIN + (ilono * 1.0 / div) * long_scale,
                LONG_MIN + (((ilono + 1) & 0xFFFFFFFF) * 1.0 / div) * long_scale,
                LAT_MIN + (ilato * 1.0 / div) * lat_scale,
                LAT_MIN + (((ilato + 1) & 0xFFFFFFFF) * 1.0 / div) * lat_scale)


_LAT_SCALE = LAT_MAX - LAT_MIN
_LONG_SCALE = LONG_MAX - LONG_MIN
_DIV26 = float(1 << STEP_MAX)


def lonlat_of(score: float) -> tuple[float, float]:
    """The centre of the cell a score names (decodeGeohash at step 26), clamped to the
    valid ranges: the arithmetic of geohashDecode + geohashDecodeAreaToLongLat inlined."""
    if 0.0 <= score < 18446744073709551616.0:
        bits = int(score)
    elif score == score and -9223372036854775808.0 < score < 0.0:
        bits = int(score) & _U64
    else:                                   # what the x86 conversion gives out of range
        bits = 1 << 63
    e = _EVEN16
    w = bits >> 1
    ilato = e[bits & 0xFFFF] | e[(bits >> 16) & 0xFFFF] << 8 | e[(bits >> 32) & 0xFFFF] << 16 | \
        e[(bits >> 48) & 0xFFFF] << 24
    ilono = e[w & 0xFFFF] | e[(w >> 16) & 0xFFFF] << 8 | e[(w >> 32) & 0xFFFF] << 16 | \
        e[(w >> 48) & 0xFFFF] << 24
    lon = ((LONG_MIN + (ilono * 1.0 / _DIV26) * _LONG_SCALE)
           + (LONG_MIN + (((ilono + 1) & 0xFFFFFFFF) * 1.0 / _DIV26) * _LONG_SCALE)) / 2
    if lon > LONG_MAX:
        lon = LONG_MAX
    elif lon < LONG_MIN:
        lon = LONG_MIN
    lat = ((LAT_MIN + (ilato * 1.0 / _DIV26) * _LAT_SCALE)
           + (LAT_MIN + (((ilato + 1) & 0xFFFFFFFF) * 1.0 / _DIV26) * _LAT_SCALE)) / 2
    if lat > LAT_MAX:
        lat = LAT_MAX
    elif lat < LAT_MIN:
        lat = LAT_MIN
    return lon, lat


def _lonlat_slow(score: float) -> tuple[float, float]:
    """The same through decode(): kept to check the inlined version against."""
    area = decode(int(score) & _U64, STEP_MAX)
    assert area is not None
    lon = min(max((area.lon_min + area.lon_max) / 2, LONG_MIN), LONG_MAX)
    lat = min(max((area.lat_min + area.lat_max) / 2, LAT_MIN), LAT_MAX)
    return lon, lat


def geohash_string(score: float) -> bytes:
    """GEOHASH's 11 characters: re-encoded over the standard +-90 latitude range."""
    lon, lat = lonlat_of(score)
    bits = encode(lon, lat, 26, (-180.0, 180.0), (-90.0, 90.0)) or 0
    out = bytearray()
    for i in range(10):
        out.append(_ALPHABET[(bits >> (52 - (i + 1) * 5)) & 0x1F])
    out.append(_ALPHABET[0])
    return bytes(out)


# ----------------------------------------------------------------- neighbours
_X_BITS = 0xAAAAAAAAAAAAAAAA      # longitude bits of an interleaved hash
_Y_BITS = 0x5555555555555555      # latitude bits


def _move(bits: int, step: int, d: int, mine: int, other: int) -> int:
    """geohash_move_x / geohash_move_y: one cell along the axis whose bits are ``mine``
    (``d`` is -1, 0 or 1), the ``other`` axis kept."""
    if d == 0:
        return bits
    a = bits & mine
    zz = other >> (64 - step * 2)
    if d > 0:
        a = a + (zz + 1)
    else:
        a = (a | zz) - (zz + 1)
    a &= _U64 & (mine >> (64 - step * 2))
    return a | (bits & other)


# the search order of Valkey's membersOfAllNeighbors, as (name, dx, dy)
NEIGHBOURS = (("north", 0, 1), ("south", 0, -1), ("east", 1, 0), ("west", -1, 0),
              ("north_east", 1, 1), ("north_west", -1, 1), ("south_east", 1, -1),
              ("south_west", -1, -1))


def neighbours(bits: int, step: int) -> dict[str, int]:
    return {name: _move(_move(bits, step, dx, _X_BITS, _Y_BITS), step, dy, _Y_BITS, _X_BITS)
            for name, dx, dy in NEIGHBOURS}


# ----------------------------------------------------------------- search shapes
@dataclass
class Shape:
    """A search area: a circle (radius) or an axis-aligned box (width x height) around
    ``lon, lat``; sizes are in the user's unit, ``conversion`` metres per unit."""
    kind: int = CIRCULAR
    lon: float = 0.0
    lat: float = 0.0
    conversion: float = 1.0
    radius: float = 0.0
    width: float = 0.0
    height: float = 0.0
    bounds: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0, 0.0])


def estimate_steps_by_radius(range_meters: float, lat: float) -> int:
    if range_meters == 0:
        return 26
    step = 1
    while range_meters < MERCATOR_MAX:
        range_meters *= 2
        step += 1
    step -= 2
    if lat > 66 or lat < -66:
        step -= 1
        if lat > 80 or lat < -80:
            step -= 1
    return min(max(step, 1), 26)


def bounding_box(shape: Shape) -> list[float]:
    """[min lon, min lat, max lon, max lat] of the search area (geohashBoundingBox)."""
    lon, lat = shape.lon, shape.lat
    circular = shape.kind == CIRCULAR
    height = shape.conversion * (shape.radius if circular else shape.height / 2)
    width = shape.conversion * (shape.radius if circular else shape.width / 2)
    lat_delta = rad_deg(height / EARTH_RADIUS_IN_METERS)
    long_delta_top = rad_deg(width / EARTH_RADIUS_IN_METERS / _cos(deg_rad(lat + lat_delta)))
    long_delta_bottom = rad_deg(width / EARTH_RADIUS_IN_METERS / _cos(deg_rad(lat - lat_delta)))
    southern = lat < 0
    return [lon - long_delta_bottom if southern else lon - long_delta_top,
            lat - lat_delta,
            lon + long_delta_bottom if southern else lon + long_delta_top,
            lat + lat_delta]


def search_boxes(shape: Shape) -> list[tuple[int, int]]:
    """The (bits, step) cells to scan, in Valkey's order (centre, N, S, E, W, NE, NW, SE,
    SW), with the useless ones dropped and a cell equal to the last kept one skipped:
    geohashCalculateAreasByShapeWGS84 plus membersOfAllNeighbors' filtering."""
    bounds = shape.bounds = bounding_box(shape)
    min_lon, min_lat, max_lon, max_lat = bounds
    lon, lat = shape.lon, shape.lat
    if shape.kind == CIRCULAR:
        radius_meters = shape.radius
    else:
        radius_meters = _sqrt((shape.width / 2) * (shape.width / 2) + (shape.height / 2) * (shape.height / 2))
    radius_meters *= shape.conversion
    steps = estimate_steps_by_radius(radius_meters, lat)
    bits = encode(lon, lat, steps) or 0
    near = neighbours(bits, steps)
    area = decode(bits, steps)
    north, south = decode(near["north"], steps), decode(near["south"], steps)
    east, west = decode(near["east"], steps), decode(near["west"], steps)
    decrease = ((north is not None and north.lat_max < max_lat)
                or (south is not None and south.lat_min > min_lat)
                or (east is not None and east.lon_max < max_lon)
                or (west is not None and west.lon_min > min_lon))
    if steps > 1 and decrease:
        steps -= 1
        bits = encode(lon, lat, steps) or 0
        near = neighbours(bits, steps)
        area = decode(bits, steps)
    zero: set[str] = set()
    if steps >= 2 and area is not None:
        if area.lat_min < min_lat:
            zero.update(("south", "south_west", "south_east"))
        if area.lat_max > max_lat:
            zero.update(("north", "north_east", "north_west"))
        if area.lon_min < min_lon:
            zero.update(("west", "south_west", "north_west"))
        if area.lon_max > max_lon:
            zero.update(("east", "south_east", "north_east"))
    cells = [(bits, steps)] + [(0, 0) if name in zero else (near[name], steps)
                               for name, _, _ in NEIGHBOURS]
    out: list[tuple[int, int]] = []
    last = 0                 # index of the last cell kept; as in Valkey, 0 disables the check
    for i, cell in enumerate(cells):
        if cell == (0, 0):
            continue
        if last and cell == cells[last]:
            continue
        out.append(cell)
        last = i
    return out


def score_range(bits: int, step: int) -> tuple[int, int]:
    """[min, max) of the scores inside a cell (scoresOfGeoHashBox)."""
    return align52(bits, step), align52(bits + 1, step)


# ----------------------------------------------------------------- distances
def lat_distance(lat1d: float, lat2d: float) -> float:
    return EARTH_RADIUS_IN_METERS * abs(deg_rad(lat2d) - deg_rad(lat1d))


def distance(lon1d: float, lat1d: float, lon2d: float, lat2d: float) -> float:
    """Haversine great-circle distance in metres, as geohashGetDistance."""
    lon1r = deg_rad(lon1d)
    lon2r = deg_rad(lon2d)
    v = _sin((lon2r - lon1r) / 2)
    if v == 0.0:
        return lat_distance(lat1d, lat2d)
    lat1r = deg_rad(lat1d)
    lat2r = deg_rad(lat2d)
    u = _sin((lat2r - lat1r) / 2)
    a = u * u + _cos(lat1r) * _cos(lat2r) * v * v
    return 2.0 * EARTH_RADIUS_IN_METERS * _asin(_sqrt(a))


def within(shape: Shape, lon: float, lat: float) -> float | None:
    """The distance from the shape's centre if the point is inside, else None."""
    if shape.kind == CIRCULAR:
        d = distance(shape.lon, shape.lat, lon, lat)
        return None if d > shape.radius * shape.conversion else d
    width_m = shape.width * shape.conversion
    height_m = shape.height * shape.conversion
    if lat_distance(lat, shape.lat) > height_m / 2:
        return None
    if distance(lon, lat, shape.lon, lat) > width_m / 2:
        return None
    return distance(shape.lon, shape.lat, lon, lat)


def filter_points(shape: Shape, pairs: list[tuple[bytes, float]], out: list, limit: int) -> bool:
    """Append (lon, lat, dist, score, member) for each (member, score) inside ``shape`` to
    ``out``; True once ``limit`` (when non-zero) is reached. The decode and the distance
    are :func:`lonlat_of` and :func:`within` inlined (the same operations in the same order),
    as this loop runs once per candidate point of a search."""
    e = _EVEN16
    d_r = D_R
    sin = _sin
    cos = _cos
    asin = _asin
    sqrt = _sqrt
    circular = shape.kind == CIRCULAR
    clon, clat = shape.lon, shape.lat
    clon_r = clon * d_r
    clat_r = clat * d_r
    cos_clat = cos(clat_r)
    radius_m = shape.radius * shape.conversion
    half_w = shape.width * shape.conversion / 2
    half_h = shape.height * shape.conversion / 2
    two_r = 2.0 * EARTH_RADIUS_IN_METERS
    for member, score in pairs:
        if 0.0 <= score < 18446744073709551616.0:
            bits = int(score)
        else:
            lon, lat = lonlat_of(score)
            bits = -1
        if bits >= 0:
            w = bits >> 1
            ilato = e[bits & 0xFFFF] | e[(bits >> 16) & 0xFFFF] << 8 | \
                e[(bits >> 32) & 0xFFFF] << 16 | e[(bits >> 48) & 0xFFFF] << 24
            ilono = e[w & 0xFFFF] | e[(w >> 16) & 0xFFFF] << 8 | \
                e[(w >> 32) & 0xFFFF] << 16 | e[(w >> 48) & 0xFFFF] << 24
            lon = ((LONG_MIN + (ilono * 1.0 / _DIV26) * _LONG_SCALE)
                   + (LONG_MIN + (((ilono + 1) & 0xFFFFFFFF) * 1.0 / _DIV26) * _LONG_SCALE)) / 2
            if lon > LONG_MAX:
                lon = LONG_MAX
            elif lon < LONG_MIN:
                lon = LONG_MIN
            lat = ((LAT_MIN + (ilato * 1.0 / _DIV26) * _LAT_SCALE)
                   + (LAT_MIN + (((ilato + 1) & 0xFFFFFFFF) * 1.0 / _DIV26) * _LAT_SCALE)) / 2
            if lat > LAT_MAX:
                lat = LAT_MAX
            elif lat < LAT_MIN:
                lat = LAT_MIN
        if circular:
            # distance(clon, clat, lon, lat)
            v = sin((lon * d_r - clon_r) / 2)
            if v == 0.0:
                d = EARTH_RADIUS_IN_METERS * abs(lat * d_r - clat_r)
            else:
                lat_r = lat * d_r
                u = sin((lat_r - clat_r) / 2)
                d = two_r * asin(sqrt(u * u + cos_clat * cos(lat_r) * v * v))
            if d > radius_m:
                continue
        else:
            if EARTH_RADIUS_IN_METERS * abs(clat * d_r - lat * d_r) > half_h:
                continue
            if distance(lon, lat, clon, lat) > half_w:
                continue
            d = distance(clon, clat, lon, lat)
        out.append((lon, lat, d, score, member))
        if limit and len(out) >= limit:
            return True
    return False


# ----------------------------------------------------------------- number formatting
def format_distance(d: float) -> bytes:
    """fixedpoint_d2string(d, 4): four decimals, rounded half to even as llrint does."""
    if d == 0:
        return b"0.0000"
    v = round(d * 10000.0)
    sign = b"-" if v < 0 else b""
    digits = b"%05d" % abs(v)
    return sign + digits[:-4] + b"." + digits[-4:]


def format_coordinate(x: float) -> bytes:
    """ld2string(LD_STR_HUMAN): "%.17Lf" with the trailing zeros (and dot) removed."""
    if math.isinf(x):
        return b"inf" if x > 0 else b"-inf"
    s = b"%.17f" % x
    if b"." in s:
        s = s.rstrip(b"0").rstrip(b".")
    if s == b"-0":
        s = b"0"
    return s
