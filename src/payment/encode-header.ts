/**
 * x402 header values (PAYMENT-REQUIRED, PAYMENT-RESPONSE) are base64 of their JSON (x402
 * transports-v2 http.md). @x402/core's encoders go through btoa one character at a time, which
 * the benchmark showed at 8% of the 402 path's CPU; Buffer does the same encoding natively.
 */
export function encodeX402Header(value: unknown): string {
  return Buffer.from(JSON.stringify(value), "utf8").toString("base64");
}

/** Where the settlement receipt goes: `PAYMENT-RESPONSE` for x402 v2, `X-PAYMENT-RESPONSE` for v1. */
export function receiptHeaderName(version: 1 | 2): "PAYMENT-RESPONSE" | "X-PAYMENT-RESPONSE" {
  return version === 2 ? "PAYMENT-RESPONSE" : "X-PAYMENT-RESPONSE";
}
