import type { NextFunction, Request, RequestHandler, Response } from "express";
import { TollgateError } from "../lib/errors.ts";

/**
 * Reads a JSON request body with a hard size limit. Answers 415 for a non-JSON content type,
 * 413 past the limit (without buffering the rest), 400 for malformed JSON. The parsed value is
 * left in req.body; schemas downstream decide whether it is a valid request.
 */
export function jsonBody(options: { limitBytes: number }): RequestHandler {
  if (!Number.isInteger(options.limitBytes) || options.limitBytes <= 0) throw new RangeError("limitBytes must be a positive integer");
  return function readJsonBody(req: Request, _res: Response, next: NextFunction): void {
    const type = req.headers["content-type"] ?? "";
    if (!/^application\/([\w.+-]+\+)?json\s*(;|$)/i.test(type)) {
      next(new TollgateError("unsupported_media_type", `Content-Type must be application/json, got '${type || "(none)"}'`, { param: "content-type" }));
      return;
    }
    const declared = Number(req.headers["content-length"] ?? "0");
    if (declared > options.limitBytes) {
      next(tooLarge(options.limitBytes));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on("data", (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > options.limitBytes) {
        failed = true;
        chunks.length = 0;
        next(tooLarge(options.limitBytes));
        return;
      }
      chunks.push(chunk);
    });
    req.on("error", (cause) => {
      if (failed) return;
      failed = true;
      next(new TollgateError("invalid_request", "The request body could not be read", { cause }));
    });
    req.on("end", () => {
      if (failed) return;
      const text = Buffer.concat(chunks).toString("utf8");
      try {
        req.body = JSON.parse(text);
      } catch (cause) {
        next(new TollgateError("invalid_json", `Request body is not valid JSON: ${cause instanceof Error ? cause.message : "parse error"}`, { cause }));
        return;
      }
      next();
    });
  };
}

function tooLarge(limit: number): TollgateError {
  return new TollgateError("body_too_large", `Request body is larger than ${limit} bytes`);
}
