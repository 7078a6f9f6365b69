import type { PaymentPayload, PaymentRequirements, SettleResponse } from "@x402/core/types";
import { z } from "zod";
import type { CallRow } from "../ledger/types.ts";
import { messageOf } from "../lib/errors.ts";
import type { CallDeps } from "./deps.ts";

/**
 * Settlement of served calls, idempotent per (payer, nonce). The chain is the source of truth:
 * a call is recorded settled only when a transaction's receipt shows the token's Transfer of the
 * charged amount from the payer to payTo for this authorization (payment/payment-proof.ts), and
 * the facilitator's success reply is checked the same way. Whenever its answer is uncertain
 * (timeout, 5xx, malformed reply, `settlement_pending`, an unproven hash, or a failure that may
 * be a retry of an earlier success), the token's authorizationState and its AuthorizationUsed /
 * AuthorizationCanceled events decide whether the call was paid, left unpaid by the payer, or is
 * still open.
 */

/** What the ledger keeps of a payment so settlement can be retried after faults or restarts. */
export const StoredPayment = z.object({
  version: z.union([z.literal(1), z.literal(2)]),
  payload: z.record(z.string(), z.unknown()),
  requirements: z.record(z.string(), z.unknown()),
});
export type StoredPayment = z.infer<typeof StoredPayment>;

export type SettlerDeps = Pick<CallDeps, "facilitator" | "chain" | "ledger" | "terms" | "now" | "logger">;

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

export interface Settler {
  /** Settles one served call now (unless another worker is on it), recording the outcome. */
  settle(row: CallRow): Promise<SettleOutcome>;
  /** One pass over every served-but-unsettled call; also releases reservations abandoned by a crash. */
  sweep(): Promise<{ settled: number; pending: number; expired: number; unpaid: number; released: number }>;
  start(intervalMs: number): void;
  stop(): Promise<void>;
}

export function createSettler(deps: SettlerDeps, options: { abandonAfterMs: number }): Settler {
  const inFlight = new Map<string, Promise<SettleOutcome>>();
  let timer: NodeJS.Timeout | undefined;
  let sweeping: Promise<unknown> | undefined;

  const settle = (row: CallRow): Promise<SettleOutcome> => {
    const running = inFlight.get(row.id);
    if (running !== undefined) return running;
    const attempt = settleOnce(deps, row).finally(() => inFlight.delete(row.id));
    inFlight.set(row.id, attempt);
    return attempt;
  };

  const sweep = async () => {
    const counts = { settled: 0, pending: 0, expired: 0, unpaid: 0, released: 0 };
    counts.released = await deps.ledger.releaseAbandoned(new Date(deps.now() - options.abandonAfterMs), new Date(deps.now()));
    for (const row of await deps.ledger.unsettled()) {
      const outcome = await settle(row).catch((err: unknown) => {
        deps.logger.error({ err, callId: row.id }, "settlement attempt crashed");
        return { kind: "pending", reason: "crashed" } as const;
      });
      counts[outcome.kind] += 1;
    }
    return counts;
  };

  return {
    settle,
    sweep,
    start(intervalMs) {
      timer = setInterval(() => {
        sweeping ??= sweep()
          .then((counts) => {
            if (counts.settled + counts.expired + counts.unpaid + counts.released > 0) deps.logger.info(counts, "settlement sweep");
          })
          .catch((err: unknown) => deps.logger.error({ err }, "settlement sweep failed"))
          .finally(() => (sweeping = undefined));
      }, intervalMs);
      timer.unref();
    },
    async stop() {
      if (timer !== undefined) clearInterval(timer);
      await sweeping;
      await Promise.allSettled(inFlight.values());
    },
  };
}

async function settleOnce(deps: SettlerDeps, row: CallRow): Promise<SettleOutcome> {
  const stored = StoredPayment.parse(JSON.parse(row.payment));
  const nowSeconds = Math.floor(deps.now() / 1000);
  const attempts = row.settleAttempts + 1;

  if (row.validBefore <= nowSeconds + SETTLE_MARGIN_SECONDS) {
    // Too late to submit; an earlier attempt may still have landed.
    return record(deps, row, await judgeByChain(deps, row, "authorization expired", { unusedMeans: "expired" }), attempts);
  }

  let response: SettleResponse;
  try {
    response = await deps.facilitator.settle(stored.payload as PaymentPayload, stored.requirements as PaymentRequirements);
  } catch (error) {
    return record(deps, row, await judgeByChain(deps, row, `facilitator: ${messageOf(error)}`), attempts);
  }
  if (response.success && TX_HASH.test(response.transaction)) {
    // Trust the facilitator to submit; check the result here: its word is not the money.
    const proof = await proofOf(deps, row, response.transaction as `0x${string}`);
    if (proof?.state === "paid") return record(deps, row, { kind: "settled", response }, attempts);
    const doubt = proof === undefined ? "receipt unreadable" : proof.state === "unknown" ? "no receipt yet" : proof.reason;
    return record(deps, row, await judgeByChain(deps, row, `facilitator reported ${response.transaction} (${doubt})`), attempts);
  }
  const reason = response.errorReason ?? (response.success ? "malformed settle reply" : "unknown");
  return record(deps, row, await judgeByChain(deps, row, reason), attempts);
}

const TX_HASH = /^0x[0-9a-fA-F]{64}$/;

/**
 * After a failed, unclear or unproven settle, the chain decides. The authorization's nonce is
 * either unused (the payer still owes nothing on chain), cancelled (a debt), or used by exactly
 * one transaction: the call is settled only if that transaction's Transfer paid payTo the charged
 * amount (payment/payment-proof.ts); a nonce consumed any other way (the payer front-ran the
 * settlement with a second authorization of the same nonce) is a debt like a cancellation.
 */
async function judgeByChain(deps: SettlerDeps, row: CallRow, reason: string, options: { unusedMeans?: "expired" } = {}): Promise<SettleOutcome> {
  const fate = await fateOf(deps, row);
  if (fate === undefined) return { kind: "pending", reason: `${reason}; chain unreachable` };
  switch (fate.state) {
    case "transferred": {
      const proof = await proofOf(deps, row, fate.transaction);
      if (proof?.state === "paid") return settledFromChain(deps, row, fate.transaction);
      if (proof?.state === "not_paid") return { kind: "unpaid", reason: "nonce consumed without paying payTo", detail: `${fate.transaction}: ${proof.reason}` };
      return { kind: "pending", reason: `authorization used by ${fate.transaction}, receipt not readable yet` };
    }
    case "cancelled":
      return { kind: "unpaid", reason: "authorization cancelled by the payer" };
    case "used_unknown":
      return { kind: "pending", reason: "authorization used, transaction not found yet" };
    case "unused":
      if (options.unusedMeans === "expired") return { kind: "expired" };
      if (PAYER_FAULT.test(reason) && reason !== "settlement_pending") return { kind: "unpaid", reason };
      return { kind: "pending", reason };
  }
}

async function fateOf(deps: SettlerDeps, row: CallRow) {
  try {
    return await deps.chain.authorizationFate(row.asset, row.payer, row.nonce);
  } catch (error) {
    deps.logger.warn({ callId: row.id, err: error }, "chain unreachable while settling");
    return undefined;
  }
}

/** What `transaction` proves about this row's payment; undefined when the chain cannot be read. */
async function proofOf(deps: SettlerDeps, row: CallRow, transaction: `0x${string}`) {
  try {
    return await deps.chain.paymentProof(transaction, { asset: row.asset, payer: row.payer, payTo: row.payTo, amount: row.amount, nonce: row.nonce });
  } catch (error) {
    deps.logger.warn({ callId: row.id, err: error }, "chain unreachable while checking a settlement");
    return undefined;
  }
}

function settledFromChain(deps: SettlerDeps, row: CallRow, transaction: `0x${string}`): SettleOutcome {
  return { kind: "settled", response: { success: true, transaction, network: deps.terms.network, payer: row.payer } };
}

function errorOf(outcome: Exclude<SettleOutcome, { kind: "settled" }>): string {
  if (outcome.kind === "expired") return "authorization expired before settlement";
  if (outcome.kind === "unpaid" && outcome.detail !== undefined) return `settle: ${outcome.reason}: ${outcome.detail}`;
  return `settle: ${outcome.reason}`;
}

async function record(deps: SettlerDeps, row: CallRow, outcome: SettleOutcome, attempts: number): Promise<SettleOutcome> {
  const at = new Date(deps.now());
  const update =
    outcome.kind === "settled"
      ? { status: outcome.kind, at, txHash: outcome.response.transaction as `0x${string}`, settleAttempts: attempts }
      : { status: outcome.kind, at, settleAttempts: attempts, error: errorOf(outcome).slice(0, 500) };
  const moved = await deps.ledger.transition(row.id, ["served", "pending"], update);
  if (!moved) {
    // Another worker (another replica, or recovery) finished it first; report what it recorded.
    const current = await deps.ledger.get(row.id);
    if (current?.status === "settled" && current.txHash !== null) return settledFromChain(deps, row, current.txHash);
  }
  if (outcome.kind !== "settled") deps.logger.warn({ callId: row.id, outcome: outcome.kind, attempts }, "call not settled");
  return outcome;
}
