import { atomicToUsd } from "../lib/money.ts";

/** x402 exact EVM facilitator reasons (@x402/evm exact/facilitator/errors.ts) for a payer without the funds. */
const INSUFFICIENT_FUNDS = new Set(["invalid_exact_evm_insufficient_balance", "permit2_insufficient_balance"]);

/** The longest part of a facilitator's own words passed on to the agent. */
const MAX_FACILITATOR_TEXT = 120;

export interface RejectionInput {
  /** The facilitator's `invalidReason`, a stable snake_case code. */
  reason: string;
  /** The facilitator's `invalidMessage`: free text, possibly a whole viem error with calldata and RPC URL. */
  invalidMessage: string | undefined;
  /** What the payment was for, atomic USDC. */
  amount: bigint;
  /** The payer's balance, read when the reason is a lack of funds; undefined skips it. */
  balance?: (() => Promise<bigint>) | undefined;
}

/**
 * The agent-facing message for a facilitator's refusal: short, and about what the agent can act
 * on. A lack of funds says the balance and the price ("balance 0.10 USDC, needs 0.35"); any
 * other reason carries at most the first line of the facilitator's text, without URLs.
 */
export async function describeRejection(input: RejectionInput): Promise<string> {
  const head = `The facilitator rejected the payment: ${input.reason}`;
  if (INSUFFICIENT_FUNDS.has(input.reason)) {
    const balance = input.balance === undefined ? undefined : await input.balance().catch(() => undefined);
    const needs = `needs ${atomicToUsd(input.amount)} USDC`;
    return `${head} (${balance === undefined ? `${needs}; the wallet holds less` : `balance ${atomicToUsd(balance)} USDC, ${needs}`})`;
  }
  const text = cleanse(input.invalidMessage);
  return text === "" ? head : `${head} (${text})`;
}

/** First line, no URLs (an RPC URL may hold a key), printable ASCII, capped. */
function cleanse(message: string | undefined): string {
  const line = (message ?? "").split(/\r?\n/)[0] ?? "";
  const clean = line
    .replace(/\b[a-z][a-z0-9+.-]*:\/\/\S+/gi, "[url]")
    .replace(/[^\x20-\x7e]/g, "")
    .trim();
  return clean.length > MAX_FACILITATOR_TEXT ? `${clean.slice(0, MAX_FACILITATOR_TEXT)}...` : clean;
}
