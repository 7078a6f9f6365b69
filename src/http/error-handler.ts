import type { IncomingMessage, ServerResponse } from "node:http";
import type { ErrorRequestHandler } from "express";
import { TollgateError } from "../lib/errors.ts";
import type { Logger } from "../lib/logger.ts";
import { pathOf } from "./request-path.ts";
import { sendJson } from "./send-json.ts";

/**
 * The only place that turns errors into HTTP responses: OpenAI-style bodies
 * `{error:{message,type,code,param}}` with the catalogue's status.
 */
export function writeError(logger: Logger, error: unknown, req: IncomingMessage, res: ServerResponse): void {
  const known = error instanceof TollgateError ? error : undefined;
  const status = known?.status ?? 500;
  const path = pathOf(req.url);
  if (status >= 500) logger.error({ err: error, path, requestId: res.getHeader("x-tollgate-request-id") }, "request failed");
  else logger.debug({ code: known?.code, path }, "request refused");
  if (res.headersSent) {
    res.end();
    return;
  }
  for (const [name, value] of Object.entries(known?.headers ?? {})) res.setHeader(name, value);
  sendJson(res, status, {
    error: {
      message: known?.message ?? "Internal error",
      type: known?.type ?? "api_error",
      code: known?.code ?? "internal_error",
      param: known?.param ?? null,
      ...(known?.details ?? {}),
    },
  });
}

/** `writeError` as Express's error middleware, for the routes Express serves. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return function handleError(error: unknown, req, res, _next) {
    writeError(logger, error, req, res);
  };
}
