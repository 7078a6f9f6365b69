import fc from "fast-check";
import { getAddress, hashTypedData, type Hex } from "viem";
import { describe, expect, it } from "vitest";
import { TRANSFER_WITH_AUTHORIZATION_TYPES as TYPES } from "../../test/support/sign-payment.ts";
import { authorizationDigest } from "./authorization-digest.ts";

const hex = (bytes: number) => fc.uint8Array({ minLength: bytes, maxLength: bytes }).map((b) => `0x${Buffer.from(b).toString("hex")}` as Hex);
const uint256 = fc.bigInt({ min: 0n, max: 2n ** 256n - 1n });

describe("authorizationDigest", () => {
  it("gives viem's hashTypedData digest for any domain and authorization", () => {
    fc.assert(
      fc.property(
        fc.record({ name: fc.string({ unit: "binary" }), version: fc.string(), chainId: fc.integer({ min: 1, max: 2 ** 40 }), verifyingContract: hex(20).map((a) => getAddress(a)) }),
        fc.record({ from: hex(20), to: hex(20), value: uint256, validAfter: uint256, validBefore: uint256, nonce: hex(32) }),
        (domain, authorization) => {
          const expected = hashTypedData({ domain, types: TYPES, primaryType: "TransferWithAuthorization", message: authorization });
          expect(authorizationDigest(domain)(authorization)).toBe(expected);
        },
      ),
      { numRuns: 300 },
    );
  });
});
