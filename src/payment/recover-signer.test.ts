import fc from "fast-check";
import { hashMessage, recoverAddress, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { describe, expect, it } from "vitest";
import { recoverSigner } from "./recover-signer.ts";

describe("recoverSigner", () => {
  it("recovers the same address as viem for any key and message", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.string(), async (key, message) => {
        const hex = `0x${Buffer.from(key).toString("hex")}` as Hex;
        let account;
        try {
          account = privateKeyToAccount(hex);
        } catch {
          return; // zero or out-of-range keys are not keys
        }
        const signature = await account.signMessage({ message });
        const hash = hashMessage(message);
        expect(recoverSigner(hash, signature)).toBe(account.address.toLowerCase());
        expect((await recoverAddress({ hash, signature })).toLowerCase()).toBe(account.address.toLowerCase());
      }),
      { numRuns: 50 },
    );
  });

  it("refuses a malleable (high-s) twin of a valid signature", async () => {
    const account = privateKeyToAccount("0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d");
    const signature = await account.signMessage({ message: "toll" });
    const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
    const s = BigInt(`0x${signature.slice(66, 130)}`);
    const v = Number.parseInt(signature.slice(130), 16);
    const twin = `${signature.slice(0, 66)}${(n - s).toString(16).padStart(64, "0")}${(v === 27 ? 28 : 27).toString(16)}` as Hex;
    expect(recoverSigner(hashMessage("toll"), twin)).toBeUndefined();
  });

  it("refuses a bad recovery byte and a zero signature", () => {
    const hash = hashMessage("toll");
    expect(recoverSigner(hash, `0x${"11".repeat(64)}05`)).toBeUndefined();
    expect(recoverSigner(hash, `0x${"00".repeat(65)}`)).toBeUndefined();
  });
});
