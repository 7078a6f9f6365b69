/** The spend aggregates every wallet query shares: one SELECT list, one reader. */
import type { ExpressionBuilder } from "kysely";
import type { Database, DriverInteger } from "./schema.ts";
import type { SpendTotals } from "./types.ts";
import { readBigint, readNumber } from "./driver-values.ts";

/**
 * `spent` is what settled calls were charged (`charged`, else the signed `amount`, which is what
 * `exact` charges): anything else was never paid on chain. `upstream_cost`
 * counts every call, because a call served but not settled still cost us the upstream tokens.
 * COALESCE keeps empty sums at 0, so ordering by them agrees across dialects (Postgres sorts
 * NULL first in DESC order, SQLite last).
 */
export function spendTotalsColumns(eb: ExpressionBuilder<Database, "calls">) {
  return [
    eb.fn.countAll<DriverInteger>().as("calls"),
    eb.fn.coalesce(eb.fn.sum<DriverInteger>(eb.fn.coalesce("charged", "amount")).filterWhere("status", "=", "settled"), eb.lit(0)).as("spent"),
    eb.fn.coalesce(eb.fn.sum<DriverInteger>("upstream_cost"), eb.lit(0)).as("upstream_cost"),
    eb.fn.coalesce(eb.fn.sum<DriverInteger>("prompt_tokens"), eb.lit(0)).as("prompt_tokens"),
    eb.fn.coalesce(eb.fn.sum<DriverInteger>("completion_tokens"), eb.lit(0)).as("completion_tokens"),
  ] as const;
}

export interface SpendTotalsRow {
  calls: DriverInteger;
  spent: DriverInteger;
  upstream_cost: DriverInteger;
  prompt_tokens: DriverInteger;
  completion_tokens: DriverInteger;
}

export function readSpendTotals(row: SpendTotalsRow): SpendTotals {
  return {
    calls: readNumber(row.calls, "calls"),
    spent: readBigint(row.spent, "spent"),
    upstreamCost: readBigint(row.upstream_cost, "upstream_cost"),
    promptTokens: readNumber(row.prompt_tokens, "prompt_tokens"),
    completionTokens: readNumber(row.completion_tokens, "completion_tokens"),
  };
}

export function addSpendTotals(a: SpendTotals, b: SpendTotals): SpendTotals {
  return {
    calls: a.calls + b.calls,
    spent: a.spent + b.spent,
    upstreamCost: a.upstreamCost + b.upstreamCost,
    promptTokens: a.promptTokens + b.promptTokens,
    completionTokens: a.completionTokens + b.completionTokens,
  };
}

export const ZERO_SPEND: Readonly<SpendTotals> = Object.freeze({ calls: 0, spent: 0n, upstreamCost: 0n, promptTokens: 0, completionTokens: 0 });
