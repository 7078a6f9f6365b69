import { x402UptoPermit2ProxyABI } from "@x402/evm";
import { decodeFunctionData, parseAbi, parseEventLogs, toEventSelector, type Log } from "viem";
import type { PaymentProof, ReceiptLike } from "./payment-proof.ts";
import type { UptoAuthorization } from "./permit2-payload.ts";
import { UPTO_PROXY_ADDRESS } from "./permit2-verify.ts";

/**
 * What a mined transaction proves about one x402 `upto` payment (a Permit2 witness transfer
 * through x402UptoPermit2Proxy). The EIP-3009 proof (payment-proof.ts) pairs the Transfer with
 * the token's `AuthorizationUsed(payer, nonce)`. Permit2 has no such event: it spends the
 * unordered nonce silently, and the proxy's `Settled()` / `SettledWithPermit()` carry no
 * arguments (contracts-abi/src/x402UptoPermit2Proxy.sol, @x402/evm 2.27.0's proxy ABI). The
 * receipt alone therefore cannot say which permit a Transfer paid, so the proof reads the
 * transaction too, and holds only when all of this is true:
 *
 * 1. The receipt's status is success.
 * 2. The transaction is sent by the facilitator the permit names (witness.facilitator) and is
 *    addressed to the proxy itself, whose calldata decodes (with the official proxy ABI) as
 *    `settle` or `settleWithPermit` of THIS permit: owner = payer, and permitted token and
 *    amount, nonce, deadline and witness {to = payTo, facilitator, validAfter} all equal to what
 *    the payer signed, with `amount` = the charge. Permit2 spends an (owner, nonce) once and only
 *    inside a call that checked the payer's signature over exactly these fields (spender = the
 *    proxy, the caller), so a successful call naming them is the one use of this permit.
 * 3. The proxy emitted exactly one Settled (settle) or SettledWithPermit (settleWithPermit).
 * 4. The token emitted exactly one Transfer in the transaction, and it is (payer -> payTo, charge).
 *    A top-level settle moves money once; anything else is not a plain settlement of this permit.
 *
 * Requiring a top-level call to the proxy is the tightest rule these contracts allow: without an
 * event naming the nonce, a call made from inside another contract could not be read from the
 * receipt. The facilitator is an EOA that calls the proxy directly (@x402/evm's upto facilitator
 * `writeContract`), and the proxy accepts only msg.sender = witness.facilitator, so a payment of
 * ours is never made any other way. (A facilitator settling through an EIP-7702 delegation or a
 * multicall would be reported not_paid: the safe direction, left to reconciliation.)
 * The Permit2 nonce bit being set afterwards adds nothing to 1 and 2, and needs a chain read.
 */

const TRANSFER_ABI = parseAbi(["event Transfer(address indexed from, address indexed to, uint256 value)"]);

/** The upto payment a call's row says was made. */
export interface ExpectedUptoPayment {
  asset: `0x${string}`;
  payer: `0x${string}`;
  payTo: `0x${string}`;
  /** Atomic units, exactly what was charged (at most authorization.permitted.amount). */
  amount: bigint;
  /** The permit the payer signed, as parsed from its payload (permit2-payload.ts). */
  authorization: UptoAuthorization;
}

/** The fields of a transaction the proof reads (viem's Transaction has them). */
export interface TransactionLike {
  hash: `0x${string}`;
  from: `0x${string}`;
  /** null for a contract creation. */
  to: `0x${string}` | null;
  input: `0x${string}`;
}

export function proveUptoPayment(receipt: ReceiptLike, transaction: TransactionLike, expected: ExpectedUptoPayment): PaymentProof {
  const hash = receipt.transactionHash;
  const notPaid = (reason: string): PaymentProof => ({ state: "not_paid", transaction: hash, reason });
  if (!same(transaction.hash, hash)) return notPaid(`the receipt is for ${hash}, the transaction is ${transaction.hash}`);
  if (receipt.status !== "success") return notPaid("the transaction reverted");
  const auth = expected.authorization;
  if (transaction.to === null || !same(transaction.to, UPTO_PROXY_ADDRESS)) {
    return notPaid(`the transaction is not a call to the x402 upto proxy (to: ${transaction.to ?? "contract creation"})`);
  }
  if (!same(transaction.from, auth.witness.facilitator)) {
    return notPaid(`the transaction was sent by ${transaction.from.toLowerCase()}, not by the permit's facilitator ${auth.witness.facilitator}`);
  }
  let call;
  try {
    call = decodeFunctionData({ abi: x402UptoPermit2ProxyABI, data: transaction.input });
  } catch {
    return notPaid("the transaction's calldata is not a call of the upto proxy");
  }
  if (call.functionName !== "settle" && call.functionName !== "settleWithPermit") {
    return notPaid(`the transaction calls the proxy's ${call.functionName}, not settle`);
  }
  const [permit, amount, owner, witness] = call.functionName === "settle" ? call.args : [call.args[1], call.args[2], call.args[3], call.args[4]];
  const mismatch = [
    same(owner, expected.payer) && same(owner, auth.from) ? undefined : `owner ${owner.toLowerCase()}`,
    permit.nonce === auth.nonce ? undefined : `nonce ${permit.nonce}`,
    same(permit.permitted.token, expected.asset) && same(permit.permitted.token, auth.permitted.token) ? undefined : `token ${permit.permitted.token.toLowerCase()}`,
    permit.permitted.amount === auth.permitted.amount ? undefined : `permitted amount ${permit.permitted.amount}`,
    permit.deadline === auth.deadline ? undefined : `deadline ${permit.deadline}`,
    same(witness.to, expected.payTo) && same(witness.to, auth.witness.to) ? undefined : `witness.to ${witness.to.toLowerCase()}`,
    same(witness.facilitator, auth.witness.facilitator) ? undefined : `witness.facilitator ${witness.facilitator.toLowerCase()}`,
    witness.validAfter === auth.witness.validAfter ? undefined : `witness.validAfter ${witness.validAfter}`,
    amount === expected.amount ? undefined : `amount ${amount}`,
  ].filter((field) => field !== undefined);
  if (mismatch.length > 0) return notPaid(`the transaction settles another permit or charge (${mismatch.join(", ")})`);

  const settled = receipt.logs.filter(
    (log) => same(log.address, UPTO_PROXY_ADDRESS) && log.topics[0] !== undefined && SETTLED_TOPICS.get(log.topics[0]) === call.functionName,
  );
  if (settled.length !== 1) return notPaid(`the proxy emitted ${settled.length} settlement events, not one`);
  const transfers = parseEventLogs({ abi: TRANSFER_ABI, logs: receipt.logs as Log[], strict: true }).filter((log) => same(log.address, expected.asset));
  const transfer = transfers[0];
  if (transfers.length !== 1 || transfer === undefined) return notPaid(`the token emitted ${transfers.length} transfers, not one`);
  const { from, to, value } = transfer.args;
  if (!same(from, expected.payer) || !same(to, expected.payTo) || value !== expected.amount) {
    return notPaid(`the settlement moved ${value} units from ${from.toLowerCase()} to ${to.toLowerCase()}, not ${expected.amount} to payTo`);
  }
  return { state: "paid", transaction: hash };
}

/** topic0 of the proxy's argument-less events, to the function that emits each. */
const SETTLED_TOPICS = new Map<string, "settle" | "settleWithPermit">([
  [toEventSelector("Settled()"), "settle"],
  [toEventSelector("SettledWithPermit()"), "settleWithPermit"],
]);

function same(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}
