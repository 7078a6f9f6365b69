import { describe, expect, it } from "vitest";
import { TollgateError } from "../lib/errors.ts";
import { parseUptoPayment } from "./permit2-payload.ts";

/** A payload shaped as @x402/evm 2.27.0's UptoEvmScheme client writes it (checksummed addresses, decimal strings). */
function payload() {
  return {
    x402Version: 2,
    resource: { url: "http://127.0.0.1:8402/v1/chat/completions" },
    accepted: {
      scheme: "upto",
      network: "eip155:84532",
      asset: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
      amount: "5000000",
      payTo: "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
      maxTimeoutSeconds: 300,
      extra: { name: "USDC", version: "2", facilitatorAddress: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8" },
    },
    payload: {
      signature: `0x${"ab".repeat(65)}`,
      permit2Authorization: {
        from: "0x90F79bf6EB2c4f870365E785982E1f101E93b906",
        permitted: { token: "0x5FbDB2315678afecb367f032d93F642f64180aa3", amount: "5000000" },
        spender: "0x4020A4f3b7b90ccA423B9fabCc0CE57C6C240002",
        nonce: (2n ** 256n - 1n).toString(),
        deadline: "1800000000",
        witness: { to: "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC", facilitator: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8", validAfter: "0" },
      },
    },
  };
}

function refusal(json: unknown): TollgateError {
  try {
    parseUptoPayment(json);
  } catch (error) {
    if (error instanceof TollgateError) return error;
    throw error;
  }
  throw new Error("expected a refusal");
}

describe("parseUptoPayment", () => {
  it("parses the official client's shape into lower-case addresses and bigint integers", () => {
    const parsed = parseUptoPayment(payload());
    expect(parsed.authorization).toEqual({
      from: "0x90f79bf6eb2c4f870365e785982e1f101e93b906",
      permitted: { token: "0x5fbdb2315678afecb367f032d93f642f64180aa3", amount: 5_000_000n },
      spender: "0x4020a4f3b7b90cca423b9fabcc0ce57c6c240002",
      nonce: 2n ** 256n - 1n,
      deadline: 1_800_000_000n,
      witness: { to: "0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc", facilitator: "0x70997970c51812dc3a010c7d01b50e0d17dc79c8", validAfter: 0n },
    });
    expect(parsed.accepted.scheme).toBe("upto");
    expect(parsed.signature).toBe(`0x${"ab".repeat(65)}`);
  });

  it.each([
    ["a nonce above uint256", (p: ReturnType<typeof payload>) => void (p.payload.permit2Authorization.nonce = (2n ** 256n).toString()), /permit2Authorization\.nonce: exceeds uint256/],
    ["a hex nonce (EIP-3009's bytes32 shape)", (p: ReturnType<typeof payload>) => void (p.payload.permit2Authorization.nonce = `0x${"11".repeat(32)}`), /permit2Authorization\.nonce/],
    ["a negative amount", (p: ReturnType<typeof payload>) => void (p.payload.permit2Authorization.permitted.amount = "-1"), /permitted\.amount/],
    ["a number instead of a decimal string", (p: ReturnType<typeof payload>) => void ((p.payload.permit2Authorization as Record<string, unknown>)["deadline"] = 1800000000), /permit2Authorization\.deadline/],
    ["a short address", (p: ReturnType<typeof payload>) => void (p.payload.permit2Authorization.witness.facilitator = "0x1234"), /witness\.facilitator/],
    ["a missing witness", (p: ReturnType<typeof payload>) => void delete (p.payload.permit2Authorization as Partial<ReturnType<typeof payload>["payload"]["permit2Authorization"]>).witness, /permit2Authorization\.witness/],
    ["an oversized signature", (p: ReturnType<typeof payload>) => void (p.payload.signature = `0x${"00".repeat(4097)}`), /signature: signature length out of range/],
    ["another scheme", (p: ReturnType<typeof payload>) => void (p.accepted.scheme = "exact"), /accepted\.scheme/],
    ["an exact-scheme body", (p: ReturnType<typeof payload>) => void ((p as { payload: unknown }).payload = { signature: p.payload.signature, authorization: {} }), /payload\.permit2Authorization/],
  ])("refuses %s as invalid_payment_header (schema), naming the field", (_name, mutate, message) => {
    const json = payload();
    mutate(json);
    const error = refusal(json);
    expect(error).toMatchObject({ code: "invalid_payment_header", param: "PAYMENT-SIGNATURE", details: { reason: "schema" } });
    expect(error.message).toMatch(message);
  });

  it("refuses x402 v1, which has no upto", () => {
    expect(refusal({ ...payload(), x402Version: 1 }).message).toMatch(/x402Version/);
  });
});
