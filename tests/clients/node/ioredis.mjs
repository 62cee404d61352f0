// ioredis against pykey: connection handshake (INFO ready check, SELECT, AUTH, CLIENT SETNAME),
// every data type, pipelines, MULTI/EXEC, Pub/Sub (channels, patterns, shard channels), Lua
// through defineCommand (EVALSHA with the EVAL fallback), scanStream, auto-pipelining.
// Usage: PYKEY_PORT=6379 node ioredis.mjs [package-name] [protocol]
import { config, eq, ok, rejects, step, until, finish } from "./check.mjs";

const pkg = process.argv[2] || "ioredis";
const protocol = Number(process.argv[3] || 2);
const { default: Redis } = await import(pkg);
const { host, port, authPort, password } = config();
const opts = { host, port, lazyConnect: false, maxRetriesPerRequest: 1 };
if (protocol === 3) opts.protocol = 3;
else if (pkg !== "ioredis") opts.protocol = 2;  // ioredis 6 defaults to RESP3
const label = `${pkg} RESP${protocol}`;
const r = new Redis(opts);
const sub = new Redis(opts);

await step("connect", async () => {
  eq("ping", await r.ping(), "PONG");
  eq("ping message", await r.ping("hi"), "hi");
  await r.flushall();
  eq("select via options", await new Redis({ ...opts, db: 3 }).client("INFO").then((s) => /\bdb=3\b/.test(s)), true);
  const named = new Redis({ ...opts, connectionName: "ioredis-test" });
  eq("connectionName", await named.client("GETNAME"), "ioredis-test");
  named.disconnect();
});

await step("strings", async () => {
  eq("set", await r.set("s", "hello"), "OK");
  eq("get", await r.get("s"), "hello");
  eq("get missing", await r.get("nokey"), null);
  eq("set nx on existing", await r.set("s", "x", "NX"), null);
  eq("set get", await r.set("s", "v2", "GET"), "hello");
  eq("set ex", await r.set("e", "1", "EX", 100), "OK");
  eq("ttl", await r.ttl("e"), 100);
  eq("incr", await r.incr("n"), 1);
  eq("incrby", await r.incrby("n", 41), 42);
  eq("incrbyfloat", await r.incrbyfloat("f", "1.5"), "1.5");
  eq("mset", await r.mset({ a: "1", b: "2" }), "OK");
  eq("mget", await r.mget("a", "b", "nokey"), ["1", "2", null]);
  eq("append", await r.append("s", "!"), 3);
  eq("getrange", await r.getrange("s", 0, 1), "v2");
  eq("strlen", await r.strlen("s"), 3);
  const bin = Buffer.from([0, 255, 13, 10, 36, 42, 128]);
  await r.set(Buffer.from([1, 0, 2]), bin);
  eq("binary round trip", await r.getBuffer(Buffer.from([1, 0, 2])), bin);
  const big = "x".repeat(3 * 1024 * 1024);
  await r.set("big", big);
  eq("3 MB value", (await r.get("big")).length, big.length);
  await rejects("incr on a non-integer", r.incr("s"), /^ERR value is not an integer or out of range$/);
  await rejects("wrong type", r.lpush("s", "x"), /^WRONGTYPE Operation against a key holding the wrong kind of value$/);
  await rejects("unknown command", r.call("NOSUCHCMD", "a"), /^ERR unknown command 'NOSUCHCMD', with args beginning with: 'a' $/);
  await rejects("arity", r.call("GET"), /^ERR wrong number of arguments for 'get' command$/);
});

await step("keys", async () => {
  eq("exists", await r.exists("s", "nokey", "a"), 2);
  eq("type", await r.type("s"), "string");
  eq("expire", await r.expire("a", 50), 1);
  eq("pttl in range", (await r.pttl("a")) > 49000, true);
  eq("persist", await r.persist("a"), 1);
  eq("rename", await r.rename("a", "a2"), "OK");
  eq("copy", await r.copy("a2", "a3"), 1);
  eq("object encoding", await r.object("ENCODING", "a2"), "int");
  eq("del", await r.del("a2", "a3", "nokey"), 2);
  eq("dbsize", typeof (await r.dbsize()), "number");
});

await step("hash", async () => {
  eq("hset object", await r.hset("h", { f1: "v1", f2: "v2" }), 2);
  eq("hgetall", await r.hgetall("h"), { f1: "v1", f2: "v2" });
  eq("hmget", await r.hmget("h", "f1", "nof"), ["v1", null]);
  eq("hincrby", await r.hincrby("h", "n", 5), 5);
  eq("hincrbyfloat", await r.hincrbyfloat("h", "n", "0.5"), "5.5");
  eq("hkeys", (await r.hkeys("h")).sort(), ["f1", "f2", "n"]);
  eq("hgetall missing", await r.hgetall("nokey"), {});
  eq("hexpire", await r.call("HEXPIRE", "h", "100", "FIELDS", "1", "f1"), [1]);
  eq("httl", await r.call("HTTL", "h", "FIELDS", "2", "f1", "nof"), [100, -2]);
});

await step("list", async () => {
  eq("rpush", await r.rpush("l", "a", "b", "c"), 3);
  eq("lrange", await r.lrange("l", 0, -1), ["a", "b", "c"]);
  eq("lpos", await r.lpos("l", "c"), 2);
  eq("lpop count", await r.lpop("l", 2), ["a", "b"]);
  eq("lmove", await r.lmove("l", "l2", "LEFT", "RIGHT"), "c");
  eq("blpop timeout", await r.blpop("nolist", 0.05), null);
  setTimeout(() => new Redis(opts).rpush("bl", "woke").then((_, c) => c), 30);
  eq("blpop woken", await r.blpop("bl", 2), ["bl", "woke"]);
});

await step("set", async () => {
  eq("sadd", await r.sadd("st", "a", "b", "c"), 3);
  eq("smembers", (await r.smembers("st")).sort(), ["a", "b", "c"]);
  eq("sismember", await r.sismember("st", "a"), 1);
  eq("smismember", await r.smismember("st", "a", "z"), [1, 0]);
  eq("sintercard", await r.sintercard(1, "st"), 3);
  eq("scard", await r.scard("st"), 3);
});

await step("sorted set", async () => {
  eq("zadd", await r.zadd("z", 1, "a", 2.5, "b", 3, "c"), 3);
  eq("zrange withscores", await r.zrange("z", 0, -1, "WITHSCORES"), ["a", "1", "b", "2.5", "c", "3"]);
  eq("zrangebyscore limit", await r.zrangebyscore("z", "(1", "+inf", "LIMIT", 0, 1), ["b"]);
  eq("zscore", await r.zscore("z", "b"), "2.5");
  eq("zincrby", await r.zincrby("z", 0.1, "a"), "1.1");
  eq("zrank", await r.zrank("z", "c"), 2);
  eq("zpopmin", await r.zpopmin("z"), ["a", "1.1"]);
  eq("zmscore", await r.zmscore("z", "b", "x"), ["2.5", null]);
  eq("zrangestore", await r.zrangestore("z2", "z", 0, -1), 2);
  eq("bzpopmax", await r.bzpopmax("z", 1), ["z", "c", "3"]);
});

await step("stream", async () => {
  eq("xadd", await r.xadd("x", "1-1", "f", "v"), "1-1");
  eq("xadd auto", typeof (await r.xadd("x", "*", "g", "w")), "string");
  eq("xlen", await r.xlen("x"), 2);
  eq("xrange", await r.xrange("x", "-", "+", "COUNT", 1), [["1-1", ["f", "v"]]]);
  eq("xgroup create", await r.xgroup("CREATE", "x", "grp", "0"), "OK");
  const got = await r.xreadgroup("GROUP", "grp", "c1", "COUNT", 1, "STREAMS", "x", ">");
  eq("xreadgroup", got, [["x", [["1-1", ["f", "v"]]]]]);
  eq("xpending summary", await r.xpending("x", "grp"), [1, "1-1", "1-1", [["c1", "1"]]]);
  eq("xack", await r.xack("x", "grp", "1-1"), 1);
  eq("xread", (await r.xread("COUNT", 1, "STREAMS", "x", "0"))[0][1][0][0], "1-1");
  eq("xtrim", await r.xtrim("x", "MAXLEN", 1), 1);
  eq("xinfo groups", (await r.xinfo("GROUPS", "x"))[0].slice(0, 2), ["name", "grp"]);
});

await step("hyperloglog, bitmaps, geo", async () => {
  eq("pfadd", await r.pfadd("hll", "a", "b", "c"), 1);
  eq("pfcount", await r.pfcount("hll"), 3);
  eq("setbit", await r.setbit("bm", 7, 1), 0);
  eq("bitcount", await r.bitcount("bm"), 1);
  eq("bitpos", await r.bitpos("bm", 1), 7);
  eq("bitfield", await r.bitfield("bf", "SET", "u8", 0, 200, "GET", "u8", 0, "INCRBY", "u8", 0, 100), [0, 200, 44]);
  eq("geoadd", await r.geoadd("g", 13.361389, 38.115556, "Palermo", 15.087269, 37.502669, "Catania"), 2);
  eq("geodist", await r.geodist("g", "Palermo", "Catania", "km"), "166.2742");
  eq("geosearch", await r.geosearch("g", "FROMLONLAT", 15, 37, "BYRADIUS", 100, "km", "ASC", "WITHDIST"),
    [["Catania", "56.4413"]]);
  eq("geopos", await r.geopos("g", "nope"), [null]);
});

await step("scanStream", async () => {
  await r.mset(Object.fromEntries(Array.from({ length: 120 }, (_, i) => [`scan:${i}`, i])));
  const keys = new Set();
  await new Promise((resolve, reject) => {
    const s = r.scanStream({ match: "scan:*", count: 17 });
    s.on("data", (batch) => batch.forEach((k) => keys.add(k)));
    s.on("end", resolve);
    s.on("error", reject);
  });
  eq("every key once", keys.size, 120);
  await r.hset("bigh", Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`f${i}`, i])));
  const fields = new Set();
  await new Promise((resolve, reject) => {
    const s = r.hscanStream("bigh", { count: 50 });
    s.on("data", (batch) => { for (let i = 0; i < batch.length; i += 2) fields.add(batch[i]); });
    s.on("end", resolve);
    s.on("error", reject);
  });
  eq("hscanStream", fields.size, 300);
});

if (protocol === 3) {
  await step("RESP3 reply types (replyMapping resp3)", async () => {
    const c = new Redis({ ...opts, replyMapping: "resp3" });
    await c.hset("r3h", "a", "1");
    eq("map", await c.call("HGETALL", "r3h"), { a: "1" });
    await c.zadd("r3z", 2.5, "m");
    eq("double", await c.call("ZSCORE", "r3z", "m"), 2.5);
    eq("null", await c.call("GET", "nokey"), null);
    eq("config get map", await c.call("CONFIG", "GET", "maxmemory"), { maxmemory: "0" });
    const hello = await c.call("HELLO", "3");
    eq("hello proto", hello.proto, 3);
    eq("hello server", hello.server, "redis");
    c.disconnect();
  });
}

await step("pipeline and multi", async () => {
  const res = await r.pipeline().set("p", "1").incr("p").lpush("p", "x").get("p").exec();
  eq("pipeline results", res.map(([e, v]) => (e ? e.message : v)),
    ["OK", 2, "WRONGTYPE Operation against a key holding the wrong kind of value", "2"]);
  eq("multi", await r.multi().set("m", "1").incr("m").exec(), [[null, "OK"], [null, 2]]);
  await rejects("queued error aborts EXEC", r.multi().set("m", "1").call("GET").exec(),
    /EXECABORT Transaction discarded because of previous errors/);
  eq("watch", await r.watch("w"), "OK");
  await new Redis(opts).set("w", "changed");
  eq("watched key changed: exec returns null", await r.multi().set("w", "mine").exec(), null);
  eq("value kept", await r.get("w"), "changed");
  const auto = new Redis({ ...opts, enableAutoPipelining: true });
  const many = await Promise.all(Array.from({ length: 200 }, (_, i) => auto.set(`ap:${i}`, i).then(() => auto.get(`ap:${i}`))));
  eq("auto-pipelining", many.filter((v, i) => v === String(i)).length, 200);
  auto.disconnect();
});

await step("lua", async () => {
  eq("eval", await r.eval("return {KEYS[1], ARGV[1], 3, 3.9, true, false}", 1, "k", "arg"),
    ["k", "arg", 3, 3, 1, null]);
  await r.script("FLUSH");
  r.defineCommand("getset2", {
    numberOfKeys: 1,
    lua: "local old = redis.call('GET', KEYS[1]); redis.call('SET', KEYS[1], ARGV[1]); return old",
  });
  await r.set("lk", "old");
  eq("defineCommand (EVALSHA falls back to EVAL)", await r.getset2("lk", "new"), "old");
  eq("defineCommand again (EVALSHA)", await r.getset2("lk", "newer"), "new");
  eq("defineCommand in a pipeline", (await r.pipeline().getset2("lk", "p").exec())[0][1], "newer");
  await rejects("script error", r.eval("return redis.call('INCR', KEYS[1])", 1, "s"),
    /ERR value is not an integer or out of range script: /);
  eq("error_reply", await r.eval("return redis.error_reply('MY custom')", 0).catch((e) => e.message), "MY custom");
});

await step("pubsub", async () => {
  const got = [];
  sub.on("message", (ch, m) => got.push(["message", ch, m]));
  sub.on("pmessage", (p, ch, m) => got.push(["pmessage", p, ch, m]));
  sub.on("smessage", (ch, m) => got.push(["smessage", ch, m]));
  eq("subscribe count", await sub.subscribe("c1", "c2"), 2);
  eq("psubscribe count", await sub.psubscribe("p.*"), 3);
  eq("ssubscribe count", await sub.ssubscribe("sh"), 1);
  eq("publish", await r.publish("c1", "hello"), 1);
  eq("publish to pattern", await r.publish("p.x", "world"), 1);
  eq("spublish", await r.spublish("sh", "shard"), 1);
  await until(() => got.length >= 3);
  eq("messages", got, [["message", "c1", "hello"], ["pmessage", "p.*", "p.x", "world"], ["smessage", "sh", "shard"]]);
  eq("pubsub numsub", await r.pubsub("NUMSUB", "c1", "nochan"), ["c1", 1, "nochan", 0]);
  eq("unsubscribe (channels + patterns left)", await sub.unsubscribe("c1"), 2);
  eq("punsubscribe", await sub.punsubscribe("p.*"), 1);
  await sub.unsubscribe();
  await sub.sunsubscribe();
  eq("back to normal mode", await sub.ping(), "PONG");
});

await step("monitor", async () => {
  const mon = await r.duplicate().monitor();
  const seen = [];
  mon.on("monitor", (time, args) => seen.push(args));
  await r.set("monitored", "1");
  await until(() => seen.some((a) => a[0] === "set" && a[1] === "monitored"));
  ok("monitor saw SET", true);
  mon.disconnect();
});

if (authPort) {
  await step("auth", async () => {
    const a = new Redis({ ...opts, port: authPort, password, db: 2 });
    eq("password and db from options", await a.client("INFO").then((s) => /\bdb=2\b/.test(s)), true);
    a.disconnect();
    const errors = [];
    const bad = new Redis({ ...opts, port: authPort, password: "wrong", retryStrategy: () => null });
    bad.on("error", (e) => errors.push(e.message));
    await until(() => errors.length > 0);
    eq("wrong password", errors[0], "WRONGPASS invalid username-password pair or user is disabled.");
    bad.disconnect();
  });
}

r.disconnect();
sub.disconnect();
finish(label);
