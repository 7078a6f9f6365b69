import { Router } from "express";
import { collectDefaultMetrics, Gauge, Registry } from "prom-client";
import type { HealthTracker } from "../../routing/health.ts";

const CIRCUIT_VALUE = { closed: 0, half_open: 1, open: 2 } as const;

/**
 * GET /metrics (Prometheus text format): process metrics plus the live routing health table,
 * read from the tracker at scrape time so the two never disagree.
 */
export function metricsRoutes(options: { health: HealthTracker; now: () => number }): Router {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "tollgate_" });
  const labelNames = ["model", "provider"] as const;
  const latency = new Gauge({ name: "tollgate_upstream_latency_ms", help: "EWMA latency of successful upstream calls", labelNames, registers: [registry] });
  const ttft = new Gauge({ name: "tollgate_upstream_ttft_ms", help: "EWMA time to first byte of streamed upstream calls", labelNames, registers: [registry] });
  const errorRate = new Gauge({ name: "tollgate_upstream_error_rate", help: "EWMA error rate of upstream calls (0..1)", labelNames, registers: [registry] });
  new Gauge({
    name: "tollgate_circuit_state",
    help: "Circuit breaker per model and provider: 0 closed, 1 half-open, 2 open",
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      latency.reset();
      ttft.reset();
      errorRate.reset();
      for (const h of Object.values(options.health.snapshot(options.now()))) {
        const labels = { model: h.model, provider: h.provider };
        this.set(labels, CIRCUIT_VALUE[h.state]);
        errorRate.set(labels, h.errorRate);
        if (h.latencyMs !== undefined) latency.set(labels, h.latencyMs);
        if (h.ttftMs !== undefined) ttft.set(labels, h.ttftMs);
      }
    },
  });

  const router = Router();
  router.get("/metrics", async function metrics(_req, res) {
    res.setHeader("content-type", registry.contentType);
    res.send(await registry.metrics());
  });
  return router;
}
