import { sendChallenge, setReceipt } from "../x402-response.ts";
import { Router } from "express";
import type { CallDeps } from "../../call/deps.ts";
import { payDebt } from "../../call/pay-debt.ts";
import { atomicToUsd } from "../../lib/money.ts";
import { addressParam } from "../address-param.ts";
import { paidRequest } from "../paid-request.ts";


/** POST /v1/debts/:address: what a wallet owes for reverted settlements, and paying it (x402). */
export function debtRoutes(deps: CallDeps): Router {
  const router = Router();
  router.post("/v1/debts/:address", async function debts(req, res) {
    const wallet = addressParam(req);
    const outcome = await payDebt(deps, { ...paidRequest(req, res), wallet });
    if (outcome.kind === "clear") {
      res.json({ wallet: wallet.toLowerCase(), owed: { amount: "0", usd: atomicToUsd(0n) }, calls: 0 });
      return;
    }
    const owed = { amount: outcome.owed.toString(), usd: atomicToUsd(outcome.owed) };
    if (outcome.kind === "payment_required") {
      sendChallenge(res, outcome.challenge, { owed, calls: outcome.calls });
      return;
    }
    setReceipt(res, outcome.version, outcome.settlement);
    res.json({ wallet: wallet.toLowerCase(), paid: owed, calls: outcome.calls, transaction: outcome.settlement.transaction });
  });
  return router;
}
