import type { Request, Response } from "express";
import { newRequestId } from "../call/paid-chat.ts";
import type { PaymentHeaders } from "../payment/header.ts";

/** What every paid endpoint takes from its HTTP request before handing it to call/. */
export interface PaidRequest {
  requestId: string;
  /** The x402 `resource`: the URL being paid for. */
  resourceUrl: string;
  headers: PaymentHeaders;
  /** Aborted when the agent goes away before the response is finished. */
  signal: AbortSignal;
}

export function paidRequest(req: Request, res: Response): PaidRequest {
  const requestId = newRequestId();
  res.setHeader("x-tollgate-request-id", requestId);
  const controller = new AbortController();
  res.on("close", () => {
    if (!res.writableFinished) controller.abort();
  });
  return {
    requestId,
    resourceUrl: resourceUrl(req),
    headers: { "payment-signature": req.headers["payment-signature"], "x-payment": req.headers["x-payment"] },
    signal: controller.signal,
  };
}

export function resourceUrl(req: Request): string {
  return `${req.protocol}://${req.get("host") ?? "localhost"}${req.originalUrl}`;
}
