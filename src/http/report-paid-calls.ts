import type { Logger } from "../lib/logger.ts";
import { carriesPayment, reportPaidRequest, type CallReportDeps } from "../observability/call-report.ts";
import type { DirectRoute } from "./direct-routes.ts";

/**
 * Wraps paid endpoints so each paid request ends with its one log line and payment counters
 * (observability/call-report.ts), once the route's work is done: for a stream, after it settled.
 */
export function reportPaidCalls(routes: Record<string, DirectRoute>, deps: CallReportDeps & { logger: Logger }): Record<string, DirectRoute> {
  return Object.fromEntries(
    Object.entries(routes).map(([path, route]) => [
      path,
      async function reported(req, res, limits) {
        const startedAt = performance.now();
        let error: unknown;
        try {
          await route(req, res, limits);
        } catch (caught) {
          error = caught;
          throw caught;
        } finally {
          const headers = { "payment-signature": req.headers["payment-signature"], "x-payment": req.headers["x-payment"] };
          if (carriesPayment(headers)) {
            const requestId = res.getHeader("x-tollgate-request-id");
            void reportPaidRequest(deps, { requestId: typeof requestId === "string" ? requestId : undefined, route: path, headers, startedAt, error }).catch((err: unknown) =>
              deps.logger.error({ err, requestId }, "could not report a paid call"),
            );
          }
        }
      } satisfies DirectRoute,
    ]),
  );
}
