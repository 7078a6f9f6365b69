import type { ColumnType } from "kysely";
import type { CallStatus } from "./types.ts";

/** The two SQL engines the ledger runs on: SQLite embedded, Postgres for many replicas. */
export type LedgerDialect = "sqlite" | "postgres";

/**
 * What the drivers hand back for an integer column. better-sqlite3 runs with safe integers, so
 * every INTEGER comes back as bigint; pg returns INTEGER as number and BIGINT, COUNT and SUM as
 * string, because a JS number cannot hold every int8. driver-values.ts reads all three.
 */
export type DriverInteger = bigint | number | string;

type IntegerColumn = ColumnType<DriverInteger, bigint | number, bigint | number>;
type NullableIntegerColumn = ColumnType<
  DriverInteger | null,
  bigint | number | null | undefined,
  bigint | number | null
>;
type NullableTextColumn = ColumnType<string | null, string | null | undefined, string | null>;

/**
 * One row per paid call. Addresses, nonces and hashes are stored lowercased so lookups and the
 * (payer, nonce) uniqueness do not depend on how a client spelled the hex. Money is BIGINT atomic
 * USDC; times are BIGINT epoch milliseconds, so ordering and day grouping are plain integer
 * arithmetic in both dialects. Booleans are INTEGER 0/1 because better-sqlite3 cannot bind them.
 */
export interface CallsTable {
  id: string;
  payer: string;
  nonce: string;
  network: string;
  asset: string;
  pay_to: string;
  amount: IntegerColumn;
  model: string;
  strategy: string;
  task: string;
  /** Unix seconds. */
  valid_before: IntegerColumn;
  status: ColumnType<string, CallStatus, CallStatus>;
  provider: NullableTextColumn;
  prompt_tokens: NullableIntegerColumn;
  completion_tokens: NullableIntegerColumn;
  cached_prompt_tokens: NullableIntegerColumn;
  reasoning_tokens: NullableIntegerColumn;
  usage_estimated: IntegerColumn;
  upstream_cost: NullableIntegerColumn;
  /** Atomic units the agent was charged (settled calls); `amount` is the maximum it signed. */
  charged: NullableIntegerColumn;
  /** Credit held for the call at its reservation; null when none was used. */
  credit_used: NullableIntegerColumn;
  /** What the call's usage cost the agent (at most amount + credit_used). */
  cost: NullableIntegerColumn;
  tx_hash: NullableTextColumn;
  latency_ms: NullableIntegerColumn;
  ttft_ms: NullableIntegerColumn;
  error: NullableTextColumn;
  created_at: IntegerColumn;
  verified_at: NullableIntegerColumn;
  served_at: NullableIntegerColumn;
  settled_at: NullableIntegerColumn;
  closed_at: NullableIntegerColumn;
  payment: string;
  settle_attempts: ColumnType<DriverInteger, bigint | number | undefined, bigint | number>;
  updated_at: IntegerColumn;
}

/** One credit balance per wallet (migration 0003); never negative. */
export interface CreditsTable {
  wallet: string;
  balance: IntegerColumn;
  updated_at: IntegerColumn;
}

/** The credit journal: one row per movement, id `<call id>:<kind>`. */
export interface CreditEntriesTable {
  id: string;
  wallet: string;
  call_id: string;
  kind: "hold" | "returned" | "change";
  delta: IntegerColumn;
  created_at: IntegerColumn;
}

/** Sign-in-with-x proofs already used, by nonce. */
export interface SiwxProofsTable {
  nonce: string;
  wallet: string;
  used_at: IntegerColumn;
}

/** The chain and token the ledger belongs to: one row (migration 0004). */
export interface LedgerChainTable {
  id: ColumnType<DriverInteger, number, never>;
  chain_id: IntegerColumn;
  genesis_hash: NullableTextColumn;
  asset: string;
  spawned: IntegerColumn;
  bound_at: IntegerColumn;
}

export interface Database {
  calls: CallsTable;
  credits: CreditsTable;
  credit_entries: CreditEntriesTable;
  siwx_proofs: SiwxProofsTable;
  ledger_chain: LedgerChainTable;
}
