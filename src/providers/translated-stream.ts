import type { HttpUpstream } from "./http-upstream.ts";
import { createSseDataReader } from "./sse.ts";
import { ProviderError } from "./types.ts";

/**
 * One upstream stream's translation to OpenAI SSE text. Both methods return the text to send
 * ("" for nothing) and throw ProviderError when the upstream reports a failure.
 */
export interface StreamTranslator {
  /** One upstream SSE event's `data`. */
  onData(data: string): string;
  /** The upstream body ended cleanly: the closing text, or a throw if it stopped short. */
  onEnd(): string;
}

const encoder = new TextEncoder();

/**
 * The agent-facing bytes of a translated stream. Each read takes the next piece the socket
 * delivers, translates every SSE event it completes and yields the result at once: nothing is
 * held back beyond an event that has not fully arrived. Stopping early, or aborting the call,
 * closes the upstream connection.
 */
export function translateSseBody(
  http: Pick<HttpUpstream, "id" | "transportError">,
  body: AsyncIterable<unknown> & { destroy(): unknown },
  signal: AbortSignal,
  translator: StreamTranslator,
): AsyncIterableIterator<Uint8Array> {
  const source = body[Symbol.asyncIterator]();
  let pending = "";
  const sse = createSseDataReader((data) => {
    pending += translator.onData(data);
  });
  let yielded = false;
  let finished = false;
  /** A failure that arrived behind translated bytes: those go out first, then this is thrown. */
  let deferred: ProviderError | undefined;

  function fail(error: unknown, bytesAhead: boolean): ProviderError {
    finished = true;
    body.destroy();
    const failure = http.transportError(error, signal, "mid-stream");
    if (!(yielded || bytesAhead) || !failure.retryable) return failure;
    // Once bytes went to the agent a second attempt would repeat them: not retryable then.
    return new ProviderError(failure.message, failure.provider, failure.status, false, {
      cause: failure.cause,
      retryAfterMs: failure.retryAfterMs,
    });
  }

  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    async next(): Promise<IteratorResult<Uint8Array>> {
      if (deferred !== undefined) {
        const failure = deferred;
        deferred = undefined;
        throw failure;
      }
      while (!finished) {
        let step: IteratorResult<unknown>;
        try {
          step = await source.next();
        } catch (error) {
          throw fail(error, false);
        }
        try {
          if (step.done) {
            finished = true;
            sse.end();
            pending += translator.onEnd();
          } else {
            if (!(step.value instanceof Uint8Array)) throw new ProviderError(`${http.id}: stream produced a non-byte chunk`, http.id, undefined, false);
            sse.push(step.value);
          }
        } catch (error) {
          const failure = fail(error, pending !== "");
          if (pending === "") throw failure;
          deferred = failure;
        }
        if (pending !== "") {
          const bytes = encoder.encode(pending);
          pending = "";
          yielded = true;
          return { done: false, value: bytes };
        }
      }
      return { done: true, value: undefined };
    },
    async return(): Promise<IteratorResult<Uint8Array>> {
      // The consumer stopped early (agent went away): release the upstream socket now.
      finished = true;
      deferred = undefined;
      body.destroy();
      return { done: true, value: undefined };
    },
  };
}
