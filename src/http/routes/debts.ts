import { encodeX402Header } from "../../payment/encode-header.ts";
import { Router } from "express";
import { z } from "zod";
import type { CallDeps } from "../../call/deps.ts";
import { payDebt } from "../../call/pay-debt.ts";
import { TollgateError } from "../../lib/errors.ts";
import { atomicToUsd } from "../../lib/money.ts";
import { paidRequest } from "../paid-request.ts";

const WalletAddress = z.string().regex(/^0x[0-9a-fA-F]{40}$/);

/** POST /v1/debts/:address: what a wallet owes for reverted settlements, and paying it (x402). */
export function debtRoutes(deps: CallDeps): Router {
  const router = Router();
  router.post("/v1/debts/:address", async function debts(req, res) {
    const wallet = WalletAddress.safeParse(req.params["address"]);
    if (!wallet.success) throw new TollgateError("invalid_request", "address must be a 0x-prefixed 20-byte hex address", { param: "address" });
    const outcome = await payDebt(deps, { ...paidRequest(req, res), wallet: wallet.data as `0x${string}` });
    if (outcome.kind === "clear") {
      res.json({ wallet: wallet.data.toLowerCase(), owed: { amount: "0", usd: atomicToUsd(0n) }, calls: [] });
      return;
    }
    const owed = { amount: outcome.owed.toString(), usd: atomicToUsd(outcome.owed) };
    if (outcome.kind === "payment_required") {
      res.setHeader("PAYMENT-REQUIRED", encodeX402Header(outcome.challenge.header));
      res.status(402).json({ ...outcome.challenge.v1Body, owed, calls: outcome.calls });
      return;
    }
    res.setHeader(outcome.version === 2 ? "PAYMENT-RESPONSE" : "X-PAYMENT-RESPONSE", encodeX402Header(outcome.settlement));
    res.json({ wallet: wallet.data.toLowerCase(), paid: owed, calls: outcome.calls, transaction: outcome.settlement.transaction });
  });
  return router;
}
