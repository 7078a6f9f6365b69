import type { CatalogIndex } from "../catalog/index.ts";
import type { ModelEntry } from "../catalog/schema.ts";
import type { Ledger } from "../ledger/types.ts";
import type { Logger } from "../lib/logger.ts";
import type { Facilitator } from "../payment/facilitator.ts";
import type { PaymentTerms } from "../payment/terms.ts";
import type { Provider } from "../providers/types.ts";
import type { Strategy } from "../routing/types.ts";

export interface PricingSettings {
  markupBps: number;
  minPrice: bigint;
}

/** Everything the paid-call pipeline needs, injected; no module here reads globals. */
export interface CallDeps {
  catalog: CatalogIndex;
  providers: { providerFor(model: ModelEntry): Provider };
  terms: PaymentTerms;
  facilitator: Facilitator;
  ledger: Ledger;
  pricing: PricingSettings;
  quoteSecret: string;
  defaultStrategy: Strategy;
  /** Milliseconds since the epoch. */
  now(): number;
  logger: Logger;
}
