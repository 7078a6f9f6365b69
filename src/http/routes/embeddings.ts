import { sendChallenge, setReceipt } from "../x402-response.ts";
import { Router, type Request, type Response } from "express";
import { runEmbeddings } from "../../call/paid-embeddings.ts";
import { atomicToUsd } from "../../lib/money.ts";
import type { AppDeps } from "../app-deps.ts";
import { jsonBody } from "../json-body.ts";
import { paidRequest } from "../paid-request.ts";

/** POST /v1/embeddings: OpenAI's embeddings API, paid per call like chat completions. */
export function embeddingRoutes(deps: AppDeps): Router {
  const router = Router();
  router.post("/v1/embeddings", jsonBody({ limitBytes: deps.maxBodyBytes }), async function embeddings(req: Request, res: Response) {
    const outcome = await runEmbeddings(deps, { ...paidRequest(req, res), body: req.body });
    res.setHeader("x-tollgate-model", outcome.model);
    res.setHeader("x-tollgate-task", "embedding");
    res.setHeader("x-tollgate-price", atomicToUsd(outcome.price));
    if (outcome.kind === "payment_required") {
      sendChallenge(res, outcome.challenge);
      return;
    }
    res.setHeader("x-tollgate-provider", outcome.provider);
    setReceipt(res, outcome.version, outcome.settlement);
    res.json(outcome.body);
  });
  return router;
}
