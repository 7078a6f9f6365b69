import { PERMIT2_ADDRESS, x402UptoPermit2ProxyAddress } from "@x402/evm";
import type { Hex } from "viem";
import { TollgateError } from "../lib/errors.ts";
import { checkSignature, checkValidityWindow } from "./local-verify.ts";
import { permit2WitnessDigest } from "./permit2-digest.ts";
import type { UptoAuthorization } from "./permit2-payload.ts";
import type { PaymentTerms } from "./terms.ts";

/** Permit2 and the x402 upto proxy live at the same address on every chain (and on the devnet). */
export const UPTO_PERMIT2_ADDRESS = PERMIT2_ADDRESS.toLowerCase() as `0x${string}`;
export const UPTO_PROXY_ADDRESS = x402UptoPermit2ProxyAddress.toLowerCase() as `0x${string}`;

export interface UptoVerifyInput {
  terms: PaymentTerms;
  authorization: UptoAuthorization;
  signature: `0x${string}`;
  /** The quoted maximum, atomic units: the permit must allow exactly this much. */
  expectedMaximum: bigint;
  /** The upto settler the gateway advertised: `extra.facilitatorAddress` from the facilitator's /supported. */
  facilitatorAddress: `0x${string}`;
  nowSeconds: number;
}

export interface UptoLocalVerification {
  /** authorization.from, lower-case. */
  payer: `0x${string}`;
  /** True when the signature was recovered to the payer here (EOA); false for a smart wallet's. */
  signatureChecked: boolean;
}

/**
 * The upto counterpart of verifyLocally (local-verify.ts): what can be checked without the chain,
 * before a reservation or a facilitator call. The proxy and Permit2 check most of this again on
 * chain, but a permit that pays the wrong token, recipient or settler, or allows another maximum,
 * is not what the 402 asked for even where it would settle, and the facilitator's own
 * /verify does not know the quote.
 *
 * Refuses, in this order:
 * - `unsupported_payment` / `wrong_asset`: permitted.token is not terms.asset;
 * - `payment_mismatch` / `wrong_spender`: spender is not the x402 upto proxy (Permit2 would let
 *   that spender, not the proxy, move the money, outside every check of the scheme);
 * - `payment_mismatch` / `pay_to_mismatch`: witness.to is not terms.payTo;
 * - `payment_mismatch` / `facilitator_mismatch`: witness.facilitator is not the advertised settler
 *   (the proxy lets only that address settle, scheme_upto_evm.md);
 * - `payment_mismatch` / `maximum_below_quote` or `maximum_above_quote`: permitted.amount is not
 *   the quoted maximum;
 * - `payment_expired` / `not_yet_valid`, `expired`, `expires_too_soon`, `valid_too_long`: the
 *   window [witness.validAfter, deadline] against now, with local-verify.ts's margins;
 * - `invalid_signature`: a malformed signature, or an EOA signature that does not recover to
 *   `from` over the PermitWitnessTransferFrom digest (permit2-digest.ts).
 */
export function verifyUptoLocally(input: UptoVerifyInput): UptoLocalVerification {
  const { terms, authorization: auth } = input;
  if (auth.permitted.token !== terms.asset.toLowerCase()) {
    throw new TollgateError("unsupported_payment", `permitted.token ${auth.permitted.token} is not the accepted token ${terms.asset}`, {
      param: "permit2Authorization.permitted.token",
      details: { reason: "wrong_asset" },
    });
  }
  if (auth.spender !== UPTO_PROXY_ADDRESS) {
    throw new TollgateError("payment_mismatch", `spender ${auth.spender} is not the x402 upto proxy ${x402UptoPermit2ProxyAddress}`, {
      param: "permit2Authorization.spender",
      details: { reason: "wrong_spender" },
    });
  }
  if (auth.witness.to !== terms.payTo.toLowerCase()) {
    throw new TollgateError("payment_mismatch", `witness.to ${auth.witness.to} is not this gateway's payTo ${terms.payTo}`, {
      param: "permit2Authorization.witness.to",
      details: { reason: "pay_to_mismatch" },
    });
  }
  if (auth.witness.facilitator !== input.facilitatorAddress.toLowerCase()) {
    throw new TollgateError(
      "payment_mismatch",
      `witness.facilitator ${auth.witness.facilitator} is not the facilitator this gateway offers, ${input.facilitatorAddress}`,
      { param: "permit2Authorization.witness.facilitator", details: { reason: "facilitator_mismatch" } },
    );
  }
  if (auth.permitted.amount !== input.expectedMaximum) {
    throw new TollgateError(
      "payment_mismatch",
      `permitted.amount ${auth.permitted.amount} differs from the quoted maximum ${input.expectedMaximum}`,
      {
        param: "permit2Authorization.permitted.amount",
        details: { reason: auth.permitted.amount < input.expectedMaximum ? "maximum_below_quote" : "maximum_above_quote" },
      },
    );
  }
  checkWindow(auth, BigInt(input.nowSeconds));
  // A 64-byte (EIP-2098) signature lands with smart wallets: Permit2 reads 64 bytes as compact
  // ECDSA only when the owner has no code, which cannot be known offline. The facilitator judges it.
  const signatureChecked = checkSignature({
    signature: input.signature,
    digest: () => digestFor(terms.chainId)(auth),
    signer: auth.from,
    noun: "permit",
    fromField: "permit2Authorization.from",
  });
  return { payer: auth.from, signatureChecked };
}

/**
 * The upto client signs `validAfter = 0` and `deadline = now + maxTimeoutSeconds`
 * (@x402/evm upto/client/permit2.ts). The deadline margins are local-verify.ts's: the permit must
 * outlive the upstream call plus settlement, and must not outlive any quote by much.
 */
function checkWindow(auth: UptoAuthorization, now: bigint): void {
  checkValidityWindow(
    {
      noun: "permit",
      validAfter: auth.witness.validAfter,
      validBefore: auth.deadline,
      params: { validAfter: "permit2Authorization.witness.validAfter", validBefore: "permit2Authorization.deadline" },
    },
    now,
  );
}

/** One digester per chain: Permit2's domain separator is hashed once, not per call. */
const digesters = new Map<number, (authorization: UptoAuthorization) => Hex>();

function digestFor(chainId: number): (authorization: UptoAuthorization) => Hex {
  let digest = digesters.get(chainId);
  if (digest === undefined) {
    digest = permit2WitnessDigest({ chainId, verifyingContract: UPTO_PERMIT2_ADDRESS });
    digesters.set(chainId, digest);
  }
  return digest;
}
