import type { SettleResponse } from "@x402/core/types";
import type { ServerResponse } from "node:http";
import type { Challenge } from "../payment/challenge.ts";
import { atomicToUsd } from "../lib/money.ts";
import { encodeX402Header, receiptHeaderName } from "../payment/encode-header.ts";
import { sendJson } from "./send-json.ts";

/** Set by createApp on every response of a gateway whose answers may be simulated while it takes real money. */
export const SIMULATED_HEADER = "x-tollgate-simulated";

const SIMULATED_NOTE =
  "This is a staging gateway (SIMULATOR=on): the answer may come from a simulator, not the model named, and the payment is real";

/** Where the README shows, per client library, how an agent pays (there is no public URL for it yet). */
export const PAYING_DOCS = "README.md#use-it-from-your-agent";

/**
 * The 402 body's `error`, for a client that does not speak x402 and shows it as the error message
 * (the openai SDK prints `402 "<error>"`): what is asked, and how to pay it. It stays a string, as
 * x402 v1 clients parse it (transports-v1 http.md, PaymentRequiredResponse).
 */
export function howToPay(challenge: Challenge): string {
  const offer = challenge.header.accepts[0];
  const price = offer === undefined ? "" : ` (at most ${atomicToUsd(BigInt(offer.amount))} USD in ${offer.network} USDC)`;
  return (
    `${challenge.v1Body.error}${price}. This endpoint is paid per call with x402: send it through an x402 client ` +
    `(@x402/fetch or @x402/axios wrapping your HTTP client), which reads the PAYMENT-REQUIRED header, signs the payment ` +
    `with your wallet and sends the request again with PAYMENT-SIGNATURE. How, for the openai client, the AI SDK and LangChain: ${PAYING_DOCS}`
  );
}

/**
 * A 402: the v2 challenge in `PAYMENT-REQUIRED`, the v1 challenge as the body (its `error` saying
 * how to pay), plus `extra` fields; on a simulating gateway (its header already set) the body says so too.
 */
export function sendChallenge(res: ServerResponse, challenge: Challenge, extra: Record<string, unknown> = {}): void {
  res.setHeader("PAYMENT-REQUIRED", encodeX402Header(challenge.header));
  const simulated = res.getHeader(SIMULATED_HEADER) === "true" ? { simulated: SIMULATED_NOTE } : {};
  sendJson(res, 402, { ...challenge.v1Body, error: howToPay(challenge), ...extra, ...simulated });
}

/** The settlement receipt, in the header of the payment's own x402 version. */
export function setReceipt(res: ServerResponse, version: 1 | 2, settlement: SettleResponse): void {
  res.setHeader(receiptHeaderName(version), encodeX402Header(settlement));
}
