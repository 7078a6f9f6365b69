import type { ModelEntry } from "../../src/catalog/schema.ts";
import { ProviderError, type ChatCall } from "../../src/providers/types.ts";

/** The ProviderError a promise rejects with; anything else fails the test. */
export async function rejection(promise: Promise<unknown>): Promise<ProviderError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof ProviderError)) throw new Error(`expected a ProviderError, got ${String(error)}`);
  return error;
}

/** A promise the test resolves when it chooses: gates in the fakes wait on these. */
export function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve: () => void = () => {};
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** The JSON body a fake recorded, as an object. */
export function recordedBody(record: { body: unknown } | undefined): Record<string, unknown> {
  const body = record?.body;
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw new Error("no JSON object body recorded");
  return Object.fromEntries(Object.entries(body));
}

/** The conversation the provider tests send unless they say otherwise: a system turn and a user turn. */
export const SAMPLE_MESSAGES = [
  { role: "system", content: "You are terse." },
  { role: "user", content: "Say hello to the router." },
];

/** A 1x1 transparent PNG, base64: the smallest real image for vision translation tests. */
export const ONE_PIXEL_PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";

/** A ChatCall to `model` as the call layer builds it: the paid-for max_tokens, the sample messages, `body` on top. */
export function chatCall(model: ModelEntry, body: Record<string, unknown> = {}, signal: AbortSignal = new AbortController().signal): ChatCall {
  return { model, body: { model: model.id, messages: SAMPLE_MESSAGES, max_tokens: 64, ...body }, signal };
}
