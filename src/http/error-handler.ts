import type { ErrorRequestHandler } from "express";
import { TollgateError } from "../lib/errors.ts";
import type { Logger } from "../lib/logger.ts";

/**
 * The only place that turns errors into HTTP responses: OpenAI-style bodies
 * `{error:{message,type,code,param}}` with the catalogue's status.
 */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return function handleError(error: unknown, req, res, _next) {
    const known = error instanceof TollgateError ? error : undefined;
    const status = known?.status ?? 500;
    if (status >= 500) logger.error({ err: error, path: req.path, requestId: res.getHeader("x-tollgate-request-id") }, "request failed");
    else logger.debug({ code: known?.code, path: req.path }, "request refused");
    if (res.headersSent) {
      res.end();
      return;
    }
    for (const [name, value] of Object.entries(known?.headers ?? {})) res.setHeader(name, value);
    res.status(status).json({
      error: {
        message: known?.message ?? "Internal error",
        type: known?.type ?? "api_error",
        code: known?.code ?? "internal_error",
        param: known?.param ?? null,
        ...(known?.details ?? {}),
      },
    });
  };
}
