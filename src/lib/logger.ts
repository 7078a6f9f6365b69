import { pino, type Logger as PinoLogger } from "pino";

export type Logger = PinoLogger;

/**
 * Paths redacted from every log line: payment signatures, authorizations, API keys and admin
 * tokens never reach a log, whatever a caller passes in.
 */
export const REDACT_PATHS = [
  "req.headers.authorization",
  "req.headers['payment-signature']",
  "req.headers['x-payment']",
  "headers.authorization",
  "headers['payment-signature']",
  "headers['x-payment']",
  "apiKey",
  "*.apiKey",
  "privateKey",
  "*.privateKey",
  "signature",
  "*.signature",
  "adminToken",
  "quoteSecret",
];

/** Longest message and stack kept per error in a log line. */
const MAX_ERROR_MESSAGE_CHARS = 500;
const MAX_STACK_FRAMES = 8;
const MAX_CAUSE_DEPTH = 3;

/**
 * The `err` field of a log line. pino's default serializer copies every enumerable property of
 * an error, and viem's errors carry the contract ABI, calldata and a multi-line description with
 * the RPC URL (26 KB for one reverted mint). Only the type, a short message (viem's
 * `shortMessage` where there is one), a code, a decoded revert reason, the top stack frames and
 * the causes' types and messages are kept.
 */
export function errorForLog(error: unknown, depth = 0): unknown {
  // A message passed as a string gets the same treatment: its first line (viem's later lines hold
  // the request, and the RPC URL with any key in it), capped.
  if (!(error instanceof Error)) return typeof error === "string" ? cap(error.split("\n")[0] ?? "") : error;
  const fields = error as { shortMessage?: unknown; code?: unknown; reason?: unknown; data?: { errorName?: unknown } };
  const message = cap(typeof fields.shortMessage === "string" && fields.shortMessage.length > 0 ? fields.shortMessage : (error.message.split("\n")[0] ?? ""));
  const reason = typeof fields.reason === "string" ? fields.reason : typeof fields.data?.errorName === "string" ? fields.data.errorName : undefined;
  const frames = depth > 0 ? [] : (error.stack ?? "").split("\n").filter((line) => line.trimStart().startsWith("at ")).slice(0, MAX_STACK_FRAMES);
  return {
    type: error.name,
    message,
    ...(typeof fields.code === "string" || typeof fields.code === "number" ? { code: fields.code } : {}),
    ...(reason === undefined ? {} : { reason: cap(reason) }),
    ...(frames.length > 0 ? { stack: frames.map((f) => f.trim()).join("\n") } : {}),
    ...(error.cause !== undefined && depth < MAX_CAUSE_DEPTH ? { cause: errorForLog(error.cause, depth + 1) } : {}),
  };
}

function cap(text: string): string {
  return text.length > MAX_ERROR_MESSAGE_CHARS ? `${text.slice(0, MAX_ERROR_MESSAGE_CHARS)}...` : text;
}

export function createLogger(options: { level: string; destination?: NodeJS.WritableStream }): Logger {
  return pino(
    {
      level: options.level,
      redact: { paths: REDACT_PATHS, censor: "[redacted]" },
      base: { service: "tollgate" },
      serializers: { err: (error: unknown) => errorForLog(error) },
    },
    options.destination ?? process.stdout,
  );
}
