import { Router } from "express";
import type { CatalogIndex, IndexedModel } from "../../catalog/index.ts";
import { createdAt } from "../../catalog/schema.ts";
import type { PricingSettings } from "../../call/deps.ts";
import { refuseWithheld } from "../../call/offered-model.ts";
import { TollgateError } from "../../lib/errors.ts";
import { atomicToUsd, fineAtomicToUsd } from "../../lib/money.ts";

export interface ModelRoutesOptions {
  catalog: CatalogIndex;
  pricing: PricingSettings;
}

/**
 * A rate as the gateway charges it, `rate × (1 + markup)` in USD per 1M tokens. It may fall between
 * atomic units (the charge rounds up once, over the whole call), so it keeps 4 more decimals.
 */
function chargedRate(ratePerMTok: bigint, markupBps: number): string {
  return fineAtomicToUsd(ratePerMTok * BigInt(10_000 + markupBps), 4);
}

/**
 * One model in OpenAI's shape (`id`, `object`, `created`, `owned_by`), extended with what an agent
 * needs to choose: the list price and, beside it, the price it pays here (payment/pricing.ts:
 * rates with the markup, at least the minimum per call), context window and capabilities.
 */
function modelView({ entry, rates }: IndexedModel, pricing: PricingSettings) {
  return {
    id: entry.id,
    object: "model",
    created: createdAt(entry),
    owned_by: entry.provider,
    provider: entry.provider,
    kind: entry.kind,
    pricing: {
      usd_per_1m_input_tokens: entry.pricing.inputPerMTok,
      usd_per_1m_output_tokens: entry.pricing.outputPerMTok,
      ...(entry.pricing.cachedInputPerMTok === undefined ? {} : { usd_per_1m_cached_input_tokens: entry.pricing.cachedInputPerMTok }),
      as_of: entry.pricing.asOf,
      source: entry.pricing.source,
    },
    effective_pricing: {
      usd_per_1m_input_tokens: chargedRate(rates.inputPerMTok, pricing.markupBps),
      usd_per_1m_output_tokens: chargedRate(rates.outputPerMTok, pricing.markupBps),
      usd_per_1m_cached_input_tokens: chargedRate(rates.cachedInputPerMTok, pricing.markupBps),
      min_usd_per_call: atomicToUsd(pricing.minPrice),
      markup_bps: pricing.markupBps,
    },
    context_window: entry.contextWindow,
    max_output_tokens: entry.maxOutputTokens,
    ...(entry.dimensions === undefined ? {} : { dimensions: entry.dimensions }),
    capabilities: entry.capabilities,
  };
}

/** GET /v1/models and GET /v1/models/{id}: OpenAI's list and retrieve shapes, with prices, limits and capabilities. */
export function modelRoutes(options: ModelRoutesOptions): Router {
  const router = Router();
  const newest = Math.max(...options.catalog.list().map(createdAt));
  const auto = {
    id: "auto",
    object: "model",
    created: newest,
    owned_by: "tollgate",
    description: "Tollgate picks the model with the default strategy; auto:cost, auto:quality, auto:balanced and auto:task pick one",
  };
  const views = new Map<string, object>([["auto", auto], ...options.catalog.models().map((m) => [m.entry.id, modelView(m, options.pricing)] as const)]);
  const list = { object: "list", data: [...views.values()] };

  router.get("/v1/models", function listModels(_req, res) {
    res.json(list);
  });
  // `*id`: a custom catalog's ids may hold slashes (`meta-llama/Llama-3.3-70B`), sent raw or as %2F.
  router.get("/v1/models/*id", function retrieveModel(req, res) {
    const id = (req.params as { id: string[] }).id.join("/");
    const view = views.get(id);
    if (view !== undefined) {
      res.json(view);
      return;
    }
    refuseWithheld(options.catalog, id);
    throw new TollgateError("model_not_found", `The model '${id}' does not exist; GET /v1/models lists the models`, { param: "model" });
  });
  return router;
}
