import express, { type Express } from "express";
import type { AppDeps } from "./http/app-deps.ts";
import { errorHandler } from "./http/error-handler.ts";
import { adminRoutes } from "./http/routes/admin.ts";
import { chatRoutes } from "./http/routes/chat.ts";
import { debtRoutes } from "./http/routes/debts.ts";
import { devRoutes } from "./http/routes/dev.ts";
import { embeddingRoutes } from "./http/routes/embeddings.ts";
import { facilitatorRoutes } from "./http/routes/facilitator.ts";
import { metricsRoutes } from "./http/routes/metrics.ts";
import { modelRoutes } from "./http/routes/models.ts";
import { TollgateError } from "./lib/errors.ts";

/** Routes and middleware in layer order. No I/O here: everything arrives in `deps`. */
export function createApp(deps: AppDeps): Express {
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

  app.use(chatRoutes(deps));
  app.use(embeddingRoutes(deps));
  app.use(debtRoutes(deps));
  app.use(modelRoutes(deps.catalog));
  app.use(adminRoutes({ ledger: deps.ledger, adminToken: deps.adminToken, health: deps.health, now: deps.now }));
  app.use(metricsRoutes({ health: deps.health, now: deps.now }));
  if (deps.dev !== undefined) app.use(devRoutes(deps.dev));
  if (deps.localFacilitator !== undefined) app.use(facilitatorRoutes(deps.localFacilitator));

  app.use(function notFound(req, _res, next) {
    next(new TollgateError("not_found", `No route for ${req.method} ${req.path}`));
  });
  app.use(errorHandler(deps.logger));
  return app;
}
