/**
 * The error catalogue: every failure the gateway reports has a stable snake_case code, an HTTP
 * status and an OpenAI error `type`. Only http/errorHandler.ts turns these into responses.
 * docs/errors.md lists the same codes; test/errors-catalogue.test.ts keeps them in step.
 */

export const ERRORS = {
  invalid_json: { status: 400, type: "invalid_request_error", message: "Request body is not valid JSON" },
  invalid_request: { status: 400, type: "invalid_request_error", message: "Request body is invalid" },
  unsupported_parameter: { status: 400, type: "invalid_request_error", message: "A request field asks for something this gateway does not sell" },
  unsupported_media_type: { status: 415, type: "invalid_request_error", message: "Content-Type must be application/json" },
  body_too_large: { status: 413, type: "invalid_request_error", message: "Request body is too large" },
  model_not_found: { status: 404, type: "invalid_request_error", message: "Unknown model" },
  model_not_offered: { status: 404, type: "invalid_request_error", message: "This gateway does not offer that model" },
  invalid_header: { status: 400, type: "invalid_request_error", message: "A request header is invalid" },
  no_model_available: { status: 422, type: "invalid_request_error", message: "No model satisfies the request's limits" },
  context_length_exceeded: { status: 400, type: "invalid_request_error", message: "Prompt does not fit the model's context window" },
  invalid_payment_header: { status: 400, type: "invalid_payment", message: "Payment header is malformed" },
  unsupported_payment: { status: 402, type: "invalid_payment", message: "Payment scheme, network or asset is not accepted" },
  payment_mismatch: { status: 402, type: "invalid_payment", message: "Payment does not match the quote" },
  quote_invalid: { status: 402, type: "invalid_payment", message: "Quote is invalid or expired" },
  payment_expired: { status: 402, type: "invalid_payment", message: "Payment authorization is outside its validity window" },
  invalid_signature: { status: 402, type: "invalid_payment", message: "Payment signature does not match the payer" },
  payment_replayed: { status: 409, type: "invalid_payment", message: "This payment was already used" },
  credit_changed: { status: 409, type: "invalid_payment", message: "The wallet's credit no longer covers what the quote applied" },
  sign_in_wrong_wallet: { status: 403, type: "permission_error", message: "The sign-in proof is for another wallet" },
  unpaid_debt: { status: 402, type: "invalid_payment", message: "This wallet has an unpaid debt" },
  payment_rejected: { status: 402, type: "invalid_payment", message: "Facilitator rejected the payment" },
  facilitator_unavailable: { status: 503, type: "api_error", message: "Payment facilitator is unavailable" },
  settlement_failed: { status: 502, type: "api_error", message: "Payment settlement failed" },
  upstream_error: { status: 502, type: "api_error", message: "Every provider failed to serve the call" },
  unauthorized: { status: 401, type: "authentication_error", message: "Missing or invalid admin token" },
  not_found: { status: 404, type: "invalid_request_error", message: "No such route" },
  forbidden: { status: 403, type: "permission_error", message: "Not allowed from this address" },
  rate_limited: { status: 429, type: "rate_limit_error", message: "Too many requests" },
  internal_error: { status: 500, type: "api_error", message: "Internal error" },
} as const satisfies Record<string, { status: number; type: string; message: string }>;

export type ErrorCode = keyof typeof ERRORS;

export interface TollgateErrorOptions {
  /** The request field or header at fault, reported as OpenAI's `param`. */
  param?: string;
  cause?: unknown;
  /** Extra fields for the error body (never secrets). */
  details?: Record<string, unknown>;
  /** Response headers to send with the error (e.g. a fresh 402 challenge). */
  headers?: Record<string, string>;
}

export class TollgateError extends Error {
  override readonly name = "TollgateError";
  readonly code: ErrorCode;
  readonly status: number;
  readonly type: string;
  readonly param: string | undefined;
  readonly details: Record<string, unknown> | undefined;
  readonly headers: Record<string, string> | undefined;

  constructor(code: ErrorCode, message?: string, options: TollgateErrorOptions = {}) {
    const entry = ERRORS[code];
    super(message ?? entry.message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = entry.status;
    this.type = entry.type;
    this.param = options.param;
    this.details = options.details;
    this.headers = options.headers;
  }
}

/** The message of anything thrown, for logs and error text (a thrown non-Error is stringified). */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
