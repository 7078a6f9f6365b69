import type { Hex } from "viem";
import { TollgateError } from "../lib/errors.ts";
import { authorizationDigest } from "./authorization-digest.ts";
import { recoverSigner } from "./recover-signer.ts";
import type { ExactAuthorization } from "./header.ts";
import type { PaymentTerms } from "./terms.ts";

/**
 * The facilitator requires validBefore >= now + 6 s (x402 exact EVM verify); we keep a wider
 * margin so the authorization is still valid when settlement lands after the upstream call.
 */
export const MIN_REMAINING_VALIDITY_SECONDS = 30;

/**
 * x402 clients sign for maxTimeoutSeconds (minutes). An authorization valid for longer than a
 * day is not what any 402 asked for, and one valid until 2^256 does not even fit the ledger.
 */
export const MAX_VALIDITY_SECONDS = 86_400;

/** EIP-6492 wraps a not-yet-deployed smart wallet's signature and ends it with this magic. */
const ERC6492_MAGIC_SUFFIX = "6492649264926492649264926492649264926492649264926492649264926492";

export interface LocalVerifyInput {
  terms: PaymentTerms;
  authorization: ExactAuthorization;
  signature: `0x${string}`;
  expectedAmount: bigint;
  nowSeconds: number;
}

export interface LocalVerification {
  /** authorization.from, lower-case. */
  payer: `0x${string}`;
  /**
   * Whether the signature was checked here: true for an EOA signature recovered to the payer,
   * false for a smart-wallet one, which only the facilitator can judge.
   */
  signatureChecked: boolean;
}

/**
 * Cheap checks before anything leaves the process: recipient, exact amount, validity window and
 * the EIP-712 signature. Junk never reaches the ledger or the facilitator. Smart-wallet
 * (ERC-1271/6492) signatures cannot be checked offline; they are left to the facilitator.
 */
export async function verifyLocally(input: LocalVerifyInput): Promise<LocalVerification> {
  const { terms, authorization: auth } = input;
  if (auth.to !== terms.payTo.toLowerCase()) {
    throw new TollgateError("payment_mismatch", `authorization.to ${auth.to} is not this gateway's payTo ${terms.payTo}`, {
      param: "authorization.to",
      details: { reason: "pay_to_mismatch" },
    });
  }
  if (auth.value !== input.expectedAmount) {
    throw new TollgateError(
      "payment_mismatch",
      `authorization.value ${auth.value} differs from the quoted amount ${input.expectedAmount}`,
      { param: "authorization.value", details: { reason: auth.value < input.expectedAmount ? "underpaid" : "overpaid" } },
    );
  }
  checkValidityWindow(
    { noun: "authorization", validAfter: auth.validAfter, validBefore: auth.validBefore, params: { validAfter: "authorization.validAfter", validBefore: "authorization.validBefore" } },
    BigInt(input.nowSeconds),
  );
  const signatureChecked = checkSignature({ signature: input.signature, digest: () => digestFor(terms)(auth), signer: auth.from, noun: "payment", fromField: "authorization.from" });
  return { payer: auth.from, signatureChecked };
}

/**
 * The signature check every scheme shares: a malformed signature is refused; an EOA signature
 * must recover, over `digest`, to `signer`; a smart wallet's is left to the facilitator. Returns
 * whether the signature was checked here.
 */
export function checkSignature(input: { signature: `0x${string}`; digest: () => Hex; signer: `0x${string}`; noun: string; fromField: string }): boolean {
  const kind = signatureKind(input.signature);
  if (kind === "malformed") {
    throw new TollgateError(
      "invalid_signature",
      `signature is ${(input.signature.length - 2) / 2} bytes: neither a 65-byte EOA signature nor an ABI-encoded smart-wallet one`,
      { param: "signature", details: { reason: "malformed_signature" } },
    );
  }
  if (kind !== "eoa") return false;
  const signer = recoverSigner(input.digest(), input.signature);
  if (signer === undefined) {
    throw new TollgateError("invalid_signature", "payment signature cannot be recovered (invalid r, s or v)", { param: "signature" });
  }
  if (signer.toLowerCase() !== input.signer) {
    throw new TollgateError("invalid_signature", `${input.noun} was signed by ${signer}, not by ${input.fromField} ${input.signer}`, { param: "signature" });
  }
  return true;
}

/** A signed payment's window, named as its payload names it, for errors that point at the field. */
export interface ValidityWindow {
  /** What the agent signed, as the messages call it: "authorization" (EIP-3009) or "permit" (Permit2). */
  noun: string;
  validAfter: bigint;
  validBefore: bigint;
  params: { validAfter: string; validBefore: string };
}

/**
 * The window every payment must satisfy, whatever its scheme: valid now, with at least
 * MIN_REMAINING_VALIDITY_SECONDS left to settle in, and no more than MAX_VALIDITY_SECONDS ahead.
 */
export function checkValidityWindow(window: ValidityWindow, now: bigint): void {
  const { noun, validAfter, validBefore, params } = window;
  if (validAfter > now) {
    throw new TollgateError("payment_expired", `${noun} is not valid before ${validAfter}`, {
      param: params.validAfter,
      details: { reason: "not_yet_valid" },
    });
  }
  if (validBefore <= now) {
    throw new TollgateError("payment_expired", `${noun} expired at ${validBefore}`, {
      param: params.validBefore,
      details: { reason: "expired" },
    });
  }
  if (validBefore < now + BigInt(MIN_REMAINING_VALIDITY_SECONDS)) {
    throw new TollgateError(
      "payment_expired",
      `${noun} expires at ${validBefore}, less than ${MIN_REMAINING_VALIDITY_SECONDS}s from now: too soon to settle`,
      { param: params.validBefore, details: { reason: "expires_too_soon" } },
    );
  }
  if (validBefore > now + BigInt(MAX_VALIDITY_SECONDS)) {
    throw new TollgateError(
      "payment_expired",
      `${noun} is valid until ${validBefore}, more than ${MAX_VALIDITY_SECONDS}s from now; sign for the 402's maxTimeoutSeconds`,
      { param: params.validBefore, details: { reason: "valid_too_long" } },
    );
  }
}

/**
 * EOAs sign 65 bytes (r, s, v), checked here. Smart wallets are checked by the facilitator:
 * ERC-1271 wallets such as Coinbase Smart Wallet return an ABI-encoded struct (whole 32-byte
 * words), and EIP-6492 wraps one with a magic suffix. Any other length is neither, so it is
 * refused here, before it costs a reservation or a facilitator call. (Safe's multi-owner
 * concatenation, 65 bytes per owner, is therefore not accepted.)
 */
export function signatureKind(signature: `0x${string}`): "eoa" | "smart_wallet" | "malformed" {
  const bytes = (signature.length - 2) / 2;
  if (bytes === 65) return "eoa";
  if (signature.toLowerCase().endsWith(ERC6492_MAGIC_SUFFIX) || bytes % 32 === 0) return "smart_wallet";
  return "malformed";
}

/** One digester per terms object: the token's domain separator is hashed once, not per call. */
const digesters = new WeakMap<PaymentTerms, (authorization: ExactAuthorization) => Hex>();

function digestFor(terms: PaymentTerms): (authorization: ExactAuthorization) => Hex {
  let digest = digesters.get(terms);
  if (digest === undefined) {
    digest = authorizationDigest({ name: terms.assetName, version: terms.assetVersion, chainId: terms.chainId, verifyingContract: terms.asset });
    digesters.set(terms, digest);
  }
  return digest;
}
