import { Router } from "express";
import type { CatalogIndex } from "../../catalog/index.ts";

/** GET /v1/models: the OpenAI list shape, extended with price, context window and capabilities. */
export function modelRoutes(catalog: CatalogIndex): Router {
  const router = Router();
  const body = {
    object: "list",
    data: [
      { id: "auto", object: "model", owned_by: "tollgate", description: "Tollgate picks the model with the default strategy; auto:cost, auto:quality, auto:balanced and auto:task pick one" },
      ...catalog.list().map((m) => ({
        id: m.id,
        object: "model",
        owned_by: m.provider,
        provider: m.provider,
        pricing: { usd_per_1m_input_tokens: m.pricing.inputPerMTok, usd_per_1m_output_tokens: m.pricing.outputPerMTok, as_of: m.pricing.asOf },
        context_window: m.contextWindow,
        max_output_tokens: m.maxOutputTokens,
        capabilities: m.capabilities,
        kind: m.kind,
      })),
    ],
  };
  router.get("/v1/models", function listModels(_req, res) {
    res.json(body);
  });
  return router;
}
