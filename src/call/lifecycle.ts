import type { CallRow, CallStatus, CallUpdate, CreditMove, Ledger, NewCall, ReserveOutcome } from "../ledger/types.ts";
import { upstreamCost, type ModelRates } from "../payment/pricing.ts";
import type { SettleOutcome } from "../payment/settle.ts";
import type { Usage } from "../providers/types.ts";

/**
 * The paid call's state machine, and the only code that changes a call row's status. Every change
 * is a guarded transition (ledger `transition`: the row moves only from the statuses listed
 * here), so two workers, a worker and start-up recovery, or a late pipeline step and the sweep can
 * never both decide a call's fate. The machine itself is drawn in ledger/types.ts.
 */
const FROM = {
  verified: ["reserved"],
  // Refused after the reservation (facilitator verify), or abandoned by a gateway that stopped.
  released: ["reserved", "verified"],
  served: ["verified"],
  failed: ["verified"],
  settled: ["served", "pending"],
  pending: ["served", "pending"],
  expired: ["served", "pending"],
  // From `settled` only when its own receipt disproves it (npm run reconcile -- --apply).
  unpaid: ["served", "pending"],
  repaid: ["unpaid"],
} as const satisfies Partial<Record<CallStatus, readonly CallStatus[]>>;

/** The longest error text kept on a row. */
const MAX_ERROR = 500;

/**
 * Creates the call's row in `reserved`, taking `creditUsed` from the payer's credit in the same
 * transaction; a second (payer, nonce), or credit the balance no longer covers, is refused, even
 * under concurrency.
 */
export function reserveCall(ledger: Ledger, call: NewCall): Promise<ReserveOutcome> {
  return ledger.reserve(call);
}

/** What a call served: who served it, the normalised usage, what it cost upstream, how long it took. */
export interface ServedCall {
  provider: string;
  /** The serving model's rates, for the upstream cost. */
  rates: ModelRates;
  usage: Usage;
  latencyMs: number;
  ttftMs?: number | undefined;
  /** What settlement takes on chain: the signed amount under exact, the actual cost under upto. */
  charged: bigint;
  /** What the usage cost the agent (payment/pricing.ts chargeFor); under exact the rest becomes credit. */
  cost: bigint;
}

/**
 * One call's steps through the machine, for the pipeline that runs it. A refused transition means
 * another worker moved the row first (a gateway that took this call for abandoned): a bug or a
 * stall far past every timeout, never an outcome, so it throws.
 */
export interface CallSteps {
  verified(): Promise<void>;
  released(reason: string): Promise<void>;
  served(served: ServedCall): Promise<void>;
  /** Debts are served by settling them: nothing upstream, no usage. */
  servedWithoutUpstream(): Promise<void>;
  failed(reason: string): Promise<void>;
}

export function callSteps(ledger: Ledger, id: string, now: () => number, options: { holdsCredit?: boolean } = {}): CallSteps {
  // A call that held credit gives it back when it ends unserved, in the same transaction.
  const giveBack: CreditMove | undefined = options.holdsCredit === true ? { kind: "returned" } : undefined;
  const move = async (status: keyof typeof FROM, update: Omit<CallUpdate, "status" | "at">, credit?: CreditMove) => {
    const moved = await ledger.transition(id, FROM[status], { ...update, status, at: new Date(now()) }, credit);
    if (!moved) {
      const current = await ledger.get(id);
      throw new Error(`ledger: call ${id} cannot become ${status} from ${current?.status ?? "nowhere (no such call)"}`);
    }
  };
  return {
    verified: () => move("verified", {}),
    released: (reason) => move("released", { error: reason.slice(0, MAX_ERROR) }, giveBack),
    served: ({ provider, rates, usage, latencyMs, ttftMs, charged, cost }) =>
      move("served", {
        charged,
        cost,
        provider,
        promptTokens: usage.promptTokens,
        completionTokens: usage.completionTokens,
        cachedPromptTokens: usage.cachedPromptTokens,
        reasoningTokens: usage.reasoningTokens,
        usageEstimated: usage.estimated,
        upstreamCost: upstreamCost(rates, usage),
        latencyMs,
        ...(ttftMs === undefined ? {} : { ttftMs }),
      }),
    servedWithoutUpstream: () => move("served", {}),
    failed: (reason) => move("failed", { error: reason.slice(0, MAX_ERROR) }, giveBack),
  };
}

/**
 * Records a settlement attempt's outcome for a served or pending call. Returns false when another
 * worker finished the call first (its record stands).
 */
export function recordSettlement(ledger: Ledger, row: CallRow, outcome: SettleOutcome, at: Date): Promise<boolean> {
  const attempts = row.settleAttempts + 1;
  const status = outcome.kind;
  const update: CallUpdate =
    outcome.kind === "settled"
      ? // `exact` settles the signed amount; `upto` the actual cost, recorded when the call was served.
        { status, at, txHash: outcome.response.transaction as `0x${string}`, charged: row.charged ?? row.amount, settleAttempts: attempts }
      : { status, at, settleAttempts: attempts, error: settleError(outcome).slice(0, MAX_ERROR) };
  return ledger.transition(row.id, FROM[status], update, outcome.kind === "settled" ? changeOf(row) : undefined);
}

/**
 * What a paid call did not cost, credited to its payer once its payment is in: what moved on
 * chain plus the credit it held, less the cost of its usage. An `exact` payer pays the maximum, so
 * this is where its saving goes; under `upto` what settled is the cost, and nothing is left over.
 */
function changeOf(row: CallRow): CreditMove | undefined {
  if (row.cost === null) return undefined;
  const change = (row.charged ?? row.amount) + (row.creditUsed ?? 0n) - row.cost;
  return change > 0n ? { kind: "change", amount: change } : undefined;
}

/** A call its payer's credit paid for in full: nothing of it is on chain. */
export function paidByCredit(row: Pick<CallRow, "amount" | "creditUsed">): boolean {
  return row.amount === 0n && (row.creditUsed ?? 0n) > 0n;
}

/**
 * A call its credit paid for in full (nothing on chain): settled as soon as it was served, its
 * change credited back in the same transaction.
 */
export function settleOnCredit(ledger: Ledger, row: CallRow, at: Date): Promise<boolean> {
  return ledger.transition(row.id, FROM.settled, { status: "settled", at, charged: 0n }, changeOf({ ...row, charged: 0n }));
}

function settleError(outcome: Exclude<SettleOutcome, { kind: "settled" }>): string {
  if (outcome.kind === "expired") return "authorization expired before settlement";
  if (outcome.kind === "unpaid" && outcome.detail !== undefined) return `settle: ${outcome.reason}: ${outcome.detail}`;
  return `settle: ${outcome.reason}`;
}

/** A debt's calls, once the debt payment settled. */
export async function markRepaid(ledger: Ledger, debts: readonly CallRow[], by: string, at: Date): Promise<void> {
  for (const row of debts) await ledger.transition(row.id, FROM.repaid, { status: "repaid", at, error: `repaid by ${by}` }, changeOf(row));
}

/** A settled call whose own receipt does not prove its payment becomes a debt (reconcile --apply). */
export function markDisproved(ledger: Ledger, id: string, note: string, at: Date): Promise<boolean> {
  return ledger.transition(id, ["settled"], { status: "unpaid", at, error: note.slice(0, MAX_ERROR) });
}

/** Reservations older than `olderThan` that never reached served: a stopped gateway's, released. */
export function releaseAbandoned(ledger: Ledger, olderThan: Date, at: Date): Promise<number> {
  return ledger.releaseAbandoned(olderThan, at);
}
