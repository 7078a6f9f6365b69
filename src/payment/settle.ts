import type { PaymentPayload, PaymentRequirements, SettleResponse } from "@x402/core/types";
import { z } from "zod";
import type { Logger } from "../lib/logger.ts";
import { messageOf } from "../lib/errors.ts";
import type { AuthorizationFate, ChainReader } from "./chain-reader.ts";
import type { PaymentProof } from "./payment-proof.ts";
import { parseUptoPayment } from "./permit2-payload.ts";
import type { Facilitator } from "./facilitator.ts";
import type { PaymentTerms } from "./terms.ts";

/**
 * Settlement of one served payment, idempotent per (payer, nonce), as an outcome; recording it is
 * the caller's. The chain is the source of truth: a payment counts as settled only when a
 * transaction's receipt shows the token's Transfer of the charged amount from the payer to payTo
 * for this authorization (payment/payment-proof.ts), and the facilitator's success reply is
 * checked the same way. Whenever its answer is uncertain (timeout, 5xx, malformed reply,
 * `settlement_pending`, an unproven hash, or a failure that may be a retry of an earlier success),
 * the token's authorizationState and its AuthorizationUsed / AuthorizationCanceled events decide
 * whether the payment was made, left unpaid by the payer, or is still open.
 */

/** What the ledger keeps of a payment so settlement can be retried after faults or restarts. */
export const StoredPayment = z.object({
  version: z.union([z.literal(1), z.literal(2)]),
  payload: z.record(z.string(), z.unknown()),
  requirements: z.record(z.string(), z.unknown()),
});
export type StoredPayment = z.infer<typeof StoredPayment>;

export type SettleOutcome =
  | { kind: "settled"; response: SettleResponse }
  | { kind: "pending"; reason: string }
  | { kind: "expired" }
  /** `reason` is short enough for the agent; `detail` (the transaction, what it moved) goes to the ledger only. */
  | { kind: "unpaid"; reason: string; detail?: string };

/** The facilitator's verify check wants validBefore at least 6 s ahead (x402 exact EVM verify). */
const SETTLE_MARGIN_SECONDS = 6;
/** Facilitator reasons that mean the payer, not the infrastructure, made settlement fail. */
const PAYER_FAULT = /insufficient|balance|cancel|authorization_used|nonce|invalid_exact_evm_payload_authorization/i;

export interface SettleContext {
  facilitator: Facilitator;
  chain: ChainReader;
  terms: PaymentTerms;
  /** Milliseconds since the epoch. */
  now(): number;
  logger: Logger;
}

/** The served payment to settle, as the ledger holds it. */
export interface PaymentToSettle {
  /** The call's id, for logs. */
  id: string;
  payer: `0x${string}`;
  nonce: `0x${string}`;
  asset: `0x${string}`;
  payTo: `0x${string}`;
  /** Atomic units, exactly what was charged. */
  amount: bigint;
  /** Authorization's validBefore, unix seconds. */
  validBefore: number;
  /** StoredPayment as JSON. */
  payment: string;
  /** What the served call costs (upto settles this, at most amount); null: the amount (exact). */
  charged: bigint | null;
}

/** How to settle, prove and look up one payment: by its scheme, never by its nonce alone. */
interface Method {
  /** The requirements /settle gets: for upto, `amount` is the actual charge (scheme_upto_evm.md, settle phase). */
  requirements: PaymentRequirements;
  proof(transaction: `0x${string}`): Promise<PaymentProof | { state: "unknown"; transaction: `0x${string}` }>;
  fate(): Promise<AuthorizationFate>;
}

function methodOf(chain: ChainReader, row: PaymentToSettle, stored: StoredPayment): Method {
  const requirements = stored.requirements as PaymentRequirements;
  if (requirements.scheme === "upto") {
    const charge = row.charged ?? row.amount;
    const { authorization } = parseUptoPayment(stored.payload);
    return {
      requirements: { ...requirements, amount: charge.toString() },
      proof: (transaction) => chain.uptoPaymentProof(transaction, { asset: row.asset, payer: row.payer, payTo: row.payTo, amount: charge, authorization }),
      fate: () => chain.permit2NonceFate({ asset: row.asset, payer: row.payer, payTo: row.payTo, nonce: authorization.nonce }),
    };
  }
  return {
    requirements,
    proof: (transaction) => chain.paymentProof(transaction, { asset: row.asset, payer: row.payer, payTo: row.payTo, amount: row.amount, nonce: row.nonce }),
    fate: () => chain.authorizationFate(row.asset, row.payer, row.nonce),
  };
}

/**
 * What `transaction` proves about a recorded payment, by the payment's own scheme (the same rule
 * settlement applies; `npm run reconcile` asks it of every settled row). `unknown`: not mined.
 */
export function settlementProof(chain: ChainReader, row: PaymentToSettle, transaction: `0x${string}`): Promise<PaymentProof | { state: "unknown"; transaction: `0x${string}` }> {
  return methodOf(chain, row, StoredPayment.parse(JSON.parse(row.payment))).proof(transaction);
}

/** Settles `row` now (or finds out that it was settled, undone or expired). Never throws for the chain's or the facilitator's faults. */
export async function settlePayment(deps: SettleContext, row: PaymentToSettle): Promise<SettleOutcome> {
  const stored = StoredPayment.parse(JSON.parse(row.payment));
  const method = methodOf(deps.chain, row, stored);
  const nowSeconds = Math.floor(deps.now() / 1000);

  if (row.validBefore <= nowSeconds + SETTLE_MARGIN_SECONDS) {
    // Too late to submit; an earlier attempt may still have landed.
    return await judgeByChain(deps, row, method, "authorization expired", { unusedMeans: "expired" });
  }

  let response: SettleResponse;
  try {
    response = await deps.facilitator.settle(stored.payload as PaymentPayload, method.requirements);
  } catch (error) {
    return await judgeByChain(deps, row, method, `facilitator: ${messageOf(error)}`);
  }
  if (response.success && TX_HASH.test(response.transaction)) {
    // Trust the facilitator to submit; check the result here: its word is not the money.
    const proof = await proofOf(deps, row, method, response.transaction as `0x${string}`);
    if (proof?.state === "paid") return { kind: "settled", response };
    const doubt = proof === undefined ? "receipt unreadable" : proof.state === "unknown" ? "no receipt yet" : proof.reason;
    return await judgeByChain(deps, row, method, `facilitator reported ${response.transaction} (${doubt})`);
  }
  const reason = response.errorReason ?? (response.success ? "malformed settle reply" : "unknown");
  return await judgeByChain(deps, row, method, reason);
}

const TX_HASH = /^0x[0-9a-fA-F]{64}$/;

/**
 * After a failed, unclear or unproven settle, the chain decides. The authorization's nonce is
 * either unused (the payer still owes nothing on chain), cancelled (a debt), or used by exactly
 * one transaction: the call is settled only if that transaction's Transfer paid payTo the charged
 * amount (payment/payment-proof.ts); a nonce consumed any other way (the payer front-ran the
 * settlement with a second authorization of the same nonce) is a debt like a cancellation.
 */
async function judgeByChain(deps: SettleContext, row: PaymentToSettle, method: Method, reason: string, options: { unusedMeans?: "expired" } = {}): Promise<SettleOutcome> {
  const fate = await fateOf(deps, row, method);
  if (fate === undefined) return { kind: "pending", reason: `${reason}; chain unreachable` };
  switch (fate.state) {
    case "transferred": {
      const proof = await proofOf(deps, row, method, fate.transaction);
      if (proof?.state === "paid") return settledFromChain(deps, row, fate.transaction);
      if (proof?.state === "not_paid") return { kind: "unpaid", reason: "nonce consumed without paying payTo", detail: `${fate.transaction}: ${proof.reason}` };
      return { kind: "pending", reason: `authorization used by ${fate.transaction}, receipt not readable yet` };
    }
    case "cancelled":
      return { kind: "unpaid", reason: "authorization cancelled by the payer" };
    case "used_unknown":
      // A Permit2 nonce spent by the payer's own permit (to itself) leaves no log naming it, and
      // the fate lookup found no proxy settlement of this permit paying payTo: the upto front-run.
      if (method.requirements.scheme === "upto") return { kind: "unpaid", reason: "nonce consumed without paying payTo", detail: "no proxy settlement of this permit paid payTo in the blocks searched" };
      return { kind: "pending", reason: "authorization used, transaction not found yet" };
    case "unused":
      if (options.unusedMeans === "expired") return { kind: "expired" };
      if (PAYER_FAULT.test(reason) && reason !== "settlement_pending") return { kind: "unpaid", reason };
      return { kind: "pending", reason };
  }
}

async function fateOf(deps: SettleContext, row: PaymentToSettle, method: Method) {
  try {
    return await method.fate();
  } catch (error) {
    deps.logger.warn({ callId: row.id, err: error }, "chain unreachable while settling");
    return undefined;
  }
}

/** What `transaction` proves about this row's payment; undefined when the chain cannot be read. */
async function proofOf(deps: SettleContext, row: PaymentToSettle, method: Method, transaction: `0x${string}`) {
  try {
    return await method.proof(transaction);
  } catch (error) {
    deps.logger.warn({ callId: row.id, err: error }, "chain unreachable while checking a settlement");
    return undefined;
  }
}

function settledFromChain(deps: SettleContext, row: PaymentToSettle, transaction: `0x${string}`): SettleOutcome {
  return { kind: "settled", response: { success: true, transaction, network: deps.terms.network, payer: row.payer } };
}

