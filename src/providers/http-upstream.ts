import { Agent, errors, request, type Dispatcher } from "undici";
import { ProviderError } from "./types.ts";

/**
 * The HTTP side every live adapter shares, whatever its wire format: one keep-alive undici
 * Agent per adapter instance, JSON POSTs, bounded reads of error bodies, and the mapping of
 * transport failures and error statuses to ProviderError, with the API key kept out of every
 * message.
 */
export interface HttpUpstreamOptions {
  /** Provider id, as it appears in errors. */
  id: string;
  /** Stripped from every error message, should the upstream quote it back. */
  apiKey: string;
  /** Longest wait for the response headers. Non-streamed reasoning calls answer late. */
  headersTimeoutMs?: number;
  /** Longest silence between two body chunks. */
  bodyTimeoutMs?: number;
}

/** What an adapter reads out of its upstream's error body. */
export interface UpstreamErrorDetail {
  message: string;
  /** A retry delay the body carries (Google's RetryInfo); a `retry-after` header wins over it. */
  retryAfterMs?: number | undefined;
}

export type UpstreamResponse = Dispatcher.ResponseData;

export interface HttpUpstream {
  readonly id: string;
  /** POST `body` as JSON. Transport failures become ProviderError; any status resolves. */
  postJson(url: string, headers: Record<string, string>, body: unknown, signal: AbortSignal): Promise<UpstreamResponse>;
  /** Read a whole 2xx JSON body; a body that is not JSON is a retryable ProviderError. */
  readJson(response: UpstreamResponse, signal: AbortSignal): Promise<unknown>;
  /** The ProviderError for a non-2xx answer, its body read (at most 16 KiB) through `detail`. */
  statusError(response: UpstreamResponse, signal: AbortSignal, detail: (body: unknown) => UpstreamErrorDetail | undefined): Promise<ProviderError>;
  /** The ProviderError for a thrown transport error, `phase` saying when it happened. */
  transportError(error: unknown, signal: AbortSignal, phase: string): ProviderError;
  /** `text` without the API key or anything shaped like one, cut to a readable length. */
  redact(text: string): string;
  close(): Promise<void>;
}

const DEFAULT_HEADERS_TIMEOUT_MS = 300_000;
const DEFAULT_BODY_TIMEOUT_MS = 300_000;
/** Error bodies are read only this far: enough for any real error message. */
const ERROR_BODY_LIMIT = 16 * 1024;
const ERROR_MESSAGE_LIMIT = 500;
/**
 * Key shapes of the providers we talk to: OpenAI-style `sk-...` (Anthropic's `sk-ant-...`
 * included), Groq `gsk_`, xAI, Fireworks `fw_`, and Google API keys, which start with `AIza`.
 */
const KEY_SHAPES = /\b(?:(?:sk|gsk|pk|rk|xai|fw)[-_][A-Za-z0-9_*.-]{4,}|AIza[0-9A-Za-z_-]{8,})/g;

/** 408/409/429 and 5xx may pass on another attempt or another provider; other 4xx will not. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

/**
 * A `retry-after` value in milliseconds: delay-seconds or an HTTP-date (RFC 9110 §10.2.3).
 * Anything else, or a date in the past, is no advice at all.
 */
export function parseRetryAfter(value: string | string[] | undefined, now: number = Date.now()): number | undefined {
  const text = (Array.isArray(value) ? value[0] : value)?.trim();
  if (text === undefined || text === "") return undefined;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // All three HTTP-date formats open with a day name; Date.parse alone would take "-3" for a year.
  if (!/^[A-Za-z]{3}/.test(text)) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

export function createHttpUpstream(options: HttpUpstreamOptions): HttpUpstream {
  const { id, apiKey } = options;
  const agent = new Agent({
    keepAliveTimeout: 30_000,
    keepAliveMaxTimeout: 600_000,
    headersTimeout: options.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS,
    bodyTimeout: options.bodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT_MS,
  });

  function redact(text: string): string {
    let out = apiKey.length > 0 ? text.split(apiKey).join("[redacted]") : text;
    out = out.replace(KEY_SHAPES, "[redacted]");
    return out.length > ERROR_MESSAGE_LIMIT ? `${out.slice(0, ERROR_MESSAGE_LIMIT)}…` : out;
  }

  function transportError(error: unknown, signal: AbortSignal, phase: string): ProviderError {
    if (error instanceof ProviderError) return error;
    if (signal.aborted) return new ProviderError(`${id}: request aborted ${phase}`, id, undefined, false, { cause: signal.reason });
    const what =
      error instanceof errors.HeadersTimeoutError
        ? "timed out waiting for response headers"
        : error instanceof errors.BodyTimeoutError
          ? "timed out waiting for the response body"
          : error instanceof errors.ConnectTimeoutError
            ? "timed out connecting"
            : `connection failed (${errorCode(error)})`;
    return new ProviderError(`${id}: ${what} ${phase}`, id, undefined, true, { cause: error });
  }

  async function postJson(url: string, headers: Record<string, string>, body: unknown, signal: AbortSignal): Promise<UpstreamResponse> {
    try {
      return await request(url, {
        dispatcher: agent,
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify(body),
        signal,
      });
    } catch (error) {
      throw transportError(error, signal, "before the response");
    }
  }

  async function readJson(response: UpstreamResponse, signal: AbortSignal): Promise<unknown> {
    try {
      return await response.body.json();
    } catch (error) {
      if (error instanceof SyntaxError) {
        throw new ProviderError(`${id} answered ${response.statusCode} with a body that is not JSON`, id, response.statusCode, true);
      }
      throw transportError(error, signal, "while reading the response");
    }
  }

  async function statusError(
    response: UpstreamResponse,
    signal: AbortSignal,
    detail: (body: unknown) => UpstreamErrorDetail | undefined,
  ): Promise<ProviderError> {
    const status = response.statusCode;
    let found: UpstreamErrorDetail | undefined;
    let raw = "";
    try {
      raw = await readLimited(response.body, ERROR_BODY_LIMIT);
      found = detail(safeJson(raw));
    } catch (error) {
      if (signal.aborted) return transportError(error, signal, "while reading an error body");
    }
    const text = found?.message ?? raw.trim();
    const message = text === "" ? `${id} answered ${status}` : `${id} answered ${status}: ${redact(text)}`;
    const retryAfterMs = parseRetryAfter(response.headers["retry-after"]) ?? found?.retryAfterMs;
    return new ProviderError(message, id, status, isRetryableStatus(status), { retryAfterMs });
  }

  return { id, postJson, readJson, statusError, transportError, redact, close: () => agent.close() };
}

/** JSON.parse that answers undefined instead of throwing; what comes out still gets a schema. */
export function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function errorCode(error: unknown): string {
  if (typeof error === "object" && error !== null && "code" in error && typeof error.code === "string") return error.code;
  return error instanceof Error ? error.name : "unknown error";
}

async function readLimited(body: AsyncIterable<unknown> & { destroy(): unknown }, limit: number): Promise<string> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    if (!(chunk instanceof Uint8Array)) continue;
    parts.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    size += chunk.byteLength;
    if (size >= limit) {
      body.destroy();
      break;
    }
  }
  return Buffer.concat(parts).toString("utf8").slice(0, limit);
}
