// Tiny assertion harness shared by the client scripts: every check runs, failures are listed,
// and the process exits non-zero when any reply differs from what Valkey sends.
import { isDeepStrictEqual, inspect } from "node:util";

const failures = [];
let passed = 0;
let current = "";

export function section(name) {
  current = name;
}

export function eq(what, actual, expected) {
  if (isDeepStrictEqual(actual, expected)) {
    passed += 1;
  } else {
    failures.push(`${current}: ${what}\n    expected ${inspect(expected, { depth: 6 })}\n    actual   ${inspect(actual, { depth: 6 })}`);
  }
}

export function ok(what, cond) {
  eq(what, Boolean(cond), true);
}

export async function rejects(what, promise, pattern) {
  try {
    const v = await promise;
    failures.push(`${current}: ${what}: expected an error matching ${pattern}, got ${inspect(v)}`);
  } catch (e) {
    const msg = e?.message ?? String(e);
    if (pattern.test(msg)) passed += 1;
    else failures.push(`${current}: ${what}: error ${inspect(msg)} does not match ${pattern}`);
  }
}

export async function step(name, fn) {
  section(name);
  if (process.env.CHECK_VERBOSE) console.error(`-- ${name}`);
  try {
    await fn();
  } catch (e) {
    failures.push(`${name}: threw ${e?.stack ?? e}`);
  }
}

export function until(fn, ms = 3000) {
  // resolves when fn() is truthy (polled), rejects after ms
  return new Promise((resolve, reject) => {
    const start = Date.now();
    const tick = () => {
      const v = fn();
      if (v) return resolve(v);
      if (Date.now() - start > ms) return reject(new Error("timed out waiting"));
      setTimeout(tick, 5);
    };
    tick();
  });
}

export function finish(label) {
  if (failures.length) {
    console.error(`${label}: ${failures.length} failed, ${passed} passed`);
    for (const f of failures) console.error("FAIL " + f);
    process.exit(1);
  }
  console.log(`${label}: ${passed} checks passed`);
  process.exit(0);
}

export function config() {
  const port = Number(process.env.PYKEY_PORT);
  const authPort = Number(process.env.PYKEY_AUTH_PORT || 0);
  const password = process.env.PYKEY_PASSWORD || "";
  if (!port) {
    console.error("PYKEY_PORT is not set");
    process.exit(2);
  }
  return { host: "127.0.0.1", port, authPort, password };
}
