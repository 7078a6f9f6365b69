import { ProviderError } from "../../src/providers/types.ts";

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
