import { recoverTypedDataAddress } from "viem";
import { TollgateError } from "../lib/errors.ts";
import type { ExactAuthorization } from "./header.ts";
import type { PaymentTerms } from "./terms.ts";

/** EIP-3009 TransferWithAuthorization typed data (EIP-3009 §"transferWithAuthorization"). */
const TRANSFER_WITH_AUTHORIZATION = {
  TransferWithAuthorization: [
    { name: "from", type: "address" },
    { name: "to", type: "address" },
    { name: "value", type: "uint256" },
    { name: "validAfter", type: "uint256" },
    { name: "validBefore", type: "uint256" },
    { name: "nonce", type: "bytes32" },
  ],
} as const;

/**
 * The facilitator requires validBefore >= now + 6 s (x402 exact EVM verify); we keep a wider
 * margin so the authorization is still valid when settlement lands after the upstream call.
 */
export const MIN_REMAINING_VALIDITY_SECONDS = 30;

export interface LocalVerifyInput {
  terms: PaymentTerms;
  authorization: ExactAuthorization;
  signature: `0x${string}`;
  expectedAmount: bigint;
  nowSeconds: number;
}

/**
 * Cheap checks before anything leaves the process: recipient, exact amount, validity window and
 * the EIP-712 signature. Junk never reaches the ledger or the facilitator. Smart-wallet
 * (ERC-1271/6492) signatures cannot be checked offline; they are left to the facilitator.
 */
export async function verifyLocally(input: LocalVerifyInput): Promise<`0x${string}`> {
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
  const now = BigInt(input.nowSeconds);
  if (auth.validAfter > now) {
    throw new TollgateError("payment_expired", `authorization is not valid before ${auth.validAfter}`, {
      param: "authorization.validAfter",
      details: { reason: "not_yet_valid" },
    });
  }
  if (auth.validBefore < now + BigInt(MIN_REMAINING_VALIDITY_SECONDS)) {
    throw new TollgateError(
      "payment_expired",
      `authorization expires at ${auth.validBefore}, less than ${MIN_REMAINING_VALIDITY_SECONDS}s from now`,
      { param: "authorization.validBefore", details: { reason: "expired" } },
    );
  }
  const isEoaSignature = input.signature.length === 2 + 65 * 2;
  if (isEoaSignature) {
    let signer: `0x${string}`;
    try {
      signer = await recoverTypedDataAddress({
        domain: { name: terms.assetName, version: terms.assetVersion, chainId: terms.chainId, verifyingContract: terms.asset },
        types: TRANSFER_WITH_AUTHORIZATION,
        primaryType: "TransferWithAuthorization",
        message: auth,
        signature: input.signature,
      });
    } catch (cause) {
      throw new TollgateError("invalid_signature", "payment signature cannot be recovered", { param: "signature", cause });
    }
    if (signer.toLowerCase() !== auth.from) {
      throw new TollgateError("invalid_signature", `payment was signed by ${signer}, not by authorization.from ${auth.from}`, {
        param: "signature",
      });
    }
  }
  return auth.from;
}
