/** How a paid call maps to and from a row of the `calls` table. */
import type { Insertable, Selectable, Updateable } from "kysely";
import type { CallsTable } from "./schema.ts";
import type { CallRow, CallUpdate, NewCall } from "./types.ts";
import { readBigint, readDate, readHex, readNullable, readNumber, readStatus } from "./driver-values.ts";

/**
 * Hex is case-insensitive (EIP-55 mixed case is only a checksum), so the same payer or nonce can
 * arrive spelled two ways; lowercasing keeps one payment from reserving twice.
 */
export function lowerHex(value: `0x${string}`): `0x${string}` {
  return readHex(value.toLowerCase(), "hex");
}

export function toCallInsert(call: NewCall): Insertable<CallsTable> {
  const at = call.createdAt.getTime();
  return {
    id: call.id,
    payer: lowerHex(call.payer),
    nonce: lowerHex(call.nonce),
    network: call.network,
    asset: lowerHex(call.asset),
    pay_to: lowerHex(call.payTo),
    amount: call.amount,
    credit_used: call.creditUsed === undefined || call.creditUsed === 0n ? null : call.creditUsed,
    model: call.model,
    strategy: call.strategy,
    task: call.task,
    valid_before: call.validBefore,
    status: "reserved",
    payment: call.payment,
    usage_estimated: 0,
    created_at: at,
    updated_at: at,
  };
}

/** Only the fields the update names, plus the timestamp its status stands for. */
export function toCallPatch(update: CallUpdate): Updateable<CallsTable> {
  const at = update.at.getTime();
  const patch: Updateable<CallsTable> = { status: update.status, updated_at: at };
  switch (update.status) {
    case "verified":
      patch.verified_at = at;
      break;
    case "served":
      patch.served_at = at;
      break;
    case "settled":
      patch.settled_at = at;
      break;
    case "failed":
    case "released":
    case "expired":
    case "unpaid":
    case "repaid":
      patch.closed_at = at;
      break;
    case "reserved":
    case "pending":
      break;
  }
  if (update.settleAttempts !== undefined) patch.settle_attempts = update.settleAttempts;
  if (update.provider !== undefined) patch.provider = update.provider;
  if (update.promptTokens !== undefined) patch.prompt_tokens = update.promptTokens;
  if (update.completionTokens !== undefined) patch.completion_tokens = update.completionTokens;
  if (update.cachedPromptTokens !== undefined) patch.cached_prompt_tokens = update.cachedPromptTokens;
  if (update.reasoningTokens !== undefined) patch.reasoning_tokens = update.reasoningTokens;
  if (update.usageEstimated !== undefined) patch.usage_estimated = update.usageEstimated ? 1 : 0;
  if (update.upstreamCost !== undefined) patch.upstream_cost = update.upstreamCost;
  if (update.charged !== undefined) patch.charged = update.charged;
  if (update.cost !== undefined) patch.cost = update.cost;
  if (update.txHash !== undefined) patch.tx_hash = lowerHex(update.txHash);
  if (update.latencyMs !== undefined) patch.latency_ms = update.latencyMs;
  if (update.ttftMs !== undefined) patch.ttft_ms = update.ttftMs;
  if (update.error !== undefined) patch.error = update.error;
  return patch;
}

export function toCallRow(row: Selectable<CallsTable>): CallRow {
  return {
    id: row.id,
    payer: readHex(row.payer, "payer"),
    nonce: readHex(row.nonce, "nonce"),
    network: row.network,
    asset: readHex(row.asset, "asset"),
    payTo: readHex(row.pay_to, "pay_to"),
    amount: readBigint(row.amount, "amount"),
    model: row.model,
    strategy: row.strategy,
    task: row.task,
    validBefore: readNumber(row.valid_before, "valid_before"),
    createdAt: readDate(row.created_at, "created_at"),
    payment: row.payment,
    status: readStatus(row.status),
    provider: row.provider,
    promptTokens: readNullable(row.prompt_tokens, "prompt_tokens", readNumber),
    completionTokens: readNullable(row.completion_tokens, "completion_tokens", readNumber),
    cachedPromptTokens: readNullable(row.cached_prompt_tokens, "cached_prompt_tokens", readNumber),
    reasoningTokens: readNullable(row.reasoning_tokens, "reasoning_tokens", readNumber),
    usageEstimated: readNumber(row.usage_estimated, "usage_estimated") === 1,
    upstreamCost: readNullable(row.upstream_cost, "upstream_cost", readBigint),
    charged: readNullable(row.charged, "charged", readBigint),
    creditUsed: readNullable(row.credit_used, "credit_used", readBigint),
    cost: readNullable(row.cost, "cost", readBigint),
    txHash: row.tx_hash === null ? null : readHex(row.tx_hash, "tx_hash"),
    latencyMs: readNullable(row.latency_ms, "latency_ms", readNumber),
    ttftMs: readNullable(row.ttft_ms, "ttft_ms", readNumber),
    error: row.error,
    verifiedAt: readNullable(row.verified_at, "verified_at", readDate),
    servedAt: readNullable(row.served_at, "served_at", readDate),
    settledAt: readNullable(row.settled_at, "settled_at", readDate),
    closedAt: readNullable(row.closed_at, "closed_at", readDate),
    updatedAt: readDate(row.updated_at, "updated_at"),
    settleAttempts: readNumber(row.settle_attempts, "settle_attempts"),
  };
}
