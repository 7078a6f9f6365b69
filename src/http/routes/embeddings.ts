import type { IncomingMessage, ServerResponse } from "node:http";
import { runEmbeddings } from "../../call/paid-embeddings.ts";
import { atomicToUsd } from "../../lib/money.ts";
import type { AppDeps } from "../app-deps.ts";
import type { DirectRoute, RouteLimits } from "../direct-routes.ts";
import { setCostHeaders } from "../headers.ts";
import { readJsonBody } from "../json-body.ts";
import { paidRequest } from "../paid-request.ts";
import { sendJson } from "../send-json.ts";
import { sendChallenge, setReceipt } from "../x402-response.ts";

/** POST /v1/embeddings: OpenAI's embeddings API, paid per call like chat completions. */
export function embeddingRoutes(deps: AppDeps): Record<string, DirectRoute> {
  async function embeddings(req: IncomingMessage, res: ServerResponse, { admitPayer }: RouteLimits): Promise<void> {
    const body = await readJsonBody(req, deps.maxBodyBytes);
    const outcome = await runEmbeddings(deps, { ...paidRequest(req, res, admitPayer), body });
    res.setHeader("x-tollgate-model", outcome.model);
    res.setHeader("x-tollgate-task", "embedding");
    res.setHeader("x-tollgate-price", atomicToUsd(outcome.price));
    if (outcome.kind === "payment_required") {
      sendChallenge(res, outcome.challenge);
      return;
    }
    res.setHeader("x-tollgate-provider", outcome.provider);
    setCostHeaders(res, outcome.cost);
    if (outcome.settlement !== undefined) setReceipt(res, outcome.version, outcome.settlement);
    sendJson(res, 200, outcome.body);
  }
  return { "/v1/embeddings": embeddings };
}
