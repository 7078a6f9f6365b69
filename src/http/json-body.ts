import type { IncomingMessage } from "node:http";
import type { NextFunction, Request, RequestHandler, Response } from "express";
import { TollgateError } from "../lib/errors.ts";

const JSON_TYPE = /^application\/([\w.+-]+\+)?json\s*(;|$)/i;

/**
 * Deepest nesting of arrays and objects a request body may have. The deepest real bodies are
 * chat requests carrying JSON Schemas (tools, response_format): about 5 levels of envelope plus
 * two per schema level, and OpenAI caps structured-output schemas at a few levels (5 when the
 * feature shipped), so ~25 at most. 64 leaves room for that and stays far below where a
 * recursive walk of the value (JSON.stringify when the body is forwarded, a logger, a library)
 * would run out of stack. Without a limit, a body nested 5,000 deep made the quote's body hash
 * overflow the stack (issue 11).
 */
export const MAX_JSON_DEPTH = 64;

/**
 * Most arrays and objects a request body may hold. V8's JSON.parse spends ~0.25 us on a small
 * nested array, and 1 MB of "[[1]]," holds 300k of them: 0.1 s to parse and as much again to
 * hash, before anyone has paid (bench/README.md, "Bounded work per request"). A chat body of
 * MAX_BODY_BYTES with one-word messages holds 33k objects, 60k with content parts; 100k leaves
 * room for those and caps a body's parse and hash at a few tens of ms.
 */
export const MAX_JSON_CONTAINERS = 100_000;

/**
 * Reads a JSON request body with a hard size limit. Rejects with 415 for a non-JSON content
 * type, 413 past the limit (without buffering the rest), 400 for a body nested deeper than
 * MAX_JSON_DEPTH or holding more than MAX_JSON_CONTAINERS arrays and objects (both checked on
 * the raw bytes, before parsing) and for malformed JSON. Schemas downstream decide whether the
 * value is a valid request.
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
      const bytes = Buffer.concat(chunks);
      const shape = jsonShapeBeyond(bytes, { depth: MAX_JSON_DEPTH, containers: MAX_JSON_CONTAINERS });
      if (shape === "depth") {
        reject(new TollgateError("invalid_request", `Request body is nested more than ${MAX_JSON_DEPTH} levels deep (arrays and objects)`));
        return;
      }
      if (shape === "containers") {
        reject(new TollgateError("invalid_request", `Request body holds more than ${MAX_JSON_CONTAINERS} arrays and objects`));
        return;
      }
      const text = bytes.toString("utf8");
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

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_ARRAY = 0x5b;
const OPEN_OBJECT = 0x7b;
const CLOSE_ARRAY = 0x5d;
const CLOSE_OBJECT = 0x7d;

/**
 * Which limit JSON text passes first, if any: `depth` when it opens more than `limits.depth`
 * arrays or objects inside one another, `containers` when it opens more than
 * `limits.containers` in all. One pass over the bytes with two counters, no recursion and no
 * parse; brackets inside strings are skipped. UTF-8 never uses bytes below 0x80 inside a
 * multi-byte character, so reading bytes is exact. Malformed text gets an answer too;
 * JSON.parse rejects it afterwards.
 */
export function jsonShapeBeyond(json: Uint8Array, limits: { depth: number; containers: number }): "depth" | "containers" | undefined {
  let depth = 0;
  let containers = 0;
  let inString = false;
  for (let i = 0; i < json.length; i++) {
    const byte = json[i];
    if (inString) {
      if (byte === BACKSLASH) i++; // the escaped character, which may be a quote
      else if (byte === QUOTE) inString = false;
    } else if (byte === QUOTE) inString = true;
    else if (byte === OPEN_ARRAY || byte === OPEN_OBJECT) {
      if (++depth > limits.depth) return "depth";
      if (++containers > limits.containers) return "containers";
    } else if (byte === CLOSE_ARRAY || byte === CLOSE_OBJECT) depth--;
  }
  return undefined;
}
