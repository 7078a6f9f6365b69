import { Router } from "express";
import { creditStatement } from "../../call/credit.ts";
import type { CallDeps } from "../../call/deps.ts";
import { atomicToUsd } from "../../lib/money.ts";
import { addressParam } from "../address-param.ts";
import { paidRequest } from "../paid-request.ts";
import { sendChallenge } from "../x402-response.ts";

/** GET /v1/credits/:address: a wallet's credit balance and latest movements, for its owner (sign-in-with-x). */
export function creditRoutes(deps: CallDeps): Router {
  const router = Router();
  router.get("/v1/credits/:address", async function credits(req, res) {
    const wallet = addressParam(req);
    const { headers, resourceUrl } = paidRequest(req, res);
    const outcome = await creditStatement(deps, { wallet, headers, resourceUrl });
    if (outcome.kind === "sign_in_required") {
      sendChallenge(res, outcome.challenge);
      return;
    }
    res.json({
      wallet: wallet.toLowerCase(),
      balance: { amount: outcome.balance.toString(), usd: atomicToUsd(outcome.balance) },
      asset: deps.terms.asset,
      network: deps.terms.network,
      note: "Credit pays for later calls from this wallet; it is not paid out on chain.",
      entries: outcome.entries.map((entry) => ({ call: entry.callId, kind: entry.kind, amount: entry.delta.toString(), usd: atomicToUsd(entry.delta), at: entry.at.toISOString() })),
    });
  });
  return router;
}
