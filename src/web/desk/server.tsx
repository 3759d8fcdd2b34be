import { failureClasses, recentSamples, type Sample, storageSizes } from "../../delivery/samples.ts";
import { type DeliveryStatus, deliveryStatus, type FailingServer, failingServers } from "../../delivery/status.ts";
import { TableHead } from "../views/desk.tsx";
import type { Html } from "../views/layout.tsx";
import { formatDate } from "../views/media-grid.tsx";
import type { Desk } from "./desk.tsx";

/**
 * The Server page (owner only): how the deliveries are doing now and over the
 * last day (the backlog and the pace as charts, from the samples a worker
 * writes each minute), why deliveries fail, which servers are failing or
 * paused and what they last answered, and how much room is left.
 */
export function serverDeskRoutes(desk: Desk): void {
  const { data, config } = desk.deps.lectern;
  desk.admin.get("/server", async (c) => {
    const now = Date.now();
    const hours = c.req.query("hours") === "168" ? 168 : 24;
    return desk.render(
      c,
      "Server",
      <ServerPage
        hours={hours}
        status={await deliveryStatus(data.db, now)}
        samples={await recentSamples(data.db, hours, now)}
        failures={await failureClasses(data.db, now)}
        servers={await failingServers(data.db, 100)}
        sizes={await storageSizes(data.db, config)}
      />,
      c.get("session"),
    );
  });
}

const bytes = (n: number | null) =>
  n === null
    ? "—"
    : n >= 1e9
      ? `${(n / 1e9).toFixed(1)} GB`
      : n >= 1e6
        ? `${(n / 1e6).toFixed(1)} MB`
        : `${Math.round(n / 1e3)} kB`;

/** One series over time as an SVG line chart (drawn here), with its numbers in words beside it. */
function Chart(v: { title: string; samples: Sample[]; value: (s: Sample) => number; unit: string; id: string }): Html {
  const points = v.samples;
  const w = 600;
  const h = 120;
  const values = points.map(v.value);
  const max = Math.max(1, ...values);
  const now = values.at(-1) ?? 0;
  const words =
    points.length === 0
      ? `${v.title}: no samples yet (a worker writes one each minute).`
      : `${v.title}: ${now} ${v.unit} now, at most ${max} over the ${points.length} minutes shown.`;
  const x = (i: number) => (points.length < 2 ? 0 : Math.round((i / (points.length - 1)) * w));
  const y = (n: number) => Math.round(h - (n / max) * (h - 10));
  return (
    <figure class="card chart" id={v.id}>
      <figcaption>{words}</figcaption>
      {points.length >= 2 && (
        <svg viewBox={`0 0 ${w} ${h}`} width="100%" height={h} role="img" aria-label={words} preserveAspectRatio="none">
          <polyline
            points={values.map((n, i) => `${x(i)},${y(n)}`).join(" ")}
            fill="none"
            stroke="currentColor"
            stroke-width="2"
            vector-effect="non-scaling-stroke"
          />
        </svg>
      )}
    </figure>
  );
}

function ServerPage(v: {
  hours: number;
  status: DeliveryStatus;
  samples: Sample[];
  failures: { kind: string; deliveries: number; servers: number }[];
  servers: FailingServer[];
  sizes: Awaited<ReturnType<typeof storageSizes>>;
}): Html {
  const s = v.status;
  return (
    <>
      <h1>Server</h1>
      <section class="card" id="now">
        <h2>Now</h2>
        <ul>
          <li>
            Workers: <strong>{s.workers.length}</strong>
            {s.workers.length === 0 && " — nothing is delivered until a worker runs"}
          </li>
          <li>
            Deliveries: <strong data-due>{s.due}</strong> due, {s.sending} being sent, {s.retrying} waiting for a retry
          </li>
          <li>
            Pace: <strong>{s.deliveredLastMinute}</strong> delivered in the last minute ({s.perSecond} a second)
          </li>
          <li>
            Posts waiting to go out: {s.postsWaiting}; fan-outs being queued: {s.fanOutsQueueing}; inbox work: {s.queue}
          </li>
          <li>
            Database: {bytes(v.sizes.databaseBytes)}; data folder's disk: {bytes(v.sizes.freeBytes)} free of{" "}
            {bytes(v.sizes.diskBytes)}
          </li>
        </ul>
      </section>
      <p>
        Over the last {v.hours === 24 ? "day" : "week"} —{" "}
        <a href={v.hours === 24 ? "/admin/server?hours=168" : "/admin/server"}>
          show the last {v.hours === 24 ? "week" : "day"}
        </a>
      </p>
      <Chart
        id="chart-backlog"
        title="Deliveries waiting"
        samples={v.samples}
        value={(x) => x.due + x.retrying}
        unit="deliveries"
      />
      <Chart
        id="chart-pace"
        title="Delivered per minute"
        samples={v.samples}
        value={(x) => x.delivered}
        unit="a minute"
      />
      <Chart
        id="chart-failed"
        title="Failed attempts per minute"
        samples={v.samples}
        value={(x) => x.failed}
        unit="a minute"
      />
      <section class="card" id="failure-classes">
        <h2>Why deliveries fail</h2>
        {v.failures.length === 0 ? (
          <p>No delivery is failing, and none failed in the last day.</p>
        ) : (
          <table>
            <TableHead columns={["Reason", "Deliveries", "Servers"]} />
            <tbody>
              {v.failures.map((f) => (
                <tr>
                  <td>{f.kind}</td>
                  <td>{f.deliveries}</td>
                  <td>{f.servers}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <section class="card" id="servers">
        <h2>Servers failing or paused</h2>
        {v.servers.length === 0 ? (
          <p>Every follower's server is taking deliveries.</p>
        ) : (
          <table>
            <TableHead columns={["Server", "Followers", "Failing since", "State", "Last error"]} />
            <tbody>
              {v.servers.map((r) => (
                <tr>
                  <td>{r.host}</td>
                  <td>{r.followers}</td>
                  <td>{formatDate(new Date(r.failingSince))}</td>
                  <td>{r.paused ? "paused (probed twice a day)" : "retrying"}</td>
                  <td>
                    <code>{r.lastError ?? "—"}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </>
  );
}
