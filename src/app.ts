import type { RequestListener } from "node:http";
import express from "express";
import type { AppDeps } from "./http/app-deps.ts";
import { createCors, withCors } from "./http/cors.ts";
import { serveDirect } from "./http/direct-routes.ts";
import { limitRoutes } from "./http/rate-limit.ts";
import { reportPaidCalls } from "./http/report-paid-calls.ts";
import { countRequests } from "./http/request-metrics.ts";
import { errorHandler } from "./http/error-handler.ts";
import { adminRoutes } from "./http/routes/admin.ts";
import { chatRoutes } from "./http/routes/chat.ts";
import { creditRoutes } from "./http/routes/credits.ts";
import { debtRoutes } from "./http/routes/debts.ts";
import { devRoutes } from "./http/routes/dev.ts";
import { embeddingRoutes } from "./http/routes/embeddings.ts";
import { facilitatorRoutes } from "./http/routes/facilitator.ts";
import { metricsRoutes } from "./http/routes/metrics.ts";
import { modelRoutes } from "./http/routes/models.ts";
import { SIMULATED_HEADER } from "./http/x402-response.ts";
import { TollgateError } from "./lib/errors.ts";

/**
 * The gateway's request listener (`http.createServer(createApp(deps))`). No I/O here: everything
 * arrives in `deps`. The per-call endpoints run on node:http directly; Express serves the rest,
 * its routes and middleware in layer order.
 */
export function createApp(deps: AppDeps): RequestListener {
  // Paid endpoints report each paid call (log line, payment counters); /v1/route takes no payment.
  const { "/v1/route": route, ...paid } = chatRoutes(deps);
  const reported = { ...reportPaidCalls({ ...paid, ...embeddingRoutes(deps) }, deps), ...(route === undefined ? {} : { "/v1/route": route }) };
  // /v1/route never takes a payment: it is always counted against the client address.
  const direct = limitRoutes(reported, deps.rateLimits, new Set(["/v1/route"]));
  const served = countRequests(serveDirect(direct, expressApp(deps), deps.logger), deps.metrics);
  // Before routing, so a preflight is answered on the node:http routes and the Express ones alike.
  const listener = deps.corsOrigins.length === 0 ? served : withCors(createCors({ origins: deps.corsOrigins }), served);
  if (!deps.simulated) return listener;
  return function markSimulated(req, res) {
    res.setHeader(SIMULATED_HEADER, "true");
    listener(req, res);
  };
}

function expressApp(deps: AppDeps): RequestListener {
  const app = express();
  app.disable("x-powered-by");
  app.set("etag", false);

  app.get("/healthz", function healthz(_req, res) {
    res.json({ status: "ok" });
  });
  app.get("/readyz", function readyz(_req, res) {
    const ready = deps.ready();
    res.status(ready ? 200 : 503).json({ status: ready ? "ready" : "not_ready" });
  });

  app.use(debtRoutes(deps));
  app.use(creditRoutes(deps));
  app.use(modelRoutes({ catalog: deps.catalog, pricing: deps.pricing }));
  app.use(adminRoutes({ ledger: deps.ledger, adminToken: deps.adminToken, health: deps.health, now: deps.now }));
  app.use(metricsRoutes(deps.metrics));
  if (deps.dev !== undefined) app.use(devRoutes(deps.dev));
  if (deps.localFacilitator !== undefined) app.use(facilitatorRoutes(deps.localFacilitator));

  app.use(function notFound(req, _res, next) {
    next(new TollgateError("not_found", `No route for ${req.method} ${req.path}`));
  });
  app.use(errorHandler(deps.logger));
  return app;
}
