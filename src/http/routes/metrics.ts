import { Router } from "express";
import type { GatewayMetrics } from "../../observability/metrics.ts";

/**
 * GET /metrics (Prometheus text format): process metrics, requests, payments, money and
 * settlement (observability/metrics.ts), and the live routing health table, read at scrape time.
 */
export function metricsRoutes(metrics: GatewayMetrics): Router {
  const router = Router();
  router.get("/metrics", async function scrape(_req, res) {
    res.setHeader("content-type", metrics.registry.contentType);
    res.send(await metrics.registry.metrics());
  });
  return router;
}
