import { describe, expect, it } from "vitest";
import { permit2LedgerNonce, permit2NonceOfLedgerKey, permit2NoncePosition } from "./permit2-nonce.ts";

describe("permit2LedgerNonce", () => {
  it("is the nonce as 32 big-endian bytes, and reverses", () => {
    expect(permit2LedgerNonce(1n)).toBe(`0x${"00".repeat(31)}01`);
    const max = 2n ** 256n - 1n;
    expect(permit2LedgerNonce(max)).toBe(`0x${"ff".repeat(32)}`);
    expect(permit2NonceOfLedgerKey(permit2LedgerNonce(123456789n))).toBe(123456789n);
  });

  it("shares the column with EIP-3009: a payer who picks the same 32 bytes for both gets the same key (see the doc comment)", () => {
    const eip3009Nonce = `0x${"11".repeat(32)}` as const;
    expect(permit2LedgerNonce(BigInt(eip3009Nonce))).toBe(eip3009Nonce);
  });

  it("refuses values outside uint256", () => {
    expect(() => permit2LedgerNonce(2n ** 256n)).toThrow(RangeError);
    expect(() => permit2LedgerNonce(-1n)).toThrow(RangeError);
    expect(() => permit2NonceOfLedgerKey("0x01")).toThrow(RangeError);
  });
});

describe("permit2NoncePosition", () => {
  it("is word nonce >> 8, bit nonce & 0xff (Permit2 bitmapPositions)", () => {
    expect(permit2NoncePosition(0x1234n)).toEqual({ word: 0x12n, bit: 0x34n });
  });
});
