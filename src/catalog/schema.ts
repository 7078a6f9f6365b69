import { z } from "zod";

export const CAPABILITIES = ["tools", "vision", "json", "streaming", "reasoning"] as const;
export const Capability = z.enum(CAPABILITIES);
export type Capability = z.infer<typeof Capability>;

/** The task labels routing classifies requests into (DESIGN.md "Routing"); quality is scored per label. */
export const TASKS = ["code", "math", "reasoning", "summarization", "translation", "extraction", "classification", "creative", "qa", "chat"] as const;
export const Task = z.enum(TASKS);
export type Task = z.infer<typeof Task>;

/**
 * Defaults for entries without `quality` or `latency`, so a minimal custom catalog still loads
 * and routes: a middling quality for every task (such a model meets the cost strategy's bar
 * only on easy requests) and a slow-ish latency prior (it never wins on speed by accident).
 */
export const DEFAULT_QUALITY = 50;
export const DEFAULT_LATENCY = Object.freeze({ ttftMs: 1_000, tokensPerSecond: 50 });

const Score = z.number().min(0).max(100);

/** USD per 1M tokens as a decimal string (never a float: it becomes bigint atomic units). */
const UsdPerMTok = z.string().regex(/^\d+(\.\d{1,6})?$/, "USD per 1M tokens as a decimal string, at most 6 decimals");

export const ModelEntry = z.object({
  /** The id agents use, e.g. "gpt-4o-mini" or "claude-3-5-haiku-20241022". */
  id: z.string().min(1),
  /** Provider key: openai, anthropic, google, mistral, deepseek, groq, ... */
  provider: z.string().min(1),
  /**
   * Date the provider released the model (its announcement or general availability), what
   * GET /v1/models reports as `created`. Unset: the date its price was read (`pricing.asOf`).
   */
  released: z.iso.date().optional(),
  /** Id sent upstream when it differs from `id`. */
  upstreamId: z.string().min(1).optional(),
  /** Base URL for this entry's provider, overriding the provider preset. */
  baseUrl: z.url().optional(),
  pricing: z.object({
    inputPerMTok: UsdPerMTok,
    outputPerMTok: UsdPerMTok,
    cachedInputPerMTok: UsdPerMTok.optional(),
    /** Date the list price was read, and where. */
    asOf: z.iso.date(),
    source: z.url(),
  }),
  contextWindow: z.int().positive(),
  maxOutputTokens: z.int().positive(),
  /** Output cap used when a request sets no max_tokens (clamped to maxOutputTokens). */
  defaultMaxTokens: z.int().positive().optional(),
  capabilities: z.array(Capability),
  /** What the model does: chat completions (routed by /v1/chat/completions) or embeddings (/v1/embeddings). */
  kind: z.enum(["chat", "embedding"]).default("chat"),
  /** Length of an embedding model's vectors (its native size; a request's `dimensions` may ask for fewer). */
  dimensions: z.int().positive().optional(),
  /**
   * Prior quality per task, 0..100, hand-derived from public figures listed in
   * `qualitySources` (docs/model-quality.md shows the derivation). Tasks left out get
   * DEFAULT_QUALITY. Relative order matters more than the exact value.
   */
  quality: z.partialRecord(Task, Score).optional(),
  /** Where the quality figures come from (URLs or "name, date" citations). */
  qualitySources: z.array(z.string().min(1)).optional(),
  /**
   * Latency prior used until live health has samples: median time to first token and median
   * output speed, as published (e.g. by Artificial Analysis). Defaults to DEFAULT_LATENCY.
   */
  latency: z
    .object({
      ttftMs: z.number().positive(),
      tokensPerSecond: z.number().positive(),
      source: z.string().min(1).optional(),
    })
    .optional(),
});
export type ModelEntry = z.infer<typeof ModelEntry>;

/** When a model was released, as Unix seconds (OpenAI's `created`). */
export function createdAt(entry: ModelEntry): number {
  return Math.floor(Date.parse(entry.released ?? entry.pricing.asOf) / 1000);
}

export const Catalog = z
  .object({
    version: z.literal(1),
    models: z.array(ModelEntry).min(1),
  })
  .refine((c) => new Set(c.models.map((m) => m.id)).size === c.models.length, {
    message: "model ids must be unique",
    path: ["models"],
  })
  .superRefine((c, ctx) => {
    c.models.forEach((m, i) => {
      if (m.dimensions !== undefined && m.kind !== "embedding") {
        ctx.addIssue({ code: "custom", message: "only embedding models have dimensions", path: ["models", i, "dimensions"] });
      }
    });
  });
export type Catalog = z.infer<typeof Catalog>;
