import type { IncomingMessage, ServerResponse } from "node:http";
import type { TLSSocket } from "node:tls";
import type { AdmitPayer } from "../call/paid-call.ts";
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
  /** The paying wallet's rate limit, when one applies (http/rate-limit.ts). */
  admitPayer: AdmitPayer | undefined;
}

export function paidRequest(req: IncomingMessage, res: ServerResponse, admitPayer?: AdmitPayer): PaidRequest {
  const requestId = newRequestId();
  res.setHeader("x-tollgate-request-id", requestId);
  const controller = new AbortController();
  res.on("close", () => {
    if (!res.writableFinished) controller.abort();
  });
  return {
    requestId,
    resourceUrl: resourceUrl(req),
    headers: { "payment-signature": req.headers["payment-signature"], "x-payment": req.headers["x-payment"], "sign-in-with-x": req.headers["sign-in-with-x"] },
    signal: controller.signal,
    admitPayer,
  };
}

/** The URL the agent asked for, as it named it (Host header; no proxy headers are trusted). */
export function resourceUrl(req: IncomingMessage): string {
  const scheme = (req.socket as Partial<TLSSocket>).encrypted === true ? "https" : "http";
  return `${scheme}://${req.headers.host ?? "localhost"}${req.url ?? "/"}`;
}
