// Fan-out with faulty servers: 10% blackholed (accept, never answer), 5% answering 500,
// 5% slow (5 s); compared with a fault-free run of the same size, in the same process.
//   npm run bench:faults [-- --followers 2000 --servers 200]
import { arg, type Behaviour, runFanout } from "./harness.ts";

const followers = arg("followers", 2_000);
const servers = arg("servers", 200);
const concurrency = arg("concurrency", 512);

const faulty: Behaviour[] = Array.from({ length: servers }, (_, i) => {
  const r = i % 20;
  return r < 2 ? "blackhole" : r === 2 ? "error" : r === 3 ? "slow" : "ok";
});
const clean: Behaviour[] = faulty.map((b) => (b === "ok" ? "ok" : "ok"));
console.log(`faults: ${followers} followers on ${servers} servers; 10% blackholed, 5% answering 500, 5% slow (5 s)`);
const base = await runFanout({ followers, behaviours: clean, concurrency });
const healthyShare = faulty.filter((b) => b === "ok").length;
// Throughput to healthy servers: healthy servers reached per second of the fan-out.
const baseRate = base.healthyDelivered / (base.lastHealthyMs / 1000);
const run = await runFanout({ followers, behaviours: faulty, concurrency, slowMs: 5000 });
const faultRate = run.healthyDelivered / (run.lastHealthyMs / 1000);
console.log(`fault-free: ${base.healthyDelivered} servers in ${base.lastHealthyMs} ms (${Math.round(baseRate)}/s)`);
console.log(
  `with faults: ${run.healthyDelivered}/${healthyShare} healthy servers in ${run.lastHealthyMs} ms (${Math.round(faultRate)}/s)`,
);
console.log(`faults ratio: ${(faultRate / baseRate).toFixed(2)}`);
console.log(`peak RSS with faults: ${run.peakRssMb} MB`);
process.exit(0);
