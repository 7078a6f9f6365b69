import { decodePaymentRequiredHeader, encodePaymentRequiredHeader } from "@x402/core/http";
import { describe, expect, it } from "vitest";
import { encodeX402Header } from "./encode-header.ts";

describe("encodeX402Header", () => {
  it("encodes exactly as @x402/core does, non-ASCII included, and decodes with its decoder", () => {
    const value = {
      x402Version: 2,
      error: "Paiement requis — ¥ 支払い",
      resource: { url: "http://127.0.0.1:8402/v1/chat/completions", description: "Chat ✓", mimeType: "application/json" },
      accepts: [{ scheme: "exact", network: "eip155:84532" as const, asset: "0x5fbdb2315678afecb367f032d93f642f64180aa3", amount: "362", payTo: "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC", maxTimeoutSeconds: 300, extra: { name: "USDC", version: "2" } }],
    };
    expect(encodeX402Header(value)).toBe(encodePaymentRequiredHeader(value));
    expect(decodePaymentRequiredHeader(encodeX402Header(value))).toEqual(value);
  });
});
