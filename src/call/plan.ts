import { z } from "zod";
import { TollgateError } from "../lib/errors.ts";
import { priceCall } from "../payment/pricing.ts";
import { bodyHash } from "../payment/quote.ts";
import { analyse } from "../routing/analyse.ts";
import { decide } from "../routing/decide.ts";
import { EMPTY_HEALTH, type HealthSnapshot } from "../routing/health.ts";
import type { AgentLimits } from "../routing/limits.ts";
import type { BalancedWeights, TaskPreferences } from "../routing/strategies/types.ts";
import type { Analysis, Candidate, Decision, RankedCandidate } from "../routing/types.ts";
import { ChatRequest, findUnsoldField } from "./chat-request.ts";
import type { CallDeps } from "./deps.ts";
import { issueQuote } from "./payment-steps.ts";
import { refuseWithheld } from "./offered-model.ts";

/** A call analysed, routed and priced, before any payment: what the 402 and /v1/route show. */
export interface Plan {
  request: ChatRequest;
  analysis: Analysis;
  decision: Decision;
  candidates: [RankedCandidate, ...RankedCandidate[]];
  bodyHash: string;
  /** Signed quote for the primary candidate (payment/quote.ts). */
  quote: string;
  quoteExpiresAt: number;
  /** URL of the resource being paid for (x402 `resource`). */
  resourceUrl: string;
  /** The model id the request named, when it named one rather than a strategy. */
  explicitModel: string | undefined;
}

export function parseChatRequest(body: unknown): ChatRequest {
  // Before any price is offered: a field the price would not cover is refused while nothing is paid.
  const unsold = findUnsoldField(body);
  if (unsold !== undefined) throw new TollgateError("unsupported_parameter", unsold.message, { param: unsold.param });
  const parsed = ChatRequest.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const param = issue === undefined ? undefined : issue.path.map(String).join(".");
  const message = issue === undefined ? "Request body is invalid" : describeIssue(issue, param ?? "");
  throw new TollgateError("invalid_request", message, param === undefined || param === "" ? {} : { param });
}

function describeIssue(issue: z.core.$ZodIssue, param: string): string {
  if (issue.code === "invalid_type" && issue.input === undefined) return `'${param}' is required`;
  return param === "" ? issue.message : `'${param}': ${issue.message}`;
}

/** Per-call routing inputs from the edges: live health, the agent's limit headers, operator settings. */
export interface PlanRouting {
  health?: HealthSnapshot;
  limits?: AgentLimits;
  taskPreferences?: TaskPreferences;
  balancedWeights?: BalancedWeights;
}

/** The operator's routing settings as planCall takes them. */
export function routingSettings(deps: CallDeps): Pick<PlanRouting, "taskPreferences" | "balancedWeights"> {
  return {
    taskPreferences: deps.routing.taskPreferences,
    ...(deps.routing.balancedWeights === undefined ? {} : { balancedWeights: deps.routing.balancedWeights }),
  };
}

export function planCall(deps: CallDeps, body: unknown, resourceUrl: string, routing: PlanRouting = {}): Plan {
  const request = parseChatRequest(body);
  refuseWithheld(deps.catalog, request.model);
  if (deps.catalog.get(request.model)?.entry.kind === "embedding") {
    throw new TollgateError("invalid_request", `'${request.model}' is an embedding model; send it to POST /v1/embeddings`, { param: "model" });
  }
  // o200k is the bill of OpenAI-family models: count exactly when the agent named one.
  const analysis = analyse(request, { exactTokens: deps.catalog.get(request.model)?.entry.provider === "openai" });
  const decision = decide({
    analysis,
    requestedModel: request.model,
    defaultStrategy: deps.defaultStrategy,
    models: deps.catalog.ofKind("chat"),
    health: routing.health ?? EMPTY_HEALTH,
    limits: routing.limits ?? {},
    ...(routing.taskPreferences === undefined ? {} : { taskPreferences: routing.taskPreferences }),
    ...(routing.balancedWeights === undefined ? {} : { balancedWeights: routing.balancedWeights }),
    priceOf: (candidate: Candidate) => agentPrice(deps, candidate.model, analysis.inputTokens, candidate.outputCap),
  });
  // decide priced every candidate through priceOf; the plan shows those prices.
  const candidates = decision.candidates;
  const primary = candidates[0];
  const hash = bodyHash(body);
  const { quote, expiresAt: quoteExpiresAt } = issueQuote(deps, { bodyHash: hash, model: primary.model, amount: primary.price, cap: primary.outputCap });
  const explicitModel = decision.strategy === "explicit" ? request.model : undefined;
  return { request, analysis, decision, candidates, bodyHash: hash, quote, quoteExpiresAt, resourceUrl, explicitModel };
}

/** What the agent pays for a call on `model` (worst case, markup included), atomic USDC. */
export function agentPrice(deps: CallDeps, model: string, inputTokens: number, outputCap: number): bigint {
  return priceCall({ rates: deps.catalog.rates(model), inputTokens, outputCap, markupBps: deps.pricing.markupBps, minPrice: deps.pricing.minPrice });
}
