// node-redis against pykey: the connection handshake (HELLO 3 or AUTH/SETNAME/SELECT, CLIENT
// SETINFO, CLIENT MAINT_NOTIFICATIONS refused and ignored), every data type through the typed
// command API, MULTI/EXEC and WATCH, implicit pipelining, Pub/Sub (channels, patterns, shard
// channels), scripts and functions, scan iterators, client-side caching (RESP3 tracking).
// Usage: PYKEY_PORT=6379 node node-redis.mjs [package-name] [2|3]
import { config, eq, ok, rejects, step, until, finish } from "./check.mjs";

const pkg = process.argv[2] || "redis";
const RESP = Number(process.argv[3] || 2);
const { createClient, defineScript } = await import(pkg);
const { host, port, authPort, password } = config();
const url = `redis://${host}:${port}`;
const label = `${pkg} RESP${RESP}`;
const plain = (v) => JSON.parse(JSON.stringify(v));   // null-prototype objects -> plain ones

const scripts = {
  getset2: defineScript({
    NUMBER_OF_KEYS: 1,
    SCRIPT: "local old = redis.call('GET', KEYS[1]); redis.call('SET', KEYS[1], ARGV[1]); return old",
    parseCommand(parser, key, value) {
      parser.pushKey(key);
      parser.push(value);
    },
    transformReply(reply) {
      return reply;
    },
  }),
};

async function connect(extra = {}) {
  const c = createClient({ url, RESP, scripts, ...extra });
  c.on("error", (e) => console.error(`${label}: client error: ${e.message}`));
  await c.connect();
  return c;
}

const r = await connect();

await step("connect", async () => {
  eq("ping", await r.ping(), "PONG");
  await r.flushAll();
  const info = await r.clientInfo();
  eq("lib-name from CLIENT SETINFO", info.libName, "node-redis");
  ok("lib-ver from CLIENT SETINFO", info.libVer && info.libVer.length > 0);
  eq("resp", info.resp, RESP);
  const named = await connect({ name: "nr-test", database: 4 });
  eq("name", await named.clientGetName(), "nr-test");
  eq("database", (await named.clientInfo()).db, 4);
  named.destroy();
});

await step("strings", async () => {
  eq("set", await r.set("s", "hello"), "OK");
  eq("get", await r.get("s"), "hello");
  eq("get missing", await r.get("nokey"), null);
  eq("set NX existing", await r.set("s", "x", { condition: "NX" }), null);
  eq("set GET", await r.set("s", "v2", { GET: true }), "hello");
  eq("set EX", await r.set("e", "1", { expiration: { type: "EX", value: 100 } }), "OK");
  eq("ttl", await r.ttl("e"), 100);
  eq("incr", await r.incr("n"), 1);
  eq("incrByFloat", await r.incrByFloat("f", 1.5), "1.5");
  eq("mSet", await r.mSet({ a: "1", b: "2" }), "OK");
  eq("mGet", await r.mGet(["a", "b", "nokey"]), ["1", "2", null]);
  eq("getDel", await r.getDel("a"), "1");
  eq("getEx", await r.getEx("b", { type: "PX", value: 5000 }), "2");
  eq("lcs", await r.lcs("s", "b"), "2");
  const big = "y".repeat(3 * 1024 * 1024);
  await r.set("big", big);
  eq("3 MB value", (await r.get("big")).length, big.length);
  const bin = Buffer.from([0, 255, 13, 10, 36, 42, 128]);
  await r.set(Buffer.from([1, 0, 2]), bin);
  const back = await r.withTypeMapping({ 36: Buffer }).get(Buffer.from([1, 0, 2]));
  eq("binary round trip", Buffer.compare(back, bin), 0);
  await rejects("wrong type", r.lPush("s", "x"), /^WRONGTYPE Operation against a key holding the wrong kind of value$/);
  await rejects("unknown command", r.sendCommand(["NOSUCHCMD", "a"]), /^ERR unknown command 'NOSUCHCMD', with args beginning with: 'a' $/);
});

await step("keys", async () => {
  eq("exists", await r.exists(["s", "nokey"]), 1);
  eq("type", await r.type("s"), "string");
  eq("expire", await r.expire("s", 50), 1);
  eq("persist", await r.persist("s"), 1);
  eq("copy", await r.copy("s", "s2"), 1);
  eq("rename", await r.rename("s2", "s3"), "OK");
  eq("objectEncoding", await r.objectEncoding("n"), "int");
  eq("del", await r.del(["s3", "nokey"]), 1);
});

await step("hash", async () => {
  eq("hSet", await r.hSet("h", { f1: "v1", f2: "v2" }), 2);
  eq("hGetAll", plain(await r.hGetAll("h")), { f1: "v1", f2: "v2" });
  eq("hGetAll missing", plain(await r.hGetAll("nokey")), {});
  eq("hmGet", await r.hmGet("h", ["f1", "nof"]), ["v1", null]);
  eq("hIncrBy", await r.hIncrBy("h", "n", 3), 3);
  eq("hIncrByFloat", await r.hIncrByFloat("h", "n", 0.5), "3.5");
  eq("hRandField", typeof (await r.hRandField("h")), "string");
  eq("hExpire", await r.hExpire("h", "f1", 100), [1]);
  eq("hTTL", await r.hTTL("h", ["f1", "nof"]), [100, -2]);
});

await step("list", async () => {
  eq("rPush", await r.rPush("l", ["a", "b", "c"]), 3);
  eq("lRange", await r.lRange("l", 0, -1), ["a", "b", "c"]);
  eq("lPos", await r.lPos("l", "b"), 1);
  eq("lmPop", plain(await r.lmPop("l", "LEFT", { COUNT: 2 })), ["l", ["a", "b"]]);
  eq("blPop timeout", await r.blPop("nolist", 0.05), null);
  const other = await connect();
  const pushed = new Promise((resolve) => setTimeout(() => resolve(other.rPush("bl", "woke")), 30));
  eq("blPop woken", plain(await r.blPop("bl", 2)), { key: "bl", element: "woke" });
  eq("pushed", await pushed, 1);
  other.destroy();
});

await step("set", async () => {
  eq("sAdd", await r.sAdd("st", ["a", "b", "c"]), 3);
  eq("sMembers", [...(await r.sMembers("st"))].sort(), ["a", "b", "c"]);
  eq("sIsMember", await r.sIsMember("st", "a"), 1);
  eq("smIsMember", await r.smIsMember("st", ["a", "z"]), [1, 0]);
  eq("sInterCard", await r.sInterCard(["st"]), 3);
});

await step("sorted set", async () => {
  eq("zAdd", await r.zAdd("z", [{ score: 1, value: "a" }, { score: 2.5, value: "b" }, { score: 3, value: "c" }]), 3);
  eq("zRangeWithScores", plain(await r.zRangeWithScores("z", 0, -1)),
    [{ value: "a", score: 1 }, { value: "b", score: 2.5 }, { value: "c", score: 3 }]);
  eq("zScore", await r.zScore("z", "b"), 2.5);
  eq("zScore missing", await r.zScore("z", "x"), null);
  eq("zIncrBy", await r.zIncrBy("z", 0.1, "a"), 1.1);
  eq("zRank", await r.zRank("z", "c"), 2);
  eq("zPopMin", plain(await r.zPopMin("z")), { value: "a", score: 1.1 });
  eq("zmScore", await r.zmScore("z", ["b", "x"]), [2.5, null]);
  eq("zRangeByScore", await r.zRangeByScore("z", "(2.5", "+inf"), ["c"]);
  eq("zRandMember", typeof (await r.zRandMember("z")), "string");
  eq("bzPopMax", plain(await r.bzPopMax("z", 1)), { key: "z", value: "c", score: 3 });
});

await step("stream", async () => {
  eq("xAdd", await r.xAdd("x", "1-1", { f: "v" }), "1-1");
  eq("xLen", await r.xLen("x"), 1);
  eq("xRange", plain(await r.xRange("x", "-", "+")), [{ id: "1-1", message: { f: "v" } }]);
  eq("xGroupCreate", await r.xGroupCreate("x", "grp", "0"), "OK");
  const got = plain(await r.xReadGroup("grp", "c1", { key: "x", id: ">" }, { COUNT: 10 }));
  // v5 with RESP3 hands back the raw [id, [field, value]] entries; v6 and RESP2 parse them
  const entries = (Array.isArray(got) ? got[0].messages : got.x).map((e) =>
    Array.isArray(e) ? { id: e[0], message: { [e[1][0]]: e[1][1] } } : e);
  eq("xReadGroup", entries, [{ id: "1-1", message: { f: "v" } }]);
  eq("xPending", plain(await r.xPending("x", "grp")),
    { pending: 1, firstId: "1-1", lastId: "1-1", consumers: [{ name: "c1", deliveriesCounter: 1 }] });
  eq("xAck", await r.xAck("x", "grp", "1-1"), 1);
  const info = plain(await r.xInfoStream("x"));
  eq("xInfoStream length", info.length, 1);
  eq("xInfoGroups", plain(await r.xInfoGroups("x")).map((g) => g.name), ["grp"]);
  const auto = plain(await r.xAutoClaim("x", "grp", "c2", 0, "0-0"));
  eq("xAutoClaim cursor", auto.nextId, "0-0");
});

await step("hyperloglog, bitmaps, geo", async () => {
  eq("pfAdd", await r.pfAdd("hll", ["a", "b", "c"]), 1);
  eq("pfCount", await r.pfCount("hll"), 3);
  eq("setBit", await r.setBit("bm", 7, 1), 0);
  eq("bitCount", await r.bitCount("bm"), 1);
  eq("bitField", await r.bitField("bf", [
    { operation: "SET", encoding: "u8", offset: 0, value: 200 },
    { operation: "INCRBY", encoding: "u8", offset: 0, increment: 100 },
  ]), [0, 44]);
  eq("geoAdd", await r.geoAdd("g", [
    { longitude: 13.361389, latitude: 38.115556, member: "Palermo" },
    { longitude: 15.087269, latitude: 37.502669, member: "Catania" },
  ]), 2);
  eq("geoDist", await r.geoDist("g", "Palermo", "Catania", "km"), 166.2742);
  eq("geoSearch", await r.geoSearch("g", { longitude: 15, latitude: 37 }, { radius: 100, unit: "km" }), ["Catania"]);
  eq("geoPos", plain(await r.geoPos("g", ["Palermo", "nope"]))[1], null);
});

await step("scan iterators", async () => {
  await r.mSet(Object.fromEntries(Array.from({ length: 150 }, (_, i) => [`scan:${i}`, String(i)])));
  const keys = new Set();
  for await (const batch of r.scanIterator({ MATCH: "scan:*", COUNT: 20 })) {
    for (const k of [].concat(batch)) keys.add(k);
  }
  eq("scanIterator sees every key once", keys.size, 150);
  await r.zAdd("bigz", Array.from({ length: 200 }, (_, i) => ({ score: i, value: `m${i}` })));
  let members = 0;
  for await (const batch of r.zScanIterator("bigz", { COUNT: 30 })) members += [].concat(batch).length;
  eq("zScanIterator", members, 200);
  await r.sAdd("bigs", Array.from({ length: 200 }, (_, i) => `e${i}`));
  let elems = 0;
  for await (const batch of r.sScanIterator("bigs")) elems += [].concat(batch).length;
  eq("sScanIterator", elems, 200);
});

await step("multi and pipelines", async () => {
  eq("multi", await r.multi().set("m", "1").incr("m").get("m").exec(), ["OK", 2, "2"]);
  await rejects("queued error aborts EXEC", r.multi().set("m", "1").addCommand(["GET"]).exec(),
    /EXECABORT|wrong number of arguments/);
  const w = await connect();
  await w.watch("w");
  await r.set("w", "changed");
  await rejects("WATCH: a changed key aborts EXEC", w.multi().set("w", "mine").exec(), /watch/i);
  eq("value kept", await r.get("w"), "changed");
  w.destroy();
  const res = await r.multi().set("p", "1").incr("p").execAsPipeline();
  eq("execAsPipeline", res, ["OK", 2]);
  const many = await Promise.all(Array.from({ length: 300 }, (_, i) => r.set(`pp:${i}`, String(i))));
  eq("implicit pipelining", many.filter((v) => v === "OK").length, 300);
});

await step("scripts and functions", async () => {
  eq("eval", await r.eval("return {KEYS[1], ARGV[1], 3, 3.9, false}", { keys: ["k"], arguments: ["a"] }),
    ["k", "a", 3, 3, null]);
  await r.scriptFlush();
  await r.set("lk", "old");
  eq("defineScript (EVALSHA -> NOSCRIPT -> EVAL)", await r.getset2("lk", "new"), "old");
  eq("defineScript again", await r.getset2("lk", "newer"), "new");
  await r.functionFlush();
  const lib = "#!lua name=nrlib\nserver.register_function('nrfn', function(keys, args) return #keys + #args end)";
  eq("functionLoad", await r.functionLoad(lib), "nrlib");
  eq("fCall", await r.fCall("nrfn", { keys: ["a"], arguments: ["b", "c"] }), 3);
  eq("functionList", plain(await r.functionList()).map((l) => l.library_name), ["nrlib"]);
  await r.functionFlush();
});

await step("pubsub", async () => {
  const sub = r.duplicate();
  sub.on("error", () => {});
  await sub.connect();
  const got = [];
  await sub.subscribe("c1", (m, ch) => got.push(["message", ch, m]));
  await sub.pSubscribe("p.*", (m, ch) => got.push(["pmessage", ch, m]));
  await sub.sSubscribe("sh", (m, ch) => got.push(["smessage", ch, m]));
  eq("publish", await r.publish("c1", "hello"), 1);
  eq("publish to pattern", await r.publish("p.x", "world"), 1);
  eq("sPublish", await r.sPublish("sh", "shard"), 1);
  await until(() => got.length >= 3);
  eq("messages", got, [["message", "c1", "hello"], ["pmessage", "p.x", "world"], ["smessage", "sh", "shard"]]);
  eq("pubSubNumSub", plain(await r.pubSubNumSub(["c1", "none"])), { c1: 1, none: 0 });
  eq("pubSubNumPat", await r.pubSubNumPat(), 1);
  eq("pubSubShardChannels", await r.pubSubShardChannels(), ["sh"]);
  await sub.unsubscribe("c1");
  await sub.pUnsubscribe("p.*");
  await sub.sUnsubscribe("sh");
  eq("ping after unsubscribing", String(await sub.ping()), "PONG");
  sub.destroy();
});

if (RESP === 3) {
  await step("client-side caching", async () => {
    const { BasicClientSideCache } = await import(pkg);
    if (!BasicClientSideCache) return;
    const cache = new BasicClientSideCache();
    const c = await connect({ clientSideCache: cache });
    await r.set("ck", "1");
    eq("first read", await c.get("ck"), "1");
    eq("cached read", await c.get("ck"), "1");
    eq("one entry cached", cache.size(), 1);
    await r.set("ck", "2");                        // the server sends an invalidation push
    await until(() => cache.size() === 0);
    eq("read after invalidation", await c.get("ck"), "2");
    c.destroy();
  });
}

if (authPort) {
  await step("auth", async () => {
    const a = createClient({ url: `redis://:${password}@${host}:${authPort}/2`, RESP });
    a.on("error", () => {});
    await a.connect();
    eq("password and db from the URL", (await a.clientInfo()).db, 2);
    a.destroy();
    const bad = createClient({ url: `redis://:wrong@${host}:${authPort}`, RESP, socket: { reconnectStrategy: false } });
    bad.on("error", () => {});
    await rejects("wrong password", bad.connect(), /WRONGPASS invalid username-password pair or user is disabled\./);
  });
}

r.destroy();
finish(label);
