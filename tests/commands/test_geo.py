"""Geo commands: scores, coordinates and distances as Valkey prints them, searches, stores,
errors, events and propagation (GEOADD travels as the ZADD it is)."""
import random

import pytest
import redis

from pykey.datatypes import geohash as gh
from pykey.testing.replies import error_text as err

SICILY = (13.361389, 38.115556, "Palermo", 15.087269, 37.502669, "Catania")


def raw(r, *args):
    """The RESP2 reply, without redis-py's geo response callbacks (which turn digits into
    floats): what Valkey prints is checked digit for digit."""
    kw = r.connection_pool.connection_kwargs
    r2 = redis.Redis(host=kw["host"], port=kw["port"], protocol=2)
    try:
        conn = r2.connection_pool.get_connection()
        conn.send_command(*args)
        return conn.read_response()
    finally:
        r2.close()



@pytest.fixture
def events(pykey_server):
    engine = pykey_server.engine
    seen = []
    old = engine.notify_sink
    pykey_server.call(setattr, engine, "notify_sink", lambda flag, event, key, dbid: seen.append((flag, event, key)))
    yield seen
    pykey_server.call(setattr, engine, "notify_sink", old)


@pytest.fixture
def propagated(pykey_server):
    engine = pykey_server.engine
    seen = []

    def sink(dbid, argv):
        seen.append(list(argv))

    pykey_server.call(engine.propagate_sinks.append, sink)
    yield seen
    pykey_server.call(engine.propagate_sinks.remove, sink)


def test_geoadd_scores_are_valkeys(r):
    assert r.execute_command("GEOADD", "g", *SICILY) == 2
    assert r.zrange("g", 0, -1, withscores=True) == [(b"Palermo", 3479099956230698.0),
                                                     (b"Catania", 3479447370796909.0)]
    assert r.type("g") == b"zset"
    assert r.zcard("g") == 2


def test_geopos_geodist_geohash(r):
    r.execute_command("GEOADD", "g", *SICILY)
    assert raw(r, "GEOPOS", "g", "Palermo", "nope") == [
        [b"13.36138933897018433", b"38.11555639549629859"], None]
    assert raw(r, "GEODIST", "g", "Palermo", "Catania") == b"166274.1516"
    assert raw(r, "GEODIST", "g", "Palermo", "Catania", "KM") == b"166.2742"
    assert raw(r, "GEODIST", "g", "Palermo", "Catania", "mi") == b"103.3182"
    assert r.execute_command("GEODIST", "g", "Palermo", "nope") is None
    assert r.execute_command("GEODIST", "nokey", "a", "b") is None
    assert raw(r, "GEOHASH", "g", "Palermo", "Catania", "nope") == [b"sqc8b49rny0", b"sqdtr74hyu0", None]
    assert r.execute_command("GEOHASH", "nokey", "a") == [None]
    assert r.execute_command("GEOPOS", "g") == [] and r.execute_command("GEOHASH", "g") == []


def test_resp3_coordinates_are_doubles(pykey_server):
    r3 = redis.Redis(port=pykey_server.port, protocol=3)
    try:
        r3.flushall()
        r3.execute_command("GEOADD", "g", *SICILY)
        # the same digits as RESP2, sent as RESP3 doubles
        assert r3.execute_command("GEOPOS", "g", "Palermo") == [[13.36138933897018433, 38.11555639549629859]]
        reply = r3.execute_command("GEOSEARCH", "g", "FROMLONLAT", 15, 37, "BYRADIUS", 200, "km",
                                   "WITHDIST", "WITHCOORD", "ASC")
        assert reply[0][0] == b"Catania" and reply[0][1] == b"56.4413"
    finally:
        r3.close()


def test_search_variants(r):
    r.execute_command("GEOADD", "g", *SICILY)
    assert r.execute_command("GEORADIUS", "g", 15, 37, 200, "km", "ASC") == [b"Catania", b"Palermo"]
    assert r.execute_command("GEORADIUS_RO", "g", 15, 37, 200, "km", "DESC") == [b"Palermo", b"Catania"]
    assert raw(r, "GEORADIUS", "g", 15, 37, 200, "km", "WITHDIST", "WITHHASH", "WITHCOORD", "ASC") == [
        [b"Catania", b"56.4413", 3479447370796909, [b"15.08726745843887329", b"37.50266842333162032"]],
        [b"Palermo", b"190.4424", 3479099956230698, [b"13.36138933897018433", b"38.11555639549629859"]]]
    assert r.execute_command("GEORADIUS", "g", 15, 37, 200, "km", "COUNT", 1) == [b"Catania"]
    assert len(r.execute_command("GEORADIUS", "g", 15, 37, 200, "km", "COUNT", 1, "ANY")) == 1
    assert raw(r, "GEORADIUSBYMEMBER", "g", "Palermo", 200, "km", "WITHDIST") == [
        [b"Palermo", b"0.0000"], [b"Catania", b"166.2742"]]
    assert r.execute_command("GEOSEARCH", "g", "FROMMEMBER", "Palermo", "BYBOX", 400, 400, "km", "ASC") == [
        b"Palermo", b"Catania"]
    assert r.execute_command("GEOSEARCH", "g", "FROMLONLAT", 15, 37, "BYBOX", 150, 150, "km") == [b"Catania"]
    assert r.execute_command("GEOSEARCH", "g", "FROMLONLAT", 15, 37, "BYBOX", 100, 100, "km") == []
    assert r.execute_command("GEOSEARCH", "nokey", "FROMMEMBER", "x", "BYRADIUS", 1, "km") == []


def test_search_matches_a_brute_force_model(r):
    rng = random.Random(1)
    args = []
    for j in range(2000):
        args += [rng.uniform(-180, 180), rng.uniform(-70, 70), f"p{j}"]
    r.execute_command("GEOADD", "g", *args)
    points = {m: gh.lonlat_of(s) for m, s in r.zrange("g", 0, -1, withscores=True)}
    for _ in range(15):
        lon, lat = rng.uniform(-180, 180), rng.uniform(-70, 70)
        radius = rng.choice([200, 800, 3000])
        got = set(r.execute_command("GEOSEARCH", "g", "FROMLONLAT", lon, lat, "BYRADIUS", radius, "km"))
        expected = {m for m, (plon, plat) in points.items()
                    if gh.distance(lon, lat, plon, plat) <= radius * 1000}
        # the cell plan may miss a point right at the rim; it never adds one outside
        assert got <= expected
        assert len(expected - got) <= 1


def test_store_and_storedist(r, events):
    r.execute_command("GEOADD", "g", *SICILY)
    r.set("d", "x", ex=100)
    del events[:]
    assert r.execute_command("GEOSEARCHSTORE", "d", "g", "FROMMEMBER", "Palermo", "BYRADIUS", 200, "km") == 2
    assert r.ttl("d") == -1 and r.object("encoding", "d") == b"listpack"
    assert r.zrange("d", 0, -1, withscores=True) == r.zrange("g", 0, -1, withscores=True)
    assert r.execute_command("GEOSEARCHSTORE", "d", "g", "FROMMEMBER", "Palermo", "BYRADIUS", 200, "km",
                             "STOREDIST") == 2
    assert r.zscore("d", "Catania") == pytest.approx(166.2742, abs=1e-4)
    assert r.execute_command("GEORADIUS", "g", 15, 37, 200, "km", "STORE", "d2") == 2
    assert r.execute_command("GEORADIUSBYMEMBER", "g", "Palermo", 1, "m", "STOREDIST", "d2") == 1
    assert r.zrange("d2", 0, -1, withscores=True) == [(b"Palermo", 0.0)]
    assert r.execute_command("GEORADIUS", "g", 0, 0, 1, "m", "STORE", "d2") == 0
    assert not r.exists("d2")
    assert events == [("z", b"geosearchstore", b"d"), ("z", b"geosearchstore", b"d"),
                      ("z", b"georadiusstore", b"d2"), ("z", b"georadiusstore", b"d2"), ("g", b"del", b"d2")]


def test_geoadd_is_zadd_for_events_and_propagation(r, events, propagated):
    assert r.execute_command("GEOADD", "g", "CH", *SICILY) == 2
    assert r.execute_command("GEOADD", "g", "XX", "CH", 13.4, 38.1, "Palermo") == 1
    assert r.execute_command("GEOADD", "g", "NX", 13.4, 38.1, "Palermo") == 0
    assert ("z", b"zadd", b"g") in events
    assert [a for a in propagated if a[0].lower() == b"zadd"][0] == [
        b"zadd", b"g", b"CH", b"3479099956230698", b"Palermo", b"3479447370796909", b"Catania"]
    assert propagated[-1][:3] == [b"zadd", b"g", b"XX"]
    assert len(propagated) == 2                   # the NX no-op changed nothing
    propagated.clear()
    r.execute_command("GEOSEARCH", "g", "FROMMEMBER", "Palermo", "BYRADIUS", 1, "km")
    r.execute_command("GEOPOS", "g", "Palermo")
    assert propagated == []


def test_errors(r):
    r.execute_command("GEOADD", "g", *SICILY)
    assert err(r, "GEOADD", "g", 200, 100, "x") == "invalid longitude,latitude pair 200.000000,100.000000"
    assert err(r, "GEOADD", "g", "abc", 1, "x") == "value is not a valid float"
    assert err(r, "GEOADD", "g", "NX", "XX", 1, 1, "x") == "syntax error"
    assert err(r, "GEOADD", "g", 1, 1, "x", 2) == "syntax error"
    assert err(r, "GEODIST", "g", "a", "b", "parsec") == "unsupported unit provided. please use M, KM, FT, MI"
    assert err(r, "GEORADIUS", "g", 15, 37, -1, "km") == "radius cannot be negative"
    assert err(r, "GEORADIUS", "g", 15, 37, "x", "km") == "need numeric radius"
    assert err(r, "GEORADIUS", "g", 15, 37, 1, "km", "COUNT", 0) == "COUNT must be > 0"
    assert err(r, "GEORADIUS", "g", 15, 37, 1, "km", "COUNT") == "syntax error"
    assert err(r, "GEORADIUS", "g", 15, 37, 1, "km", "ANY") == "the ANY argument requires COUNT argument"
    assert err(r, "GEORADIUS", "g", 15, 37, 1, "km", "STORE", "d", "WITHDIST") == \
        "STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and WITHCOORD options"
    assert err(r, "GEORADIUS_RO", "g", 15, 37, 1, "km", "STORE", "d") == "syntax error"
    assert err(r, "GEORADIUSBYMEMBER", "g", "nope", 1, "km") == "could not decode requested zset member"
    assert err(r, "GEOSEARCH", "g", "BYRADIUS", 1, "km", "ASC", "ASC") == \
        "exactly one of FROMMEMBER or FROMLONLAT can be specified for GEOSEARCH"
    assert err(r, "GEOSEARCH", "g", "FROMMEMBER", "Palermo", "FROMLONLAT", 1, 1, "BYRADIUS", 1, "km") == "syntax error"
    assert err(r, "GEOSEARCH", "g", "FROMLONLAT", 1, 1, "COUNT", 3) == \
        "exactly one of BYRADIUS and BYBOX can be specified for GEOSEARCH"
    assert err(r, "GEOSEARCH", "g", "FROMLONLAT", 1, 1, "BYBOX", -1, 1, "km") == "height or width cannot be negative"
    assert err(r, "GEOSEARCH", "g", "FROMLONLAT", 1, 1, "BYBOX", "w", 1, "km") == "need numeric width"
    assert err(r, "GEOSEARCHSTORE", "d", "g", "FROMLONLAT", 1, 1, "BYRADIUS", 1, "km", "WITHCOORD") == \
        "GEOSEARCHSTORE is not compatible with WITHDIST, WITHHASH and WITHCOORD options"
    r.set("s", "x")
    for cmd in (("GEOPOS", "s", "a"), ("GEODIST", "s", "a", "b"), ("GEOHASH", "s", "a"),
                ("GEORADIUS", "s", 1, 1, 1, "km"), ("GEOSEARCH", "s", "FROMLONLAT", 1, 1, "BYRADIUS", 1, "km"),
                ("GEOADD", "s", 1, 1, "a")):
        assert err(r, *cmd).startswith("WRONGTYPE")


def test_geohash_module_round_trips():
    rng = random.Random(2)
    for _ in range(2000):
        lon, lat = rng.uniform(-180, 180), rng.uniform(-85.05, 85.05)
        score = gh.score_of(lon, lat)
        assert score < 2**52
        back_lon, back_lat = gh.lonlat_of(float(score))
        assert abs(back_lon - lon) < 1e-5 and abs(back_lat - lat) < 1e-5
        assert gh.lonlat_of(float(score)) == gh._lonlat_slow(float(score))
    assert gh.format_distance(0.0) == b"0.0000"
    assert gh.format_distance(0.00004) == b"0.0000"
    assert gh.format_distance(12.34565) == b"12.3456"     # 123456.5 as a double is below .5
    assert gh.format_coordinate(-0.0) == b"0" and gh.format_coordinate(1.5) == b"1.5"
