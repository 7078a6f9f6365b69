import { setTimeout as sleep } from "node:timers/promises";
import type { ModelEntry } from "../catalog/schema.ts";
import { TollgateError, messageOf } from "../lib/errors.ts";
import { ProviderError, type ChatCall, type ChatResult, type ChatStream } from "../providers/types.ts";
import type { ChatRequest } from "./chat-request.ts";
import type { CallDeps } from "./deps.ts";
import { failoverAction } from "./failover-policy.ts";

/** One model the paid call may run on, with the output cap its price covers. */
export interface Attempt {
  model: ModelEntry;
  outputCap: number;
}

export interface Served<T> {
  result: T;
  attempt: Attempt;
  /** Errors of the attempts that failed before this one, for logs. */
  failures: string[];
}

/**
 * Runs the call on the first attempt that answers, failing over only before the agent has
 * received a byte: a stream counts as answered once its first chunk arrived (an upstream that
 * says 200 and then sends an error event, as Anthropic does when overloaded, still fails over).
 * Every attempt is bounded by what is left of the call's deadline; a 429 with Retry-After is
 * retried on the same model when the wait fits in it.
 */
export async function executeWithFailover<T extends ChatResult | ChatStream>(
  deps: CallDeps,
  request: ChatRequest,
  attempts: readonly Attempt[],
  signal: AbortSignal,
  run: "chat" | "stream",
): Promise<Served<T>> {
  const deadline = performance.now() + deps.upstreamDeadlineMs;
  const failures: string[] = [];
  for (const [index, attempt] of attempts.entries()) {
    const { id: model, provider: catalogProvider } = attempt.model;
    // The paid model is always tried; fallbacks with an open circuit are skipped.
    if (index > 0 && !deps.health.allows(model, catalogProvider, deps.now())) {
      failures.push(`${model}: circuit open`);
      continue;
    }
    const provider = deps.providers.providerFor(attempt.model);
    for (let retried = false; ; retried = true) {
      const remaining = deadline - performance.now();
      if (remaining <= 0) break;
      const call: ChatCall = { model: attempt.model, body: upstreamBody(request, attempt), signal: AbortSignal.any([signal, AbortSignal.timeout(Math.ceil(remaining))]) };
      const started = performance.now();
      try {
        if (run === "chat") {
          const result = await provider.chat(call);
          const latencyMs = performance.now() - started;
          deps.health.record({ model, provider: catalogProvider, ok: true, latencyMs, now: deps.now() });
          deps.metrics.upstreamFirstByte(result.provider, "chat", latencyMs);
          return { result: result as T, attempt, failures };
        }
        // A stream's health sample is taken when it ends (streamHealth), not at its first byte:
        // its latency is the whole answer's, and a failure mid-stream counts against the model.
        const stream = await firstChunkCommitted(await provider.chatStream(call));
        const ttftMs = performance.now() - started;
        deps.metrics.upstreamFirstByte(stream.provider, "stream", ttftMs);
        const record = (ok: boolean): void => {
          // The agent hanging up says nothing about the upstream's health.
          if (signal.aborted) return;
          deps.health.record({ model, provider: catalogProvider, ok, ...(ok ? { ttftMs, latencyMs: performance.now() - started } : {}), now: deps.now() });
        };
        return { result: streamHealth(stream, record) as T, attempt, failures };
      } catch (error) {
        if (signal.aborted) throw new TollgateError("upstream_error", "the agent disconnected before the upstream answered", { cause: error });
        deps.health.record({ model, provider: catalogProvider, ok: false, now: deps.now() });
        const status = error instanceof ProviderError ? error.status : undefined;
        const retryAfterMs = error instanceof ProviderError ? error.retryAfterMs : undefined;
        const reason = describe(error, deadline);
        failures.push(`${model}@${provider.id}: ${reason}`);
        deps.logger.warn({ model, provider: provider.id, status, err: reason }, "upstream attempt failed");
        const action = failoverAction(status, retryAfterMs);
        if (action === "stop") throw upstreamFailed(failures);
        if (action === "retry_after" && !retried && retryAfterMs !== undefined && performance.now() + retryAfterMs < deadline - 1_000) {
          await sleep(retryAfterMs, undefined, { signal }).catch(() => undefined);
          continue;
        }
        break;
      }
    }
  }
  throw upstreamFailed(failures);
}

function upstreamFailed(failures: string[]): TollgateError {
  return new TollgateError("upstream_error", `No provider could serve the call (${failures.join("; ") || "deadline passed"}); you were not charged`, {
    details: { attempts: failures.length },
  });
}

function describe(error: unknown, deadline: number): string {
  if (performance.now() >= deadline) return "deadline reached";
  return messageOf(error);
}

/**
 * Waits for the stream's first chunk before the attempt counts as served, and hands back a
 * stream that replays it: nothing has reached the agent yet, so a failure here can still fail over.
 */
async function firstChunkCommitted(stream: ChatStream): Promise<ChatStream> {
  const iterator = stream.chunks[Symbol.asyncIterator]();
  let first: IteratorResult<Uint8Array>;
  try {
    first = await iterator.next();
  } catch (error) {
    await iterator.return?.();
    throw error;
  }
  async function* replay(): AsyncGenerator<Uint8Array> {
    if (first.done === true) return;
    yield first.value;
    for (let next = await iterator.next(); next.done !== true; next = await iterator.next()) yield next.value;
  }
  return { chunks: replay(), usage: () => stream.usage(), provider: stream.provider };
}

/** Hands back the same stream, calling `record` once: true when it ends, false when the upstream fails mid-way. */
function streamHealth(stream: ChatStream, record: (ok: boolean) => void): ChatStream {
  async function* observed(): AsyncGenerator<Uint8Array> {
    try {
      yield* stream.chunks;
    } catch (error) {
      record(false);
      throw error;
    }
    record(true);
  }
  return { chunks: observed(), usage: () => stream.usage(), provider: stream.provider };
}

/** The agent's body with the upstream model id and the paid-for output cap. */
function upstreamBody(request: ChatRequest, attempt: Attempt): Record<string, unknown> & { messages: unknown[]; max_tokens: number } {
  const { max_completion_tokens: _ignored, ...rest } = request;
  return { ...rest, model: attempt.model.upstreamId ?? attempt.model.id, max_tokens: attempt.outputCap };
}
