import { isRetryableStatus, type UpstreamErrorDetail } from "../http-upstream.ts";
import { ProviderError } from "../types.ts";
import { AnthropicErrorBody, ERROR_TYPE_STATUS } from "./wire.ts";

/** The message of an Anthropic error body (`{type:"error", error:{type, message}}`), for statusError. */
export function anthropicErrorDetail(body: unknown): UpstreamErrorDetail | undefined {
  const parsed = AnthropicErrorBody.safeParse(body);
  return parsed.success ? { message: `${parsed.data.error.type}: ${parsed.data.error.message}` } : undefined;
}

/**
 * An `error` event inside a 200 stream (an `overloaded_error` is the usual one). It has no HTTP
 * status of its own, so it gets the status Anthropic documents for its type, and is retryable
 * when that status is.
 */
export function anthropicStreamError(provider: string, body: AnthropicErrorBody, redact: (text: string) => string): ProviderError {
  const status = ERROR_TYPE_STATUS[body.error.type];
  const retryable = status === undefined ? true : isRetryableStatus(status);
  return new ProviderError(`${provider} failed mid-stream: ${redact(`${body.error.type}: ${body.error.message}`)}`, provider, status, retryable);
}
