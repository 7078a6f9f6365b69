import type { ServerResponse } from "node:http";
import type { CallMeta } from "../call/paid-chat.ts";
import type { CallCost } from "../call/usage-cost.ts";
import type { Plan } from "../call/plan.ts";
import { atomicToUsd } from "../lib/money.ts";

/** Routing transparency headers on every 402 and every paid response. */
export function setRouteHeaders(res: ServerResponse, plan: Plan): void {
  const primary = plan.candidates[0];
  res.setHeader("x-tollgate-strategy", plan.decision.strategy);
  res.setHeader("x-tollgate-task", plan.decision.task);
  res.setHeader("x-tollgate-model", primary.model);
  res.setHeader("x-tollgate-price", atomicToUsd(primary.price));
}

/**
 * What a non-streamed answer cost, USD: the price (the maximum), the amount charged, what the
 * usage cost (under exact the difference becomes credit), and the credit that paid part of it.
 */
export function setCostHeaders(res: ServerResponse, cost: CallCost): void {
  res.setHeader("x-tollgate-max-price", atomicToUsd(cost.maximum));
  res.setHeader("x-tollgate-charged", atomicToUsd(cost.charged));
  res.setHeader("x-tollgate-cost", atomicToUsd(cost.cost));
  if (cost.credit > 0n) res.setHeader("x-tollgate-credit-used", atomicToUsd(cost.credit));
}

export function setServedHeaders(res: ServerResponse, meta: CallMeta): void {
  res.setHeader("x-tollgate-model", meta.model);
  res.setHeader("x-tollgate-provider", meta.provider);
  res.setHeader("x-tollgate-strategy", meta.strategy);
  res.setHeader("x-tollgate-task", meta.task);
  res.setHeader("x-tollgate-price", atomicToUsd(meta.price));
  res.setHeader("x-tollgate-overhead-ms", String(meta.overheadMs()));
  res.setHeader("server-timing", meta.timer.header());
}
