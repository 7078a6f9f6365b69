import type { SettleResponse } from "@x402/core/types";
import type { ServerResponse } from "node:http";
import type { Challenge } from "../payment/challenge.ts";
import { encodeX402Header, receiptHeaderName } from "../payment/encode-header.ts";
import { sendJson } from "./send-json.ts";

/** A 402: the v2 challenge in `PAYMENT-REQUIRED`, the v1 challenge as the body, plus `extra` fields. */
export function sendChallenge(res: ServerResponse, challenge: Challenge, extra: Record<string, unknown> = {}): void {
  res.setHeader("PAYMENT-REQUIRED", encodeX402Header(challenge.header));
  sendJson(res, 402, { ...challenge.v1Body, ...extra });
}

/** The settlement receipt, in the header of the payment's own x402 version. */
export function setReceipt(res: ServerResponse, version: 1 | 2, settlement: SettleResponse): void {
  res.setHeader(receiptHeaderName(version), encodeX402Header(settlement));
}
