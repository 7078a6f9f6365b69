/**
 * The spend ledger port. One row per paid call, keyed by request id, unique on (payer, nonce):
 * the reservation is what stops one signed payment from buying two calls.
 *
 * Status moves reserved -> verified -> served -> settled, or ends in failed (upstream or
 * settlement failed after verification) or released (refused before serving; the nonce stays
 * spent in the ledger so the same payment cannot be retried into a second reservation).
 */

export const CALL_STATUSES = ["reserved", "verified", "served", "settled", "failed", "released"] as const;
export type CallStatus = (typeof CALL_STATUSES)[number];

export interface NewCall {
  id: string;
  payer: `0x${string}`;
  nonce: `0x${string}`;
  network: string;
  asset: `0x${string}`;
  payTo: `0x${string}`;
  /** Price the agent signed for, atomic USDC. */
  amount: bigint;
  model: string;
  strategy: string;
  task: string;
  /** Authorization's validBefore, unix seconds: after it the payment can no longer settle. */
  validBefore: number;
  createdAt: Date;
}

export interface CallUpdate {
  status: CallStatus;
  at: Date;
  provider?: string;
  promptTokens?: number;
  completionTokens?: number;
  cachedPromptTokens?: number;
  reasoningTokens?: number;
  usageEstimated?: boolean;
  /** What the upstream charges us for the tokens used, atomic USDC. */
  upstreamCost?: bigint;
  txHash?: `0x${string}`;
  latencyMs?: number;
  ttftMs?: number;
  error?: string;
}

export interface CallRow extends NewCall {
  status: CallStatus;
  provider: string | null;
  promptTokens: number | null;
  completionTokens: number | null;
  cachedPromptTokens: number | null;
  reasoningTokens: number | null;
  usageEstimated: boolean;
  upstreamCost: bigint | null;
  txHash: `0x${string}` | null;
  latencyMs: number | null;
  ttftMs: number | null;
  error: string | null;
  verifiedAt: Date | null;
  servedAt: Date | null;
  settledAt: Date | null;
  updatedAt: Date;
}

export interface SpendTotals {
  calls: number;
  /** Atomic USDC paid (settled calls only). */
  spent: bigint;
  upstreamCost: bigint;
  promptTokens: number;
  completionTokens: number;
}

export interface WalletSummary extends SpendTotals {
  wallet: `0x${string}`;
  lastCallAt: Date;
}

export interface WalletDetail {
  wallet: `0x${string}`;
  totals: SpendTotals;
  byModel: Array<SpendTotals & { model: string }>;
  /** UTC day, YYYY-MM-DD. */
  byDay: Array<SpendTotals & { day: string }>;
  recent: CallRow[];
}

export type ReserveOutcome = { kind: "reserved" } | { kind: "duplicate"; existing: CallRow };

export interface Ledger {
  /** Inserts the row in status `reserved`; refuses a second (payer, nonce), even under concurrency. */
  reserve(call: NewCall): Promise<ReserveOutcome>;
  update(id: string, update: CallUpdate): Promise<void>;
  get(id: string): Promise<CallRow | undefined>;
  wallets(): Promise<WalletSummary[]>;
  wallet(address: `0x${string}`, options?: { recent?: number }): Promise<WalletDetail | undefined>;
  /** Calls in status `settled` whose settlement was recorded in [since, until], oldest first. */
  listSettled(window: { since: Date; until?: Date }): Promise<CallRow[]>;
  close(): Promise<void>;
}
