import type { SettleResponse } from "@x402/core/types";
import type { ServerResponse } from "node:http";
import type { Challenge } from "../payment/challenge.ts";
import { encodeX402Header, receiptHeaderName } from "../payment/encode-header.ts";
import { sendJson } from "./send-json.ts";

/** Set by createApp on every response of a gateway whose answers may be simulated while it takes real money. */
export const SIMULATED_HEADER = "x-tollgate-simulated";

const SIMULATED_NOTE =
  "This is a staging gateway (SIMULATOR=on): the answer may come from a simulator, not the model named, and the payment is real";

/**
 * A 402: the v2 challenge in `PAYMENT-REQUIRED`, the v1 challenge as the body, plus `extra`
 * fields; on a simulating gateway (its header already set) the body says so too.
 */
export function sendChallenge(res: ServerResponse, challenge: Challenge, extra: Record<string, unknown> = {}): void {
  res.setHeader("PAYMENT-REQUIRED", encodeX402Header(challenge.header));
  const simulated = res.getHeader(SIMULATED_HEADER) === "true" ? { simulated: SIMULATED_NOTE } : {};
  sendJson(res, 402, { ...challenge.v1Body, ...extra, ...simulated });
}

/** The settlement receipt, in the header of the payment's own x402 version. */
export function setReceipt(res: ServerResponse, version: 1 | 2, settlement: SettleResponse): void {
  res.setHeader(receiptHeaderName(version), encodeX402Header(settlement));
}
