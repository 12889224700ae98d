// The official TypeScript admin client (@keycloak/keycloak-admin-client) as a contender of
// `cargo xtask bench`. Usage (from .cache/bench/node, where `cargo xtask bench` copies it): node ts_admin_client.mjs <create|list|list-default> URL REALM N CONCURRENCY
// Prints {"seconds": <time of the op after login>, "count": <users created or listed>,
// "cpu_seconds": <user+sys CPU of this process during the op (process.cpuUsage)>}.
// `get`: GET the first user of REALM N times (its id read before the clock).
// The client has no "get all pages" helper and users.find() without `max` returns the server's
// default page of 100 (`list-default` measures that truncation); `list` is the manual
// first/max loop its users write to get everyone.
import KcAdminClient from "@keycloak/keycloak-admin-client";

const [op, url, realm, nStr, cStr] = process.argv.slice(2);
const n = Number(nStr), c = Number(cStr || "1");
if (op === "stampede") {
  // Log in to REALM as its stamp-admin, one call, sleep past the token's expiry (N s), C calls
  // at once. Nothing here re-authenticates: what happens is the client's own token handling.
  const sk = new KcAdminClient({ baseUrl: url, realmName: realm });
  await sk.auth({ username: "stamp-admin", password: "stamp-admin-password", grantType: "password", clientId: "admin-cli" });
  await sk.users.find({ max: 1 });
  await new Promise((r) => setTimeout(r, (n + 1) * 1000));
  const t0 = process.hrtime.bigint();
  const results = await Promise.allSettled(Array.from({ length: c }, () => sk.users.find({ max: 1 })));
  const ok = results.filter((r) => r.status === "fulfilled").length;
  console.log(JSON.stringify({ seconds: Number(process.hrtime.bigint() - t0) / 1e9, count: ok }));
  process.exit(0);
}
const kc = new KcAdminClient({ baseUrl: url, realmName: "master" });
const creds = {
  username: process.env.BENCH_ADMIN_USER || "admin",
  password: process.env.BENCH_ADMIN_PASSWORD || "admin",
  grantType: "password",
  clientId: "admin-cli",
};
await kc.auth(creds);
// The client does not refresh on its own; its README re-authenticates on a timer.
const timer = setInterval(() => kc.auth(creds), 50_000);
kc.setConfig({ realmName: realm });

// getput and get: ids read before the clock, like every contender.
const ids = op === "getput" || op === "get"
  ? (await kc.users.find({ first: 0, max: op === "get" ? 1 : n, briefRepresentation: true })).map((u) => u.id)
  : [];
let started = process.hrtime.bigint();
const cpuStarted = process.cpuUsage();
let count = 0;
if (op === "get") {
  let next = 0;
  async function worker() {
    while (next < n) {
      next++;
      await kc.users.findOne({ id: ids[0] });
      count++;
    }
  }
  await Promise.all(Array.from({ length: c }, worker));
} else if (op === "create") {
  let next = 0;
  async function worker() {
    while (next < n) {
      const i = next++;
      await kc.users.create({
        username: `user-${i}`, enabled: true, email: `user-${i}@example.com`,
        firstName: "Bench", lastName: `User${i}`,
      });
      count++;
    }
  }
  await Promise.all(Array.from({ length: c }, worker));
} else if (op === "getput") {
  let next = 0;
  async function worker() {
    while (next < ids.length) {
      const id = ids[next++];
      const user = await kc.users.findOne({ id });
      user.firstName = `Put${Number(process.hrtime.bigint() % 1000n)}`;
      await kc.users.update({ id }, user);
      count++;
    }
  }
  await Promise.all(Array.from({ length: c }, worker));
} else if (op === "list") {
  // c listings of the whole realm at once, each the manual first/max loop.
  async function listAll() {
    for (let first = 0; ; first += 100) {
      const page = await kc.users.find({ first, max: 100 });
      count += page.length;
      if (page.length < 100) break;
    }
  }
  await Promise.all(Array.from({ length: c }, listAll));
} else if (op === "list-default") {
  count = (await kc.users.find()).length;
} else {
  console.error(`unknown op ${op}`);
  process.exit(2);
}
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
const cpuUsed = process.cpuUsage(cpuStarted);
clearInterval(timer);
// Peak resident set size of this process, KiB.
console.log(JSON.stringify({
  seconds, count, peak_rss_kib: process.resourceUsage().maxRSS,
  cpu_seconds: (cpuUsed.user + cpuUsed.system) / 1e6,
}));
