// A wrong-password flood against an exporter, with a well-behaved scraper running beside it.
// Plain JavaScript: it runs with `node` inside a lab namespace (the test and the bench start it).
//
//   node auth-flood.mjs '{"url": "https://127.0.0.1:9736/metrics", "user": "prometheus", "password": "s3cret",
//                        "clients": 64, "requests": 640, "scrapeEveryMs": 250, "quietMs": 2000,
//                        "goodFrom": "127.0.0.2", "badFrom": ["127.0.0.9"], "watch": ["nodejs_eventloop_lag_max_seconds"]}'
//
// Scrapes with the good password run for quietMs before the flood, during it and quietMs after;
// each is timed (request to last byte). `clients` concurrent connections (client i from badFrom[i %
// n]) send `requests` wrong passwords in all, or keep sending for `floodMs` when that is given
// (clients: 0 = no flood, floodMs of quiet). scrapeEveryMs: 0 = no scraper (run the scraper in a
// process of its own when the flood must not slow the scraper's own event loop). "watch": the value
// of each of those metrics (summed over its series) in every good scrape. Prints one JSON object:
// the answers and timings.
import http from 'node:http';
import https from 'node:https';

const o = JSON.parse(process.argv[2]);
const url = new URL(o.url);
const lib = url.protocol === 'https:' ? https : http;
const auth = (password) => `Basic ${Buffer.from(`${o.user}:${password}`).toString('base64')}`;

function get(agent, authorization, localAddress, watch) {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const req = lib.request(url, { agent, headers: { authorization }, localAddress, rejectUnauthorized: false }, (res) => {
      let body = '';
      if (watch) res.on('data', (c) => (body += c));
      else res.resume();
      res.on('end', () => {
        const r = { status: res.statusCode, ms: performance.now() - t0 };
        if (!watch?.length || r.status !== 200) return resolve(r);
        const watched = {};
        for (const name of watch) {
          for (const m of body.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))) watched[name] = (watched[name] ?? 0) + Number(m[1]);
        }
        resolve({ ...r, watched });
      });
    });
    req.setTimeout(30_000, () => req.destroy(new Error('timeout')));
    req.on('error', (err) => resolve({ status: 0, ms: performance.now() - t0, error: err.message }));
    req.end();
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const phase = { name: 'before' };
const good = [];
let scraping = true;
const scraper = (async () => {
  if (!o.scrapeEveryMs) return;
  const agent = new lib.Agent({ keepAlive: true, maxSockets: 1 });
  while (scraping) {
    const r = await get(agent, auth(o.password), o.goodFrom, o.watch);
    good.push({ ...r, phase: phase.name });
    await sleep(o.scrapeEveryMs);
  }
  agent.destroy();
})();

await sleep(o.quietMs);
phase.name = 'flood';
const badStatus = {};
const t0 = performance.now();
if (o.clients > 0) {
  let left = o.requests ?? Infinity;
  const from = [o.badFrom].flat();
  const more = () => (o.floodMs ? performance.now() - t0 < o.floodMs : left > 0);
  await Promise.all(
    Array.from({ length: o.clients }, async (_, c) => {
      const agent = new lib.Agent({ keepAlive: true, maxSockets: 1 });
      while (more()) {
        left--;
        const r = await get(agent, auth(`guess-${c}-${left}`), from[c % from.length]);
        badStatus[r.status] = (badStatus[r.status] ?? 0) + 1;
      }
      agent.destroy();
    }),
  );
} else {
  await sleep(o.floodMs ?? 0);
}
const floodMs = performance.now() - t0;
phase.name = 'after';
await sleep(o.quietMs);
scraping = false;
await scraper;
console.log(JSON.stringify({ floodMs, badStatus, good }));
