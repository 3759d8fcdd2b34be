// Fan-out benchmark: N followers on M loopback servers, one post.
//   npm run bench:fanout                      (2,000 followers on 200 servers)
//   npm run bench:fanout -- --big             (100,000 followers on 10,000 servers)
//   npm run bench:fanout -- --verify          (sinks verify every signature with http-signature)
//   npm run bench:fanout -- --followers 5000 --servers 500 --concurrency 64
import { arg, flag, runFanout, signingRate } from "./harness.ts";

const big = flag("big");
const followers = arg("followers", big ? 100_000 : 2_000);
const servers = arg("servers", big ? 10_000 : 200);
const concurrency = arg("concurrency", 128);

console.log(
  `fan-out: ${followers} followers on ${servers} servers, concurrency ${concurrency}${flag("verify") ? ", signatures verified by the sinks" : ""}`,
);
const limit = await signingRate(concurrency);
console.log(`signing limit (RSA-2048, ${concurrency} in flight): ${limit} signatures/s`);
const run = await runFanout({ followers, behaviours: Array(servers).fill("ok"), concurrency, verify: flag("verify") });
console.log(`publish returned in: ${run.publishMs} ms`);
console.log(`time to first delivery: ${run.firstDeliveryMs} ms`);
console.log(`time from publish to last delivery: ${run.lastHealthyMs} ms`);
console.log(`delivered: ${run.healthyDelivered}/${run.healthy} servers`);
console.log(`deliveries per second: ${run.deliveriesPerSecond}`);
console.log(`ratio to signing limit: ${(run.deliveriesPerSecond / limit).toFixed(2)}`);
console.log(`signatures per delivery: ${run.signaturesPerDelivery.toFixed(2)}`);
console.log(`peak RSS: ${run.peakRssMb} MB (${run.rssBeforeMb} MB before publishing)`);
console.log(
  `Lectern's CPU during the fan-out: ${run.lecternCpuPercent}% of one core (the sinks share the same 2 cores)`,
);
if (flag("verify")) console.log(`signatures that failed verification: ${run.badSignatures}`);
process.exit(0);
