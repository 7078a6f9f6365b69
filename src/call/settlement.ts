import type { PaymentPayload, PaymentRequirements, SettleResponse } from "@x402/core/types";
import { z } from "zod";
import type { CallRow } from "../ledger/types.ts";
import { messageOf } from "../lib/errors.ts";
import type { CallDeps } from "./deps.ts";

/**
 * Settlement of served calls, idempotent per (payer, nonce). The chain is the source of truth:
 * whenever the facilitator's answer is uncertain (timeout, 5xx, malformed reply,
 * `settlement_pending`, or a failure that may be a retry of an earlier success), the token's
 * authorizationState and its AuthorizationUsed / AuthorizationCanceled events decide whether the
 * call was paid, cancelled by the payer, or is still open.
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
  | { kind: "unpaid"; reason: string };

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
    const fate = await fateOf(deps, row);
    if (fate?.state === "transferred") return record(deps, row, settledFromChain(deps, row, fate.transaction), attempts);
    if (fate?.state === "cancelled") return record(deps, row, { kind: "unpaid", reason: "authorization cancelled by the payer" }, attempts);
    if (fate === undefined || fate.state === "unused") return record(deps, row, { kind: "expired" }, attempts);
    return record(deps, row, { kind: "pending", reason: "authorization used, transaction not found yet" }, attempts);
  }

  let response: SettleResponse;
  try {
    response = await deps.facilitator.settle(stored.payload as PaymentPayload, stored.requirements as PaymentRequirements);
  } catch (error) {
    return record(deps, row, await resolveUncertain(deps, row, `facilitator: ${messageOf(error)}`), attempts);
  }
  if (response.success && /^0x[0-9a-fA-F]{64}$/.test(response.transaction)) {
    return record(deps, row, { kind: "settled", response }, attempts);
  }
  const reason = response.errorReason ?? (response.success ? "malformed settle reply" : "unknown");
  return record(deps, row, await resolveUncertain(deps, row, reason), attempts);
}

/** After a failed or unclear settle, ask the chain what really happened. */
async function resolveUncertain(deps: SettlerDeps, row: CallRow, reason: string): Promise<SettleOutcome> {
  const fate = await fateOf(deps, row);
  if (fate?.state === "transferred") return settledFromChain(deps, row, fate.transaction);
  if (fate?.state === "cancelled") return { kind: "unpaid", reason: "authorization cancelled by the payer" };
  if (fate?.state === "unused" && PAYER_FAULT.test(reason) && reason !== "settlement_pending") return { kind: "unpaid", reason };
  return { kind: "pending", reason };
}

async function fateOf(deps: SettlerDeps, row: CallRow) {
  if (deps.chain === undefined) return undefined;
  try {
    return await deps.chain.authorizationFate(row.asset, row.payer, row.nonce);
  } catch (error) {
    deps.logger.warn({ callId: row.id, err: messageOf(error) }, "chain unreachable while settling");
    return undefined;
  }
}

function settledFromChain(deps: SettlerDeps, row: CallRow, transaction: `0x${string}`): SettleOutcome {
  return { kind: "settled", response: { success: true, transaction, network: deps.terms.network, payer: row.payer } };
}

async function record(deps: SettlerDeps, row: CallRow, outcome: SettleOutcome, attempts: number): Promise<SettleOutcome> {
  const at = new Date(deps.now());
  const update =
    outcome.kind === "settled"
      ? { status: outcome.kind, at, txHash: outcome.response.transaction as `0x${string}`, settleAttempts: attempts }
      : { status: outcome.kind, at, settleAttempts: attempts, error: outcome.kind === "expired" ? "authorization expired before settlement" : `settle: ${outcome.reason}`.slice(0, 500) };
  const moved = await deps.ledger.transition(row.id, ["served", "pending"], update);
  if (!moved) {
    // Another worker (another replica, or recovery) finished it first; report what it recorded.
    const current = await deps.ledger.get(row.id);
    if (current?.status === "settled" && current.txHash !== null) return settledFromChain(deps, row, current.txHash);
  }
  if (outcome.kind !== "settled") deps.logger.warn({ callId: row.id, outcome: outcome.kind, attempts }, "call not settled");
  return outcome;
}
