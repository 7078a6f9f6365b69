import type { SettleResponse } from "@x402/core/types";
import { randomUUID } from "node:crypto";
import { TollgateError, messageOf } from "../lib/errors.ts";
import { StageTimer } from "../lib/stage-timer.ts";
import { EMPTY_HEALTH } from "../routing/health.ts";
import type { AgentLimits } from "../routing/limits.ts";
import type { Challenge } from "../payment/challenge.ts";
import { encodeX402Header, receiptHeaderName } from "../payment/encode-header.ts";
import { readPaymentHeader, type PaymentHeaders } from "../payment/header.ts";
import type { ChatResult, ChatStream, Usage } from "../providers/types.ts";
import type { CallDeps } from "./deps.ts";
import { executeWithFailover, type Attempt } from "./execute.ts";
import { createFirstContentWatch } from "./first-content.ts";
import type { ServedCall } from "./lifecycle.ts";
import { withUsageCost, type CallCost } from "./usage-cost.ts";
import { planCall, routingSettings, type Plan } from "./plan.ts";
import { payWithCredit } from "./credit.ts";
import { acceptFor, openPaidCall, type AdmitPayer, type CallPayment, type PaidCall } from "./paid-call.ts";

export interface ChatInput {
  body: unknown;
  headers: PaymentHeaders;
  resourceUrl: string;
  requestId: string;
  /** The agent's routing limits (x-tollgate-* headers), already parsed. */
  limits: AgentLimits;
  /** Aborted when the agent goes away. */
  signal: AbortSignal;
  admitPayer?: AdmitPayer | undefined;
}

/** What a served call reports in x-tollgate-* headers. */
export interface CallMeta {
  requestId: string;
  model: string;
  provider: string;
  strategy: string;
  task: string;
  price: bigint;
  /** Milliseconds spent outside the upstream call. */
  overheadMs: () => number;
  timer: StageTimer;
}

export type ChatOutcome =
  | { kind: "payment_required"; plan: Plan; challenge: Challenge; timer: StageTimer }
  | { kind: "completed"; plan: Plan; paid: CallPayment; meta: CallMeta; cost: CallCost; body: Record<string, unknown>; settlement: SettleResponse | undefined }
  | { kind: "streaming"; plan: Plan; paid: CallPayment; meta: CallMeta; pipe(sink: StreamSink): Promise<void> };

/** Where a paid stream's bytes go; the HTTP layer implements it over the response. */
export interface StreamSink {
  /**
   * Hands one piece to the agent's connection; resolves true once it was written, false when
   * the agent has gone away (the piece and anything after it cannot reach it).
   */
  write(piece: Uint8Array | string): Promise<boolean>;
}

/**
 * The paid call (DESIGN.md "One paid call, end to end"): plan -> challenge, or
 * accept -> reserve -> facilitator verify -> execute -> settle -> record.
 * An agent never pays for a call it did not get: settlement happens only after the upstream
 * served it, and a failure before that releases the reservation.
 */
export async function runChat(deps: CallDeps, input: ChatInput): Promise<ChatOutcome> {
  const started = performance.now();
  const timer = new StageTimer();
  const submission = readPaymentHeader(input.headers);
  // A paid retry runs on the model its quote names, whatever live health says now, so health
  // only shapes unpaid plans; at execution, open circuits are skipped among the fallbacks.
  const health = submission === undefined ? deps.health.snapshot(deps.now()) : EMPTY_HEALTH;
  const plan = planCall(deps, input.body, input.resourceUrl, { ...routingSettings(deps), health, limits: input.limits });
  timer.mark("plan");
  const labels = { strategy: plan.decision.strategy, task: plan.decision.task };
  let call: PaidCall;
  if (submission === undefined) {
    // No payment: a 402, unless a signed-in wallet's credit pays for the call (call/credit.ts).
    const outcome = await payWithCredit(deps, { headers: input.headers, offer: plan.offer, requestId: input.requestId, labels, admitPayer: input.admitPayer });
    timer.mark("challenge");
    if (outcome.kind === "payment_required") return { kind: "payment_required", plan, challenge: outcome.challenge, timer };
    call = outcome.call;
  } else {
    const accepted = await acceptFor(deps, plan.offer, submission);
    timer.mark("local_verify");
    call = await openPaidCall(deps, { paid: accepted, requestId: input.requestId, labels, refuseDebtors: true, timer, admitPayer: input.admitPayer });
  }
  const { paid } = call;
  const attempts = attemptsFor(deps, plan, paid);

  let upstreamMs = 0;
  const meta = (provider: string, model: string): CallMeta => ({
    requestId: input.requestId,
    model,
    provider,
    strategy: plan.decision.strategy,
    task: plan.decision.task,
    price: paid.amount + paid.credit,
    overheadMs: () => Math.max(0, Math.round(performance.now() - started - upstreamMs)),
    timer,
  });

  if (plan.request.stream === true) {
    const upstreamStart = performance.now();
    const served = await executeWithFailover<ChatStream>(deps, plan.request, attempts, input.signal, "stream").catch((error: unknown) => failCall(call, error));
    upstreamMs = performance.now() - upstreamStart;
    timer.mark("upstream_headers");
    const callMeta = meta(served.result.provider, served.attempt.model.id);
    const delivery = { call, requestId: input.requestId, stream: served.result, attempt: served.attempt, started, signal: input.signal };
    return { kind: "streaming", plan, paid, meta: callMeta, pipe: (sink) => deliverStream(deps, delivery, sink) };
  }

  const upstreamStart = performance.now();
  const served = await executeWithFailover<ChatResult>(deps, plan.request, attempts, input.signal, "chat").catch((error: unknown) => failCall(call, error));
  upstreamMs = performance.now() - upstreamStart;
  timer.mark("upstream");
  // `exact` charges the signed amount whatever the usage; `upto` the actual cost of the usage.
  const cost = await call.served(servedCall(deps, served.result.provider, served.attempt, served.result.usage, started));
  timer.mark("ledger");
  const callMeta = meta(served.result.provider, served.attempt.model.id);
  const body = withUsageCost(served.result.body, cost, deps.terms);
  if (deps.settleTiming === "after_response") {
    call.settleLater();
    return { kind: "completed", plan, paid, meta: callMeta, cost, body, settlement: undefined };
  }
  const settlement = await call.settle();
  timer.mark("settle");
  return { kind: "completed", plan, paid, meta: callMeta, cost, body, settlement };
}

/** The paid model first, then the plan's other candidates whose own price fits what was paid. */
function attemptsFor(deps: CallDeps, plan: Plan, paid: CallPayment): Attempt[] {
  const paidModel = deps.catalog.get(paid.model);
  if (paidModel === undefined) {
    throw new TollgateError("quote_invalid", `the quoted model ${paid.model} is no longer offered`, { details: { reason: "model_gone" } });
  }
  const attempts: Attempt[] = [{ model: paidModel.entry, outputCap: paid.outputCap }];
  for (const candidate of plan.decision.candidates) {
    if (candidate.model === paid.model) continue;
    const entry = deps.catalog.get(candidate.model)?.entry;
    // Each candidate carries the price decide gave it; a fallback must cost no more than was paid.
    if (entry !== undefined && candidate.price <= paid.amount + paid.credit) {
      attempts.push({ model: entry, outputCap: candidate.outputCap });
    }
  }
  return attempts;
}

async function failCall(call: PaidCall, error: unknown): Promise<never> {
  await call.failed(messageOf(error));
  throw error;
}

/** What the ledger records of a served attempt. */
function servedCall(deps: CallDeps, provider: string, attempt: Attempt, usage: Usage, started: number, ttftMs?: number): Omit<ServedCall, "charged" | "cost"> {
  return { provider, rates: deps.catalog.rates(attempt.model.id), usage, latencyMs: Math.round(performance.now() - started), ttftMs };
}

/**
 * Passes the upstream's SSE bytes through as they arrive, then settles and sends the receipt as
 * an SSE comment line (ignored by every SSE parser, read by agents that want it).
 *
 * Who pays for what (README, "Streams"): once an event with content has been written to the
 * agent, the call was served. If the agent then goes away, the upstream is stopped and the quoted
 * price is settled, as the provider bills the operator for every token generated so far. A stream
 * the agent leaves before any content, and one that fails upstream (before or after content),
 * is recorded failed and never settled; the latter ends with an OpenAI-format error event.
 */
async function deliverStream(
  deps: CallDeps,
  delivery: { call: PaidCall; requestId: string; stream: ChatStream; attempt: Attempt; started: number; signal: AbortSignal },
  sink: StreamSink,
): Promise<void> {
  const { call, stream, attempt, started } = delivery;
  const content = createFirstContentWatch();
  let delivered = false;
  let agentGone = false;
  let ttftMs: number | undefined;
  try {
    for await (const chunk of stream.chunks) {
      ttftMs ??= Math.round(performance.now() - started);
      const hasContent = content.sees(chunk);
      // Leaving the loop early closes the upstream iterator, which stops the upstream call.
      if (!(await sink.write(chunk))) {
        agentGone = true;
        break;
      }
      delivered ||= hasContent;
    }
  } catch (error) {
    // The agent's disconnect aborts the upstream call: that is the agent leaving, not a failure.
    if (!delivery.signal.aborted) {
      const message = messageOf(error);
      await call.failed(`stream: ${message}`);
      await sink.write(sseError("upstream_error", `The upstream failed mid-stream; you were not charged (${message})`));
      return;
    }
    agentGone = true;
  }
  if (agentGone && !delivered) {
    await call.failed("stream: the agent disconnected before any content");
    return;
  }
  await call.served(servedCall(deps, stream.provider, attempt, stream.usage(), started, ttftMs));
  if (agentGone) deps.logger.info({ callId: delivery.requestId }, "agent left a stream after its content began; settling the quoted price");
  try {
    const settlement = await call.settle();
    if (!agentGone && settlement !== undefined) await sink.write(`: ${receiptHeaderName(call.paid.version)} ${encodeX402Header(settlement)}\n\n`);
  } catch (error) {
    const code = error instanceof TollgateError ? error.code : "settlement_failed";
    if (!agentGone) await sink.write(sseError(code, messageOf(error)));
  }
}

function sseError(code: string, message: string): string {
  return `data: ${JSON.stringify({ error: { message, type: "api_error", code, param: null } })}\n\n`;
}

export function newRequestId(): string {
  return `req_${randomUUID().replaceAll("-", "")}`;
}
