import type { CatalogIndex } from "../catalog/index.ts";
import { TollgateError } from "../lib/errors.ts";

/**
 * Refuses a model the catalog lists but this gateway does not offer (its provider has no key and
 * no simulator stands in), before anything is routed or priced: no 402 for a call that cannot run.
 */
export function refuseWithheld(catalog: CatalogIndex, model: string): void {
  const entry = catalog.withheld(model);
  if (entry === undefined) return;
  throw new TollgateError(
    "model_not_offered",
    `The model '${model}' is not offered here: its provider ${entry.provider} is not configured on this gateway; GET /v1/models lists the models offered`,
    { param: "model" },
  );
}
