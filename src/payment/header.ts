import { z } from "zod";
import { TollgateError } from "../lib/errors.ts";
import { parseUptoPayment, type UptoSubmission } from "./permit2-payload.ts";
import { Address, describeSchemaIssue as describe, Hex, MAX_PAYMENT_HEADER_CHARS, RequirementsV2, Signature, Uint256 } from "./x402-fields.ts";

export { MAX_PAYMENT_HEADER_CHARS };

/**
 * Decoding of the payment headers. v2 agents send `PAYMENT-SIGNATURE`, v1 agents `X-PAYMENT`
 * (x402 transports-v1/v2 http.md); both are base64 JSON. Everything is parsed with zod: a header
 * that does not parse never reaches the signature check, let alone the facilitator.
 */



const Authorization = z.object({
  from: Address,
  to: Address,
  value: Uint256,
  validAfter: Uint256,
  validBefore: Uint256,
  nonce: Hex(32).transform((n) => n.toLowerCase() as `0x${string}`),
});


const ExactEvmPayload = z.object({ signature: Signature, authorization: Authorization });


const PayloadV2 = z.object({
  x402Version: z.literal(2),
  resource: z.object({ url: z.string() }).loose().optional(),
  accepted: RequirementsV2,
  payload: ExactEvmPayload,
  extensions: z.record(z.string(), z.unknown()).optional(),
});

const PayloadV1 = z.object({
  x402Version: z.literal(1),
  scheme: z.string(),
  network: z.string(),
  payload: ExactEvmPayload,
});

export type ExactAuthorization = z.infer<typeof Authorization>;
export type AcceptedRequirements = z.infer<typeof RequirementsV2>;

/** A decoded payment: an EIP-3009 authorization (`exact`, v1 or v2), or a Permit2 witness transfer (`upto`, v2). */
export type PaymentSubmission =
  | { method: "eip3009"; version: 2; raw: unknown; accepted: AcceptedRequirements; authorization: ExactAuthorization; signature: `0x${string}` }
  | { method: "eip3009"; version: 1; raw: unknown; scheme: string; network: string; authorization: ExactAuthorization; signature: `0x${string}` }
  | (UptoSubmission & { method: "permit2" });

export interface PaymentHeaders {
  "payment-signature"?: string | string[] | undefined;
  "x-payment"?: string | string[] | undefined;
  /** A sign-in-with-x proof (payment/siwx.ts), on a request that pays with credit. */
  "sign-in-with-x"?: string | string[] | undefined;
}

/** Returns undefined when the request carries no payment at all. */
export function readPaymentHeader(headers: PaymentHeaders): PaymentSubmission | undefined {
  const v2 = single(headers["payment-signature"], "PAYMENT-SIGNATURE");
  const v1 = single(headers["x-payment"], "X-PAYMENT");
  if (v2 !== undefined && v1 !== undefined) {
    throw invalid("Send either PAYMENT-SIGNATURE or X-PAYMENT, not both", "PAYMENT-SIGNATURE", "both_headers");
  }
  if (v2 !== undefined) return decode(v2, "PAYMENT-SIGNATURE", 2);
  if (v1 !== undefined) return decode(v1, "X-PAYMENT", 1);
  return undefined;
}

function single(value: string | string[] | undefined, name: string): string | undefined {
  if (Array.isArray(value)) {
    if (value.length > 1) throw invalid(`${name} header was sent more than once`, name, "duplicate_header");
    return value[0];
  }
  return value;
}

function decode(value: string, name: "PAYMENT-SIGNATURE" | "X-PAYMENT", expected: 1 | 2): PaymentSubmission {
  const trimmed = value.trim();
  if (trimmed.length === 0) throw invalid(`${name} header is empty`, name, "empty");
  if (trimmed.length > MAX_PAYMENT_HEADER_CHARS) {
    throw invalid(`${name} header is longer than ${MAX_PAYMENT_HEADER_CHARS} characters`, name, "oversized");
  }
  // Base64 has no comma, but a repeated header does: Node, like any RFC 9110 §5.3 proxy, joins
  // the field lines of a header it does not know with ", ".
  if (trimmed.includes(",")) throw invalid(`${name} header was sent more than once`, name, "duplicate_header");
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed)) throw invalid(`${name} header is not base64`, name, "not_base64");
  const bytes = Buffer.from(trimmed, "base64");
  // Node's decoder silently drops a dangling last character; a header that does not re-encode
  // to itself was cut short or had something appended, and its JSON must not be trusted.
  if (bytes.toString("base64url") !== toBase64Url(trimmed)) {
    throw invalid(`${name} header is not base64: it has a stray or missing character at the end`, name, "not_base64");
  }
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString("utf8"));
  } catch {
    throw invalid(`${name} header is not base64-encoded JSON`, name, "not_json");
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw invalid(`${name} header is not a JSON object (got ${json === null ? "null" : Array.isArray(json) ? "an array" : `a ${typeof json}`})`, name, "not_object");
  }
  const version = "x402Version" in json ? json.x402Version : undefined;
  if (version !== expected) {
    const hint = version === 1 || version === 2 ? `; x402Version ${String(version)} belongs in ${version === 2 ? "PAYMENT-SIGNATURE" : "X-PAYMENT"}` : "";
    throw invalid(`${name} must carry x402Version ${expected} (got ${shortJson(version)})${hint}`, name, "wrong_version");
  }
  if (expected === 2) {
    // The scheme the client says it chose decides the payload's shape (x402 v2 `accepted`).
    const chosen = "accepted" in json && typeof json.accepted === "object" && json.accepted !== null ? json.accepted : undefined;
    if (chosen !== undefined && "scheme" in chosen && chosen.scheme === "upto") return { ...parseUptoPayment(json, name), method: "permit2" };
    const parsed = PayloadV2.safeParse(json);
    if (!parsed.success) throw invalid(`${name} payload is invalid: ${describe(parsed.error)}`, name, "schema");
    const { accepted, payload } = parsed.data;
    return { method: "eip3009", version: 2, raw: json, accepted, authorization: payload.authorization, signature: payload.signature };
  }
  const parsed = PayloadV1.safeParse(json);
  if (!parsed.success) throw invalid(`${name} payload is invalid: ${describe(parsed.error)}`, name, "schema");
  const { scheme, network, payload } = parsed.data;
  return { method: "eip3009", version: 1, raw: json, scheme, network, authorization: payload.authorization, signature: payload.signature };
}


/** Both base64 alphabets, unpadded, spelled the url-safe way, for comparing encodings. */
function toBase64Url(encoded: string): string {
  return encoded.replace(/=+$/, "").replaceAll("+", "-").replaceAll("/", "_");
}

/** A value the agent sent, quoted for an error message: short, and `nothing` when absent. */
function shortJson(value: unknown): string {
  if (value === undefined) return "nothing";
  const text = JSON.stringify(value);
  return text.length > 40 ? `${text.slice(0, 40)}...` : text;
}


function invalid(message: string, header: string, reason: string): TollgateError {
  return new TollgateError("invalid_payment_header", message, { param: header, details: { reason } });
}
