import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";
import type { AdmitPayer } from "../call/paid-call.ts";
import type { Logger } from "../lib/logger.ts";
import { writeError } from "./error-handler.ts";
import { pathOf } from "./request-path.ts";

/** A POST endpoint written against node:http alone; a rejection becomes an error response. */
export type DirectRoute = (req: IncomingMessage, res: ServerResponse, limits: RouteLimits) => Promise<void>;

/** What http/rate-limit.ts hands a route: the paying wallet's rate limit, when one applies. */
export interface RouteLimits {
  admitPayer?: AdmitPayer;
}

/**
 * Serves the per-call endpoints (`POST` to an exact path) on node:http directly and hands every
 * other request to `fallback` (the Express app). Why: Express costs about 0.2 ms of CPU per
 * request on this path (router, the prototype swap of req/res, res.json), which was 40% of a
 * 402's cost (bench/README.md, "Side by side with Portkey's gateway").
 */
export function serveDirect(routes: Record<string, DirectRoute>, fallback: RequestListener, logger: Logger): RequestListener {
  const table = new Map(Object.entries(routes));
  return function dispatch(req, res) {
    const route = req.method === "POST" ? table.get(pathOf(req.url)) : undefined;
    if (route === undefined) {
      fallback(req, res);
      return;
    }
    route(req, res, {}).catch((error: unknown) => writeError(logger, error, req, res));
  };
}
