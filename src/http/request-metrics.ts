import type { RequestListener } from "node:http";
import type { GatewayMetrics } from "../observability/metrics.ts";
import { pathOf } from "./request-path.ts";

/** Paths counted under their own name; anything else is `other`, so junk URLs cannot grow the label set. */
const ROUTES = new Set([
  "/v1/chat/completions",
  "/v1/embeddings",
  "/v1/route",
  "/v1/models",
  "/healthz",
  "/readyz",
  "/metrics",
  "/dev/info",
  "/dev/faucet",
  "/facilitator/supported",
  "/facilitator/verify",
  "/facilitator/settle",
]);
const PREFIXES: ReadonlyArray<[string, string]> = [
  ["/v1/debts/", "/v1/debts/:address"],
  ["/admin/", "/admin/*"],
];

/** The route label of a request path. */
export function routeLabel(url: string | undefined): string {
  const path = pathOf(url);
  if (ROUTES.has(path)) return path;
  return PREFIXES.find(([prefix]) => path.startsWith(prefix))?.[1] ?? "other";
}

/** Counts every request by route, method and status, and times it until its response ends or is cut. */
export function countRequests(listener: RequestListener, metrics: Pick<GatewayMetrics, "request">): RequestListener {
  return function counted(req, res) {
    const started = performance.now();
    res.once("close", () => metrics.request(routeLabel(req.url), req.method ?? "OTHER", res.statusCode, (performance.now() - started) / 1000));
    listener(req, res);
  };
}
