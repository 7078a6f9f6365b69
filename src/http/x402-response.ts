import type { SettleResponse } from "@x402/core/types";
import type { Response } from "express";
import type { Challenge } from "../payment/challenge.ts";
import { encodeX402Header, receiptHeaderName } from "../payment/encode-header.ts";

/** A 402: the v2 challenge in `PAYMENT-REQUIRED`, the v1 challenge as the body, plus `extra` fields. */
export function sendChallenge(res: Response, challenge: Challenge, extra: Record<string, unknown> = {}): void {
  res.setHeader("PAYMENT-REQUIRED", encodeX402Header(challenge.header));
  res.status(402).json({ ...challenge.v1Body, ...extra });
}

/** The settlement receipt, in the header of the payment's own x402 version. */
export function setReceipt(res: Response, version: 1 | 2, settlement: SettleResponse): void {
  res.setHeader(receiptHeaderName(version), encodeX402Header(settlement));
}
