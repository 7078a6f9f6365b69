import { Router } from "express";
import { z } from "zod";
import type { CallRow, Ledger, SpendTotals } from "../../ledger/types.ts";
import { TollgateError } from "../../lib/errors.ts";
import { atomicToUsd } from "../../lib/money.ts";
import type { HealthTracker } from "../../routing/health.ts";
import { addressParam } from "../address-param.ts";
import { bearerAuth } from "../bearer-auth.ts";

const RecentLimit = z.coerce.number().int().min(0).max(500).default(20);

/** Operator views of spend per wallet, per model and per day. */
export function adminRoutes(options: { ledger: Ledger; adminToken: string | undefined; health: HealthTracker; now: () => number }): Router {
  const router = Router();
  router.use("/admin", bearerAuth({ token: options.adminToken }));

  router.get("/admin/wallets", async function listWallets(_req, res) {
    const wallets = await options.ledger.wallets();
    res.json({ data: wallets.map((w) => ({ wallet: w.wallet, lastCallAt: w.lastCallAt.toISOString(), ...totalsView(w) })) });
  });

  router.get("/admin/health", function healthTable(_req, res) {
    res.json({ data: Object.values(options.health.snapshot(options.now())) });
  });

  router.get("/admin/wallets/:address", async function showWallet(req, res) {
    const address = addressParam(req);
    const recent = RecentLimit.safeParse(req.query["recent"]);
    if (!recent.success) throw new TollgateError("invalid_request", "recent must be an integer from 0 to 500", { param: "recent" });
    const detail = await options.ledger.wallet(address, { recent: recent.data });
    if (detail === undefined) throw new TollgateError("not_found", `No calls recorded for wallet ${address}`, { param: "address" });
    res.json({
      wallet: detail.wallet,
      // Credit is owed to the wallet as calls, never paid out (README "Credit").
      credit: money(await options.ledger.creditBalance(address)),
      totals: totalsView(detail.totals),
      byModel: detail.byModel.map((m) => ({ model: m.model, ...totalsView(m) })),
      byDay: detail.byDay.map((d) => ({ day: d.day, ...totalsView(d) })),
      recent: detail.recent.map(callView),
    });
  });
  return router;
}

function totalsView(t: SpendTotals) {
  return {
    calls: t.calls,
    spent: { amount: t.spent.toString(), usd: atomicToUsd(t.spent) },
    upstreamCost: { amount: t.upstreamCost.toString(), usd: atomicToUsd(t.upstreamCost) },
    promptTokens: t.promptTokens,
    completionTokens: t.completionTokens,
  };
}

function money(atomic: bigint) {
  return { amount: atomic.toString(), usd: atomicToUsd(atomic) };
}

function callView(c: CallRow) {
  return {
    id: c.id,
    status: c.status,
    model: c.model,
    provider: c.provider,
    strategy: c.strategy,
    task: c.task,
    // `price` is the maximum signed, kept under its old name; `charged` is what settlement took.
    price: money(c.amount),
    maximum: money(c.amount),
    charged: c.status === "settled" ? money(c.charged ?? c.amount) : null,
    upstreamCost: c.upstreamCost === null ? null : money(c.upstreamCost),
    // What the usage cost (under exact the rest became credit) and the credit the call held.
    cost: c.cost === null ? null : money(c.cost),
    creditUsed: c.creditUsed === null ? null : money(c.creditUsed),
    promptTokens: c.promptTokens,
    completionTokens: c.completionTokens,
    cachedPromptTokens: c.cachedPromptTokens,
    reasoningTokens: c.reasoningTokens,
    usageEstimated: c.usageEstimated,
    txHash: c.txHash,
    latencyMs: c.latencyMs,
    ttftMs: c.ttftMs,
    error: c.error,
    createdAt: c.createdAt.toISOString(),
    settledAt: c.settledAt?.toISOString() ?? null,
  };
}
