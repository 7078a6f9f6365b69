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

export function createLogger(options: { level: string; destination?: NodeJS.WritableStream }): Logger {
  return pino(
    { level: options.level, redact: { paths: REDACT_PATHS, censor: "[redacted]" }, base: { service: "tollgate" } },
    options.destination ?? process.stdout,
  );
}
