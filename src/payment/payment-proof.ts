import { parseAbi, parseEventLogs, type Log } from "viem";

/**
 * What a mined transaction proves about one EIP-3009 payment. A chain fact is evidence only for
 * exactly what it says: `AuthorizationUsed(payer, nonce)` says the nonce was consumed, not that
 * payTo was paid (anyone can relay a second authorization with the same nonce to another
 * recipient). A payment is proven only by the token's own `Transfer(payer -> payTo, amount)`
 * emitted for that authorization, in a transaction that succeeded.
 *
 * Which Transfer belongs to the authorization: EIP-3009 tokens mark the nonce used and then
 * transfer (USDC's FiatTokenV2 `_transferWithAuthorization` and the devnet token both emit
 * `AuthorizationUsed` and then `Transfer`), so the Transfer is the token's next log after the
 * `AuthorizationUsed` of that nonce. Pairing them this way stops one transaction that uses several
 * authorizations (through a multicall) from lending one payment's Transfer to another's nonce.
 */

const PROOF_ABI = parseAbi([
  "event AuthorizationUsed(address indexed authorizer, bytes32 indexed nonce)",
  "event Transfer(address indexed from, address indexed to, uint256 value)",
]);

/** The payment a call's row says was made. */
export interface ExpectedPayment {
  asset: `0x${string}`;
  payer: `0x${string}`;
  payTo: `0x${string}`;
  /** Atomic units, exactly what was charged. */
  amount: bigint;
  nonce: `0x${string}`;
}

export type PaymentProof =
  | { state: "paid"; transaction: `0x${string}` }
  /** The transaction is mined and does not carry this payment; `reason` says what it did instead. */
  | { state: "not_paid"; transaction: `0x${string}`; reason: string };

/** The fields of a transaction receipt the proof reads (viem's TransactionReceipt has them). */
export interface ReceiptLike {
  transactionHash: `0x${string}`;
  status: "success" | "reverted";
  logs: readonly Log[];
}

export function provePayment(receipt: ReceiptLike, expected: ExpectedPayment): PaymentProof {
  const transaction = receipt.transactionHash;
  if (receipt.status !== "success") return { state: "not_paid", transaction, reason: "the transaction reverted" };
  const asset = expected.asset.toLowerCase();
  const tokenLogs = parseEventLogs({ abi: PROOF_ABI, logs: receipt.logs as Log[], strict: true })
    .filter((log) => log.address.toLowerCase() === asset)
    .sort((a, b) => (a.logIndex ?? 0) - (b.logIndex ?? 0));
  const used = tokenLogs.findIndex(
    (log) => log.eventName === "AuthorizationUsed" && same(log.args.authorizer, expected.payer) && same(log.args.nonce, expected.nonce),
  );
  if (used < 0) return { state: "not_paid", transaction, reason: `the transaction does not use authorization ${expected.nonce} of ${expected.payer}` };
  const next = tokenLogs[used + 1];
  if (next === undefined || next.eventName !== "Transfer") {
    return { state: "not_paid", transaction, reason: "the authorization's use is not followed by a transfer" };
  }
  const { from, to, value } = next.args;
  if (!same(from, expected.payer) || !same(to, expected.payTo) || value !== expected.amount) {
    return { state: "not_paid", transaction, reason: `the authorization moved ${value} units from ${from.toLowerCase()} to ${to.toLowerCase()}, not ${expected.amount} to payTo` };
  }
  return { state: "paid", transaction };
}

function same(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}
