/**
 * The spend ledger port. One row per paid call, keyed by request id, unique on (payer, nonce):
 * the reservation is what stops one signed payment from buying two calls.
 *
 * The settlement state machine (every transition stamps its time):
 *
 *   reserved -> verified -> served -> settled
 *       |           |          |-> pending -> settled | expired | unpaid   (settlement retried)
 *       |           |          |-> expired   (authorization ran out before it could settle)
 *       |           |          '-> unpaid    (the payer drained, cancelled, or spent the nonce on another transfer; a debt)
 *       |           |                 '-> repaid  (the debt was paid by a later debt payment, its own row)
 *       |           '-> failed   (no provider served the call; never settled)
 *       '-> released (refused before serving; the nonce stays spent in the ledger so the same
 *                     payment cannot be retried into a second reservation)
 *
 * One transition leaves `settled`: `npm run reconcile -- --apply` moves a settled call whose own
 * receipt does not prove its payment to `unpaid`.
 */

import type { ChainBinding } from "./chain-binding.ts";

export const CALL_STATUSES = ["reserved", "verified", "served", "settled", "failed", "released", "pending", "expired", "unpaid", "repaid"] as const;
export type CallStatus = (typeof CALL_STATUSES)[number];

export interface NewCall {
  id: string;
  payer: `0x${string}`;
  nonce: `0x${string}`;
  network: string;
  asset: `0x${string}`;
  payTo: `0x${string}`;
  /** Price the agent signed for, atomic USDC: what moves on chain (0 for a call paid wholly by credit). */
  amount: bigint;
  /** Credit held for the call, taken from the payer's balance with the reservation; it returns if the call is not served. */
  creditUsed?: bigint | null;
  model: string;
  strategy: string;
  task: string;
  /** Authorization's validBefore, unix seconds: after it the payment can no longer settle. */
  validBefore: number;
  createdAt: Date;
  /**
   * The x402 payment payload and requirements as JSON, kept so settlement can be retried after a
   * facilitator fault or a restart. Never logged.
   */
  payment: string;
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
  /** What the agent was charged on chain, atomic USDC (at most `amount`, the signed maximum). */
  charged?: bigint;
  /** What the call's usage cost the agent, atomic USDC (at most `amount` + the credit used). */
  cost?: bigint;
  txHash?: `0x${string}`;
  latencyMs?: number;
  ttftMs?: number;
  error?: string;
  /** Number of settlement attempts so far. */
  settleAttempts?: number;
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
  /** What the agent was charged once settled, atomic USDC; `amount` is the maximum it signed. */
  charged: bigint | null;
  /** Credit held for the call at its reservation; null when none. */
  creditUsed: bigint | null;
  /** What the call's usage cost the agent; null before it was served, and for debt payments. */
  cost: bigint | null;
  txHash: `0x${string}` | null;
  latencyMs: number | null;
  ttftMs: number | null;
  error: string | null;
  verifiedAt: Date | null;
  servedAt: Date | null;
  settledAt: Date | null;
  /** When the call reached failed, released, expired or unpaid. */
  closedAt: Date | null;
  updatedAt: Date;
  settleAttempts: number;
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

export type ReserveOutcome =
  | { kind: "reserved" }
  | { kind: "duplicate"; existing: CallRow }
  /** The payer's credit balance no longer covers `creditUsed`; nothing was written. */
  | { kind: "insufficient_credit"; balance: bigint };

/**
 * A credit movement that goes with a status change, in the same transaction: the hold returned
 * (a call not served gives back the credit it held) or the change (what a paid call did not cost,
 * credited to its payer). Each kind is recorded at most once per call.
 */
export type CreditMove = { kind: "returned" } | { kind: "change"; amount: bigint };

export interface CreditEntry {
  callId: string;
  kind: "hold" | "returned" | "change";
  /** Signed atomic units: a hold is negative. */
  delta: bigint;
  at: Date;
}

export interface Ledger {
  /** Inserts the row in status `reserved`; refuses a second (payer, nonce), even under concurrency. */
  reserve(call: NewCall): Promise<ReserveOutcome>;
  update(id: string, update: CallUpdate): Promise<void>;
  /**
   * Moves a call to `update.status` only if it is currently in one of `from`; returns whether it
   * did. Settlement uses it so two workers (or a worker and start-up recovery) never settle twice.
   */
  transition(id: string, from: readonly CallStatus[], update: CallUpdate, credit?: CreditMove): Promise<boolean>;
  /**
   * Releases reservations (reserved or verified) created before `olderThan`: a call that old was
   * abandoned by a crashed or killed gateway and was never served. Returns how many.
   */
  releaseAbandoned(olderThan: Date, at: Date): Promise<number>;
  /** Calls served but not settled yet (served or pending), oldest first. */
  unsettled(): Promise<CallRow[]>;
  /** Calls whose settlement reverted because of the payer: what the wallet owes. */
  debts(address: `0x${string}`): Promise<CallRow[]>;
  get(id: string): Promise<CallRow | undefined>;
  wallets(): Promise<WalletSummary[]>;
  wallet(address: `0x${string}`, options?: { recent?: number }): Promise<WalletDetail | undefined>;
  /** A wallet's credit balance, atomic USDC (0 when it never had any). */
  creditBalance(address: `0x${string}`): Promise<bigint>;
  /** A wallet's latest credit movements, newest first. */
  creditEntries(address: `0x${string}`, limit: number): Promise<CreditEntry[]>;
  /** Records a sign-in-with-x proof's nonce as used; false when it already was (a replay). */
  useProof(nonce: string, wallet: `0x${string}`, at: Date): Promise<boolean>;
  /** Calls in status `settled` whose settlement was recorded in [since, until], oldest first. */
  listSettled(window: { since: Date; until?: Date }): Promise<CallRow[]>;
  /** The chain and token this ledger belongs to, once a gateway bound it (ledger/chain-binding.ts). */
  chainBinding(): Promise<ChainBinding | undefined>;
  /** Binds the ledger to `binding` unless it is bound already; returns the binding that holds. */
  bindChain(binding: ChainBinding, at: Date): Promise<ChainBinding>;
  close(): Promise<void>;
}
