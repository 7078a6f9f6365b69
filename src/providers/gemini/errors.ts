import { isRetryableStatus, type UpstreamErrorDetail } from "../http-upstream.ts";
import { ProviderError } from "../types.ts";
import { GeminiErrorBody, retryDelayMs } from "./wire.ts";

/** Message and retry delay of a Google error body (`{error:{code, message, status}}`), for statusError. */
export function geminiErrorDetail(body: unknown): UpstreamErrorDetail | undefined {
  const parsed = GeminiErrorBody.safeParse(body);
  if (!parsed.success) return undefined;
  const { status, message } = parsed.data.error;
  return { message: status == null ? message : `${status}: ${message}`, retryAfterMs: retryDelayMs(parsed.data) };
}

/** An error object that arrives as a stream event instead of a status. Its `code` is an HTTP status. */
export function geminiStreamError(provider: string, body: GeminiErrorBody, redact: (text: string) => string): ProviderError {
  const { code, status, message } = body.error;
  return new ProviderError(`${provider} failed mid-stream: ${redact(status == null ? message : `${status}: ${message}`)}`, provider, code, isRetryableStatus(code), {
    retryAfterMs: retryDelayMs(body),
  });
}
