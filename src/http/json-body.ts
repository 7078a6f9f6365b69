import type { IncomingMessage } from "node:http";
import type { NextFunction, Request, RequestHandler, Response } from "express";
import { TollgateError } from "../lib/errors.ts";

const JSON_TYPE = /^application\/([\w.+-]+\+)?json\s*(;|$)/i;

/**
 * Reads a JSON request body with a hard size limit. Rejects with 415 for a non-JSON content
 * type, 413 past the limit (without buffering the rest), 400 for malformed JSON. Schemas
 * downstream decide whether the value is a valid request.
 */
export function readJsonBody(req: IncomingMessage, limitBytes: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const type = req.headers["content-type"] ?? "";
    if (!JSON_TYPE.test(type)) {
      reject(new TollgateError("unsupported_media_type", `Content-Type must be application/json, got '${type || "(none)"}'`, { param: "content-type" }));
      return;
    }
    const declared = Number(req.headers["content-length"] ?? "0");
    if (declared > limitBytes) {
      reject(tooLarge(limitBytes));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on("data", (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > limitBytes) {
        failed = true;
        chunks.length = 0;
        reject(tooLarge(limitBytes));
        return;
      }
      chunks.push(chunk);
    });
    req.on("error", (cause) => {
      if (failed) return;
      failed = true;
      reject(new TollgateError("invalid_request", "The request body could not be read", { cause }));
    });
    req.on("end", () => {
      if (failed) return;
      const text = Buffer.concat(chunks).toString("utf8");
      try {
        resolve(JSON.parse(text));
      } catch (cause) {
        reject(new TollgateError("invalid_json", `Request body is not valid JSON: ${cause instanceof Error ? cause.message : "parse error"}`, { cause }));
      }
    });
  });
}

/** `readJsonBody` as Express middleware: the parsed value goes to req.body. */
export function jsonBody(options: { limitBytes: number }): RequestHandler {
  if (!Number.isInteger(options.limitBytes) || options.limitBytes <= 0) throw new RangeError("limitBytes must be a positive integer");
  return function parseJsonBody(req: Request, _res: Response, next: NextFunction): void {
    readJsonBody(req, options.limitBytes).then((body) => {
      req.body = body;
      next();
    }, next);
  };
}

function tooLarge(limit: number): TollgateError {
  return new TollgateError("body_too_large", `Request body is larger than ${limit} bytes`);
}
