import type { CatalogIndex } from "../catalog/index.ts";
import type { ModelEntry } from "../catalog/schema.ts";
import type { Ledger } from "../ledger/types.ts";
import type { Logger } from "../lib/logger.ts";
import type { GatewayMetrics } from "../observability/metrics.ts";
import type { ChainReader } from "../payment/chain-reader.ts";
import type { Facilitator } from "../payment/facilitator.ts";
import type { BalanceOf } from "../payment/token-balance.ts";
import type { PaymentTerms } from "../payment/terms.ts";
import type { Provider } from "../providers/types.ts";
import type { HealthTracker } from "../routing/health.ts";
import type { BalancedWeights, TaskPreferences } from "../routing/strategies/types.ts";
import type { Strategy } from "../routing/types.ts";
import type { Settler } from "./settlement.ts";

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
  /** Chain reads that make settlement idempotent and prove each settlement by its Transfer. */
  chain: ChainReader;
  /** Token balances, to tell an agent refused for lack of funds what it holds. */
  balanceOf: BalanceOf;
  ledger: Ledger;
  /**
   * When a non-streamed call settles: before the response goes out (the receipt is in the
   * response; the agent waits for the chain) or after (faster; the receipt is in the ledger only).
   */
  settleTiming: "before_response" | "after_response";
  settler: Settler;
  /** The whole upstream part of a call (every attempt and retry, the stream included) must end within this. */
  upstreamDeadlineMs: number;
  pricing: PricingSettings;
  quoteSecret: string;
  defaultStrategy: Strategy;
  /** Operator routing settings: the `task` strategy's per-task preferences, the `balanced` weights. */
  routing: { taskPreferences: TaskPreferences; balancedWeights: BalancedWeights | undefined };
  /** Live latency, errors and circuit state per (model, provider), fed by every upstream attempt. */
  health: HealthTracker;
  /** Milliseconds since the epoch. */
  now(): number;
  logger: Logger;
  /** Where upstream timings and settlement outcomes are counted (observability/metrics.ts). */
  metrics: Pick<GatewayMetrics, "upstreamFirstByte" | "settlement">;
}
