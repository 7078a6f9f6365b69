import type { SettleResponse } from "@x402/core/types";
import { z } from "zod";
import type { IndexedModel } from "../catalog/index.ts";
import { TollgateError, messageOf } from "../lib/errors.ts";
import { estimateTokens } from "../lib/token-estimate.ts";
import { EXACT_COUNT_STEPS, TokenBudget } from "../lib/tokenizer.ts";
import type { Challenge } from "../payment/challenge.ts";
import { readPaymentHeader, type PaymentHeaders } from "../payment/header.ts";
import type { Offer } from "../payment/offer.ts";
import { bodyHash } from "../payment/quote.ts";
import { ProviderError } from "../providers/types.ts";
import type { CallDeps } from "./deps.ts";
import { payWithCredit } from "./credit.ts";
import { acceptFor, makeOffer, openPaidCall, type AdmitPayer, type PaidCall } from "./paid-call.ts";
import { agentPrice } from "./plan.ts";
import { withUsageCost, type CallCost } from "./usage-cost.ts";
import { refuseWithheld } from "./offered-model.ts";

/** OpenAI's embeddings request (platform.openai.com/docs/api-reference/embeddings/create), text inputs. */
export const EmbeddingsRequest = z
  .object({
    model: z.string().min(1).default("auto"),
    input: z.union([z.string().min(1), z.array(z.string().min(1)).min(1).max(2048)]),
    encoding_format: z.enum(["float", "base64"]).optional(),
    dimensions: z.int().positive().optional(),
    user: z.string().optional(),
  })
  .strict();

export type EmbeddingsOutcome =
  | { kind: "payment_required"; offer: Offer; challenge: Challenge; model: string; price: bigint }
  | { kind: "completed"; body: Record<string, unknown>; model: string; provider: string; price: bigint; cost: CallCost; settlement: SettleResponse | undefined; version: 1 | 2 };

/**
 * Embeddings, priced, paid and recorded like chat calls: price = input tokens at the model's
 * input rate plus markup. `auto` picks the cheapest embedding model. There is no failover to
 * another model: vectors from different models live in different spaces.
 */
export async function runEmbeddings(
  deps: CallDeps,
  input: { body: unknown; headers: PaymentHeaders; resourceUrl: string; requestId: string; signal: AbortSignal; admitPayer?: AdmitPayer | undefined },
): Promise<EmbeddingsOutcome> {
  const parsed = EmbeddingsRequest.safeParse(input.body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    // The schema is strict: OpenAI's embeddings request has no other field, and a field it does not know is never forwarded.
    const unknownKey = issue?.code === "unrecognized_keys" ? issue.keys[0] : undefined;
    const param = unknownKey ?? (issue?.path.join(".") || "body");
    throw new TollgateError("invalid_request", `'${param}': ${issue?.message ?? "invalid"}`, { param });
  }
  const request = parsed.data;
  const model = pickModel(deps, request.model);
  const native = model.entry.dimensions;
  if (request.dimensions !== undefined && native !== undefined && request.dimensions > native) {
    // The upstream refuses it too; refused here, before a 402, nobody signs for a call that cannot run.
    throw new TollgateError("invalid_request", `'dimensions': ${request.dimensions} is more than ${model.entry.id}'s ${native}`, { param: "dimensions" });
  }
  const texts = [request.input].flat();
  // One counting allowance for the whole request (lib/tokenizer.ts TokenBudget), so an unpaid
  // batch near MAX_BODY_BYTES costs tens of ms, not seconds. Past it a count is an upper bound:
  // right for the price, too high to refuse an input for length on, so that is judged on the
  // estimate when it is lower (routing/input-tokens.ts explains the same choice for chat).
  const budget = new TokenBudget(EXACT_COUNT_STEPS);
  let inputTokens = 0;
  for (const text of texts) {
    const tokens = budget.count(text);
    inputTokens += tokens;
    const length = budget.exact ? tokens : Math.min(tokens, estimateTokens(text));
    if (length > model.entry.contextWindow) {
      const size = budget.exact ? `${length} tokens` : `about ${length} tokens (estimated: too long to count exactly before payment)`;
      throw new TollgateError("context_length_exceeded", `an input has ${size}, more than ${model.entry.id}'s ${model.entry.contextWindow}`, { param: "input" });
    }
  }
  const price = agentPrice(deps, model.entry.id, inputTokens, 0);
  const { quoteExpiresAt: _, ...offer } = makeOffer(deps, {
    amount: price,
    bodyHash: bodyHash(input.body),
    model: model.entry.id,
    outputCap: 1,
    // `auto` resolves to one model for a given catalog; a quote for another never pays for this body.
    explicitModel: model.entry.id,
    resourceUrl: input.resourceUrl,
    description: `Embeddings of ${texts.length} input(s), ${inputTokens} tokens, on ${model.entry.id}`,
  });

  const submission = readPaymentHeader(input.headers);
  const labels = { strategy: request.model === "auto" ? "cost" : "explicit", task: "embedding" };
  let call: PaidCall;
  if (submission === undefined) {
    // No payment: a 402, unless a signed-in wallet's credit pays for the call (call/credit.ts).
    const outcome = await payWithCredit(deps, { headers: input.headers, offer, requestId: input.requestId, labels, admitPayer: input.admitPayer });
    if (outcome.kind === "payment_required") return { kind: "payment_required", offer, challenge: outcome.challenge, model: model.entry.id, price };
    call = outcome.call;
  } else {
    call = await openPaidCall(deps, { paid: await acceptFor(deps, offer, submission), requestId: input.requestId, labels, refuseDebtors: true, admitPayer: input.admitPayer });
  }

  const provider = deps.providers.providerFor(model.entry);
  const started = performance.now();
  let result;
  try {
    if (provider.embed === undefined) throw new ProviderError(`${provider.id} has no embeddings endpoint`, provider.id, undefined, false);
    result = await provider.embed({ model: model.entry, body: { ...request, model: model.entry.upstreamId ?? model.entry.id }, signal: input.signal });
    deps.health.record({ model: model.entry.id, provider: model.entry.provider, ok: true, latencyMs: performance.now() - started, now: deps.now() });
  } catch (error) {
    deps.health.record({ model: model.entry.id, provider: model.entry.provider, ok: false, now: deps.now() });
    const message = messageOf(error);
    await call.failed(message);
    throw new TollgateError("upstream_error", `The embeddings call failed (${message}); you were not charged`, { cause: error });
  }
  const cost = await call.served({ provider: result.provider, rates: deps.catalog.rates(model.entry.id), usage: result.usage, latencyMs: Math.round(performance.now() - started) });
  const settlement = await call.settle();
  return { kind: "completed", body: withUsageCost(result.body, cost, deps.terms), model: model.entry.id, provider: result.provider, price, cost, settlement, version: call.paid.version };
}

function pickModel(deps: CallDeps, requested: string): IndexedModel {
  const embeddings = deps.catalog.ofKind("embedding");
  if (requested === "auto") {
    const cheapest = [...embeddings].sort((a, b) => (a.rates.inputPerMTok < b.rates.inputPerMTok ? -1 : a.rates.inputPerMTok > b.rates.inputPerMTok ? 1 : 0))[0];
    if (cheapest === undefined) throw new TollgateError("no_model_available", "The catalog has no embedding model");
    return cheapest;
  }
  refuseWithheld(deps.catalog, requested);
  const model = deps.catalog.get(requested);
  if (model === undefined) throw new TollgateError("model_not_found", `The model '${requested}' does not exist; GET /v1/models lists the models`, { param: "model" });
  if (model.entry.kind !== "embedding") throw new TollgateError("invalid_request", `'${requested}' is not an embedding model`, { param: "model" });
  return model;
}
