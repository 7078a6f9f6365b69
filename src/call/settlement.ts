import type { CallRow, Ledger } from "../ledger/types.ts";
import { settlePayment, type SettleContext, type SettleOutcome } from "../payment/settle.ts";
import { schemeOfRow } from "../observability/call-report.ts";
import type { GatewayMetrics } from "../observability/metrics.ts";
import { paidByCredit, recordSettlement, releaseAbandoned, settleOnCredit } from "./lifecycle.ts";

/**
 * The settlement worker: settles served calls (payment/settle.ts decides each outcome from the
 * facilitator and the chain; call/lifecycle.ts records it), one attempt per call at a time in this
 * process, and sweeps the calls left served or pending: in the background, and at start-up for
 * what a previous run left.
 */

export type SettlerDeps = SettleContext & { ledger: Ledger; metrics: Pick<GatewayMetrics, "settlement"> };

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
    const attempt = settleAndRecord(deps, row).finally(() => inFlight.delete(row.id));
    inFlight.set(row.id, attempt);
    return attempt;
  };

  const sweep = async () => {
    const counts = { settled: 0, pending: 0, expired: 0, unpaid: 0, released: 0 };
    counts.released = await releaseAbandoned(deps.ledger, new Date(deps.now() - options.abandonAfterMs), new Date(deps.now()));
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

async function settleAndRecord(deps: SettlerDeps, row: CallRow): Promise<SettleOutcome> {
  if (paidByCredit(row)) {
    // Nothing on chain to settle: the ledger holds the whole payment (call/credit.ts).
    await settleOnCredit(deps.ledger, row, new Date(deps.now()));
    return { kind: "settled", response: { success: true, transaction: "", network: deps.terms.network, payer: row.payer } };
  }
  const started = performance.now();
  const outcome = await settlePayment(deps, row);
  const moved = await recordSettlement(deps.ledger, row, outcome, new Date(deps.now()));
  // Counted by the worker that recorded it, so a settlement another worker recorded is not counted twice.
  if (moved) deps.metrics.settlement(schemeOfRow(row), outcome.kind, (performance.now() - started) / 1000, row.charged ?? row.amount);
  if (!moved) {
    // Another worker (another replica, or recovery) finished it first; report what it recorded.
    const current = await deps.ledger.get(row.id);
    if (current?.status === "settled" && current.txHash !== null) {
      return { kind: "settled", response: { success: true, transaction: current.txHash, network: deps.terms.network, payer: row.payer } };
    }
  }
  if (outcome.kind !== "settled") deps.logger.warn({ callId: row.id, outcome: outcome.kind, attempts: row.settleAttempts + 1 }, "call not settled");
  return outcome;
}
