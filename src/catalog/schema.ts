import { z } from "zod";

export const CAPABILITIES = ["tools", "vision", "json", "streaming", "reasoning"] as const;
export const Capability = z.enum(CAPABILITIES);
export type Capability = z.infer<typeof Capability>;

/** USD per 1M tokens as a decimal string (never a float: it becomes bigint atomic units). */
const UsdPerMTok = z.string().regex(/^\d+(\.\d{1,6})?$/, "USD per 1M tokens as a decimal string, at most 6 decimals");

export const ModelEntry = z.object({
  /** The id agents use, e.g. "gpt-4o-mini" or "claude-3-5-haiku-20241022". */
  id: z.string().min(1),
  /** Provider key: openai, anthropic, google, mistral, deepseek, groq, ... */
  provider: z.string().min(1),
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
});
export type ModelEntry = z.infer<typeof ModelEntry>;

export const Catalog = z
  .object({
    version: z.literal(1),
    models: z.array(ModelEntry).min(1),
  })
  .refine((c) => new Set(c.models.map((m) => m.id)).size === c.models.length, {
    message: "model ids must be unique",
    path: ["models"],
  });
export type Catalog = z.infer<typeof Catalog>;
