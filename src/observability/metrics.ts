import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { HealthTracker } from "../routing/health.ts";

/**
 * The gateway's Prometheus metrics, one registry per gateway (tests run several in a process).
 * Names follow Prometheus' conventions (prometheus.io/docs/practices/naming): counters end in
 * `_total`, durations are `_seconds`, money is in the token's atomic units (USDC: 6 decimals),
 * so `tollgate_revenue_atomic_units_total / 1e6` is USD. Counters are doubles: exact up to 2^53
 * atomic units (about 9 billion USDC).
 */

/** A payment's scheme as a label: the two x402 schemes, or `unknown` for one never decoded. */
export type SchemeLabel = "exact" | "upto" | "unknown";

/** How a settlement attempt ended (payment/settle.ts SettleOutcome kinds). */
export type SettlementLabel = "settled" | "pending" | "expired" | "unpaid";

const CIRCUIT_VALUE = { closed: 0, half_open: 1, open: 2 } as const;
const SECONDS_PER_MS = 1 / 1000;

/** Upstream answers take from tens of milliseconds to minutes (long generations). */
const UPSTREAM_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
/** Settlement is one facilitator call and a chain receipt: milliseconds on the devnet, seconds on Base. */
const SETTLEMENT_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export class GatewayMetrics {
  readonly registry = new Registry();
  readonly #health: HealthTracker;
  readonly #now: () => number;
  readonly #requests: Counter<"route" | "method" | "status">;
  readonly #requestSeconds: Histogram<"route" | "method">;
  readonly #payments: Counter<"scheme" | "outcome">;
  readonly #revenue: Counter<"scheme">;
  readonly #upstreamCost: Counter<"provider">;
  readonly #upstreamFirstByte: Histogram<"provider" | "mode">;
  readonly #settlements: Counter<"scheme" | "outcome">;
  readonly #settlementFailures: Counter<"scheme" | "outcome">;
  readonly #settlementSeconds: Histogram<"scheme" | "outcome">;

  constructor(options: { health: HealthTracker; now: () => number }) {
    this.#health = options.health;
    this.#now = options.now;
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: "tollgate_" });
    this.#requests = new Counter({ name: "tollgate_http_requests_total", help: "HTTP requests answered, by route, method and status code", labelNames: ["route", "method", "status"], registers });
    this.#requestSeconds = new Histogram({ name: "tollgate_http_request_duration_seconds", help: "Time from a request's arrival to the end of its response (a stream's included)", labelNames: ["route", "method"], registers });
    this.#payments = new Counter({
      name: "tollgate_payments_total",
      help: "Paid requests by scheme and outcome: refused (no call, nothing charged), or the call's ledger status when its request ended (settled, served, pending, failed, released, unpaid, expired)",
      labelNames: ["scheme", "outcome"],
      registers,
    });
    this.#revenue = new Counter({ name: "tollgate_revenue_atomic_units_total", help: "What settled calls charged agents, in the token's atomic units", labelNames: ["scheme"], registers });
    this.#upstreamCost = new Counter({ name: "tollgate_upstream_cost_atomic_units_total", help: "What served calls cost upstream at list price, in the token's atomic units", labelNames: ["provider"], registers });
    this.#upstreamFirstByte = new Histogram({
      name: "tollgate_upstream_first_byte_seconds",
      help: "Time from sending an upstream request to its first byte: a stream's first chunk, a non-streamed answer's arrival",
      labelNames: ["provider", "mode"],
      buckets: UPSTREAM_BUCKETS,
      registers,
    });
    this.#settlements = new Counter({ name: "tollgate_settlements_total", help: "Settlement attempts by scheme and outcome", labelNames: ["scheme", "outcome"], registers });
    this.#settlementFailures = new Counter({
      name: "tollgate_settlement_failures_total",
      help: "Settlement attempts that did not settle: pending (retried), expired, unpaid (a debt)",
      labelNames: ["scheme", "outcome"],
      registers,
    });
    this.#settlementSeconds = new Histogram({ name: "tollgate_settlement_duration_seconds", help: "Time one settlement attempt took (facilitator and chain)", labelNames: ["scheme", "outcome"], buckets: SETTLEMENT_BUCKETS, registers });
    this.#healthGauges(registers);
  }

  request(route: string, method: string, status: number, seconds: number): void {
    this.#requests.inc({ route, method, status: String(status) });
    this.#requestSeconds.observe({ route, method }, seconds);
  }

  payment(scheme: SchemeLabel, outcome: string): void {
    this.#payments.inc({ scheme, outcome });
  }

  upstreamCost(provider: string, atomic: bigint): void {
    if (atomic > 0n) this.#upstreamCost.inc({ provider }, Number(atomic));
  }

  upstreamFirstByte(provider: string, mode: "chat" | "stream", ms: number): void {
    this.#upstreamFirstByte.observe({ provider, mode }, ms * SECONDS_PER_MS);
  }

  /** One settlement attempt; `charged` is counted as revenue when it settled. */
  settlement(scheme: SchemeLabel, outcome: SettlementLabel, seconds: number, charged: bigint): void {
    this.#settlements.inc({ scheme, outcome });
    this.#settlementSeconds.observe({ scheme, outcome }, seconds);
    if (outcome !== "settled") this.#settlementFailures.inc({ scheme, outcome });
    else if (charged > 0n) this.#revenue.inc({ scheme }, Number(charged));
  }

  /**
   * The routing health table as gauges. Each gauge reads the tracker in its own collect, at
   * scrape time: filling several gauges from one of them made the others show the previous
   * scrape's values (prom-client renders gauges in registration order).
   */
  #healthGauges(registers: Registry[]): void {
    const labelNames = ["model", "provider"] as const;
    const health = () => Object.values(this.#health.snapshot(this.#now()));
    const gauge = (name: string, help: string, value: (h: ReturnType<typeof health>[number]) => number | undefined) =>
      new Gauge({
        name,
        help,
        labelNames,
        registers,
        collect() {
          this.reset();
          for (const h of health()) {
            const v = value(h);
            if (v !== undefined) this.set({ model: h.model, provider: h.provider }, v);
          }
        },
      });
    gauge("tollgate_upstream_latency_seconds", "EWMA latency of successful upstream calls", (h) => (h.latencyMs === undefined ? undefined : h.latencyMs * SECONDS_PER_MS));
    gauge("tollgate_upstream_ttft_seconds", "EWMA time to first byte of streamed upstream calls", (h) => (h.ttftMs === undefined ? undefined : h.ttftMs * SECONDS_PER_MS));
    gauge("tollgate_upstream_error_ratio", "EWMA error rate of upstream calls (0..1)", (h) => h.errorRate);
    gauge("tollgate_circuit_state", "Circuit breaker per model and provider: 0 closed, 1 half-open, 2 open", (h) => CIRCUIT_VALUE[h.state]);
  }
}
