import { z } from "zod";
import type { CallRow, Ledger } from "../ledger/types.ts";
import { TollgateError } from "../lib/errors.ts";
import type { Logger } from "../lib/logger.ts";
import { readPaymentHeader, type PaymentHeaders } from "../payment/header.ts";
import type { GatewayMetrics, SchemeLabel } from "./metrics.ts";

/**
 * One structured info line per paid request, written when the request ends (a stream's after its
 * settlement): the call as the ledger holds it, or the refusal and its code. Fields are chosen,
 * never spread from a row or a request, so a payment payload, signature or key cannot slip in.
 */

export interface FinishedPaidRequest {
  /** Unset when the request was refused before it got an id (an unreadable body). */
  requestId: string | undefined;
  route: string;
  headers: PaymentHeaders;
  /** performance.now() when the request arrived. */
  startedAt: number;
  /** What the request failed with, if it did. */
  error: unknown;
}

export interface CallReportDeps {
  ledger: Pick<Ledger, "get">;
  logger: Logger;
  metrics: Pick<GatewayMetrics, "payment" | "upstreamCost">;
}

const StoredScheme = z.object({ requirements: z.object({ scheme: z.enum(["exact", "upto"]) }) });

/** The scheme a ledger row's payment was made under. */
export function schemeOfRow(row: Pick<CallRow, "payment">): SchemeLabel {
  try {
    const parsed = StoredScheme.safeParse(JSON.parse(row.payment));
    return parsed.success ? parsed.data.requirements.scheme : "unknown";
  } catch {
    return "unknown";
  }
}

/** The scheme a payment header names; `unknown` when it cannot be read. */
function schemeOfHeaders(headers: PaymentHeaders): SchemeLabel {
  try {
    const submission = readPaymentHeader(headers);
    if (submission === undefined) return "unknown";
    if (submission.method === "permit2") return "upto";
    const scheme = submission.version === 2 ? submission.accepted.scheme : submission.scheme;
    return scheme === "exact" || scheme === "upto" ? scheme : "unknown";
  } catch {
    return "unknown";
  }
}

/** Whether the request carried a payment at all (an unpaid request gets a 402, not a report). */
export function carriesPayment(headers: PaymentHeaders): boolean {
  return headers["payment-signature"] !== undefined || headers["x-payment"] !== undefined;
}

export async function reportPaidRequest(deps: CallReportDeps, request: FinishedPaidRequest): Promise<void> {
  const totalMs = Math.round(performance.now() - request.startedAt);
  const code = request.error === undefined ? undefined : request.error instanceof TollgateError ? request.error.code : "internal_error";
  const row = request.requestId === undefined ? undefined : await deps.ledger.get(request.requestId);
  // No row, or one released before serving: the payment was refused and nothing was charged.
  if (row === undefined || row.status === "released") {
    const scheme = row === undefined ? schemeOfHeaders(request.headers) : schemeOfRow(row);
    deps.metrics.payment(scheme, "refused");
    deps.logger.info(
      { event: "payment_refused", requestId: request.requestId, route: request.route, scheme, code, wallet: row?.payer, model: row?.model, ms: { total: totalMs } },
      "payment refused",
    );
    return;
  }
  const scheme = schemeOfRow(row);
  deps.metrics.payment(scheme, row.status);
  if (row.provider !== null && row.upstreamCost !== null) deps.metrics.upstreamCost(row.provider, row.upstreamCost);
  deps.logger.info(
    {
      event: "call",
      requestId: row.id,
      route: request.route,
      wallet: row.payer,
      model: row.model,
      provider: row.provider,
      scheme,
      // Atomic units as decimal strings: `price` is the maximum signed, `charged` what settlement takes.
      price: row.amount.toString(),
      charged: row.charged?.toString() ?? null,
      upstreamCost: row.upstreamCost?.toString() ?? null,
      status: row.status,
      tx: row.txHash,
      ...(code === undefined ? {} : { code }),
      ms: {
        total: totalMs,
        upstream: row.latencyMs,
        ttft: row.ttftMs,
        settle: row.settledAt !== null && row.servedAt !== null ? row.settledAt.getTime() - row.servedAt.getTime() : null,
      },
    },
    "paid call",
  );
}
