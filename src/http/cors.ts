import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";

/**
 * Response headers a browser agent or paywall page must read (Fetch standard, "CORS-safelisted
 * response-header name": anything else is hidden from cross-origin scripts unless exposed). The
 * x402 challenge and receipts, every x-tollgate-* header the gateway sends, and the rate-limit
 * headers of a 429. test/cors.test.ts checks every x-tollgate-* header in src/ is listed.
 */
export const EXPOSED_HEADERS = [
  "PAYMENT-REQUIRED",
  "PAYMENT-RESPONSE",
  "X-PAYMENT-RESPONSE",
  "x-tollgate-model",
  "x-tollgate-provider",
  "x-tollgate-strategy",
  "x-tollgate-task",
  "x-tollgate-price",
  "x-tollgate-max-price",
  "x-tollgate-charged",
  "x-tollgate-cost",
  "x-tollgate-credit-used",
  "x-tollgate-request-id",
  "x-tollgate-overhead-ms",
  "x-tollgate-simulated",
  "Retry-After",
  "RateLimit",
  "RateLimit-Policy",
] as const;

/** Request headers a cross-origin agent sends besides the safelisted ones: payment, routing limits, JSON, a bearer. */
export const ALLOWED_REQUEST_HEADERS = [
  "content-type",
  "authorization",
  "PAYMENT-SIGNATURE",
  "X-PAYMENT",
  "SIGN-IN-WITH-X",
  "x-tollgate-max-price",
  "x-tollgate-max-latency-ms",
  "x-tollgate-require",
  "x-tollgate-allow",
  "x-tollgate-deny",
] as const;

export interface CorsOptions {
  /** Origins allowed to read responses (`https://app.example`), or `["*"]` for any; empty: CORS off. */
  origins: readonly string[];
  /** How long a browser may cache a preflight answer. */
  maxAgeSeconds?: number;
}

/** Answers a preflight itself (true) or adds the CORS headers to the response that follows (false). */
export type Cors = (req: IncomingMessage, res: ServerResponse) => boolean;

/** RFC 9110 §5.6.2 `token`s separated by commas: what Access-Control-Request-Headers may carry. */
const HEADER_LIST = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+(?:\s*,\s*[!#$%&'*+.^_`|~0-9A-Za-z-]+)*$/;

/**
 * CORS (Fetch standard, "CORS protocol") for browser agents: an allowed origin may call every
 * route and read the x402 headers. The gateway uses no cookies, so credentials are never allowed;
 * payment travels in PAYMENT-SIGNATURE / X-PAYMENT, which a preflight allows. A preflight
 * (OPTIONS with Access-Control-Request-Method) is answered 204 on every path, before routing, so
 * the node:http endpoints and the Express ones behave alike; from an origin not on the list the
 * answer carries no Access-Control-Allow-Origin and the browser refuses the call.
 */
export function createCors(options: CorsOptions): Cors {
  const any = options.origins.includes("*");
  const allowed = new Set(options.origins.map((o) => o.toLowerCase()));
  const maxAge = String(options.maxAgeSeconds ?? 600);
  const exposed = EXPOSED_HEADERS.join(", ");
  const baseRequestHeaders = ALLOWED_REQUEST_HEADERS.join(", ");

  function allowOrigin(origin: string | undefined): string | undefined {
    if (origin === undefined) return undefined;
    if (any) return "*";
    return allowed.has(origin.toLowerCase()) ? origin : undefined;
  }

  return function cors(req, res) {
    const origin = allowOrigin(req.headers.origin);
    // The answer differs per Origin unless every origin gets the same one.
    if (!any && options.origins.length > 0) res.setHeader("Vary", "Origin");
    const preflight = req.method === "OPTIONS" && req.headers["access-control-request-method"] !== undefined;
    if (origin !== undefined) res.setHeader("Access-Control-Allow-Origin", origin);
    if (!preflight) {
      if (origin !== undefined) res.setHeader("Access-Control-Expose-Headers", exposed);
      return false;
    }
    if (origin !== undefined) {
      // Clients add their own headers (the openai SDK its x-stainless-*): any well-formed list is allowed.
      const requested = req.headers["access-control-request-headers"];
      const extra = requested !== undefined && HEADER_LIST.test(requested) ? `, ${requested}` : "";
      res.setHeader("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
      res.setHeader("Access-Control-Allow-Headers", baseRequestHeaders + extra);
      res.setHeader("Access-Control-Max-Age", maxAge);
    }
    res.statusCode = 204;
    res.setHeader("Content-Length", "0");
    res.end();
    return true;
  };
}

/** `next` behind `cors`: a preflight is answered here and goes no further. */
export function withCors(cors: Cors, next: RequestListener): RequestListener {
  return function corsThenNext(req, res) {
    if (!cors(req, res)) next(req, res);
  };
}
