import type { ModelEntry } from "../catalog/schema.ts";
import { TollgateError } from "../lib/errors.ts";
import { ProviderError, type ChatResult, type ChatStream } from "../providers/types.ts";
import type { ChatRequest } from "./chat-request.ts";
import type { CallDeps } from "./deps.ts";

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
 * Runs the call on the first attempt that answers, failing over only on retryable errors and
 * only before the first byte (a stream is returned once its upstream has answered 2xx).
 */
export async function executeWithFailover<T extends ChatResult | ChatStream>(
  deps: CallDeps,
  request: ChatRequest,
  attempts: readonly Attempt[],
  signal: AbortSignal,
  run: "chat" | "stream",
): Promise<Served<T>> {
  const failures: string[] = [];
  for (const [index, attempt] of attempts.entries()) {
    const { id: model, provider: catalogProvider } = attempt.model;
    // The paid model is always tried; fallbacks with an open circuit are skipped.
    if (index > 0 && !deps.health.allows(model, catalogProvider, deps.now())) {
      failures.push(`${model}: circuit open`);
      continue;
    }
    const provider = deps.providers.providerFor(attempt.model);
    const call = { model: attempt.model, body: upstreamBody(request, attempt), signal };
    const started = performance.now();
    try {
      const result = (run === "chat" ? await provider.chat(call) : await provider.chatStream(call)) as T;
      const latencyMs = performance.now() - started;
      // For a stream this is the time to its first byte; the whole call's latency is recorded later.
      deps.health.record({ model, provider: catalogProvider, ok: true, ...(run === "chat" ? { latencyMs } : { ttftMs: latencyMs }), now: deps.now() });
      return { result, attempt, failures };
    } catch (error) {
      if (signal.aborted) throw new TollgateError("upstream_error", "the agent disconnected before the upstream answered", { cause: error });
      deps.health.record({ model, provider: catalogProvider, ok: false, now: deps.now() });
      const message = error instanceof Error ? error.message : String(error);
      failures.push(`${attempt.model.id}@${provider.id}: ${message}`);
      deps.logger.warn({ model: attempt.model.id, provider: provider.id, err: message }, "upstream attempt failed");
      if (error instanceof ProviderError && !error.retryable) break;
    }
  }
  throw new TollgateError("upstream_error", `No provider could serve the call (${failures.join("; ")}); you were not charged`, {
    details: { attempts: failures.length },
  });
}

/** The agent's body with the upstream model id and the paid-for output cap. */
function upstreamBody(request: ChatRequest, attempt: Attempt): Record<string, unknown> & { messages: unknown[]; max_tokens: number } {
  const { max_completion_tokens: _ignored, ...rest } = request;
  return { ...rest, model: attempt.model.upstreamId ?? attempt.model.id, max_tokens: attempt.outputCap };
}
