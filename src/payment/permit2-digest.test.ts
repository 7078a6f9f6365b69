import { PERMIT2_ADDRESS, uptoPermit2WitnessTypes, x402UptoPermit2ProxyAddress } from "@x402/evm";
import { hashTypedData } from "viem";
import { describe, expect, it } from "vitest";
import { permit2WitnessDigest } from "./permit2-digest.ts";
import type { UptoAuthorization } from "./permit2-payload.ts";

const auth: UptoAuthorization = {
  from: "0x90f79bf6eb2c4f870365e785982e1f101e93b906",
  permitted: { token: "0x5fbdb2315678afecb367f032d93f642f64180aa3", amount: 5_000_000n },
  spender: x402UptoPermit2ProxyAddress.toLowerCase() as `0x${string}`,
  nonce: 2n ** 256n - 1n,
  deadline: 1_800_000_000n,
  witness: { to: "0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc", facilitator: "0x70997970c51812dc3a010c7d01b50e0d17dc79c8", validAfter: 0n },
};

describe("permit2WitnessDigest", () => {
  it("equals viem's EIP-712 hash of @x402/evm's upto types in Permit2's domain", () => {
    const viem = hashTypedData({
      domain: { name: "Permit2", chainId: 84532, verifyingContract: PERMIT2_ADDRESS },
      types: uptoPermit2WitnessTypes,
      primaryType: "PermitWitnessTransferFrom",
      message: auth,
    });
    expect(permit2WitnessDigest({ chainId: 84532, verifyingContract: PERMIT2_ADDRESS })(auth)).toBe(viem);
  });

  it("changes with the chain id and with every signed field", () => {
    const digest = permit2WitnessDigest({ chainId: 84532, verifyingContract: PERMIT2_ADDRESS });
    const base = digest(auth);
    expect(permit2WitnessDigest({ chainId: 8453, verifyingContract: PERMIT2_ADDRESS })(auth)).not.toBe(base);
    const other = "0x0000000000000000000000000000000000000001" as const;
    for (const changed of [
      { ...auth, permitted: { ...auth.permitted, token: other } },
      { ...auth, permitted: { ...auth.permitted, amount: 5_000_001n } },
      { ...auth, spender: other },
      { ...auth, nonce: 0n },
      { ...auth, deadline: 1_800_000_001n },
      { ...auth, witness: { ...auth.witness, to: other } },
      { ...auth, witness: { ...auth.witness, facilitator: other } },
      { ...auth, witness: { ...auth.witness, validAfter: 1n } },
    ]) {
      expect(digest(changed)).not.toBe(base);
    }
  });
});
