import { z } from "zod";

/**
 * The OpenAI chat-completions request body (platform.openai.com/docs/api-reference/chat/create)
 * as Tollgate takes it. The quote covers input tokens plus the output cap at list price, so only
 * fields whose cost that covers may reach an upstream (docs/request-fields.md):
 * - the fields of ChatRequest are parsed and handed to the provider adapter, which forwards or
 *   translates the ones its wire format has;
 * - UNSOLD fields make the upstream bill more than that (another tier, audio, per-call tools,
 *   several choices): anything but their default is refused before a price is offered;
 * - every other field is dropped: ChatRequest strips keys it does not name.
 */

const TextPart = z.object({ type: z.literal("text"), text: z.string() }).loose();
const ImagePart = z
  .object({ type: z.literal("image_url"), image_url: z.object({ url: z.string().min(1), detail: z.enum(["auto", "low", "high"]).optional() }).loose() })
  .loose();
const OtherPart = z.object({ type: z.string() }).loose();
export const ContentPart = z.union([TextPart, ImagePart, OtherPart]);

export const ChatMessage = z
  .object({
    role: z.enum(["system", "developer", "user", "assistant", "tool", "function"]),
    content: z.union([z.string(), z.array(ContentPart), z.null()]).optional(),
    name: z.string().optional(),
    tool_calls: z.array(z.unknown()).optional(),
    tool_call_id: z.string().optional(),
  })
  .loose();
export type ChatMessage = z.infer<typeof ChatMessage>;

/** Tools the model calls and the agent runs: their definitions are input tokens, nothing more. */
export const SOLD_TOOL_TYPES = ["function", "custom"] as const;

const Penalty = z.number().min(-2).max(2).nullish();

export const ChatRequest = z.object({
  model: z.string().min(1).default("auto"),
  messages: z.array(ChatMessage).min(1, "messages must contain at least one message"),
  max_tokens: z.int().positive().optional(),
  max_completion_tokens: z.int().positive().optional(),
  stream: z.boolean().optional(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).loose().nullable().optional(),
  temperature: z.number().min(0).max(2).optional(),
  top_p: z.number().min(0).max(1).optional(),
  stop: z.union([z.string(), z.array(z.string())]).nullish(),
  seed: z.int().nullish(),
  presence_penalty: Penalty,
  frequency_penalty: Penalty,
  logit_bias: z.record(z.string(), z.number().min(-100).max(100)).nullish(),
  // Log probabilities come back with the tokens already billed; OpenAI charges nothing extra.
  logprobs: z.boolean().nullish(),
  top_logprobs: z.int().min(0).max(20).nullish(),
  tools: z.array(z.object({ type: z.enum(SOLD_TOOL_TYPES) }).loose()).optional(),
  tool_choice: z.unknown().optional(),
  parallel_tool_calls: z.boolean().nullish(),
  response_format: z.object({ type: z.enum(["text", "json_object", "json_schema"]) }).loose().optional(),
  user: z.string().nullish(),
  safety_identifier: z.string().nullish(),
  // Both only steer how the model spends its output; the paid-for cap still bounds it (request-fields.md).
  reasoning_effort: z.string().min(1).nullish(),
  verbosity: z.string().min(1).nullish(),
});
export type ChatRequest = z.infer<typeof ChatRequest>;

const Null = z.null().optional();
const NoneListed = z.array(z.unknown()).max(0).nullish();

/**
 * OpenAI fields (and two of OpenRouter's) whose non-default values the upstream bills beyond the
 * quote. `allowed` is the default (absent, null, or its explicit value), which is then dropped.
 */
export const UNSOLD = {
  n: {
    allowed: z.literal(1).nullish(),
    why: "n > 1 generates, and bills, n choices; the price covers one. Send n: 1 or leave it out",
  },
  best_of: {
    allowed: z.literal(1).nullish(),
    why: "best_of > 1 generates, and bills, best_of completions on the servers that take it (OpenAI's legacy completions, vLLM)",
  },
  service_tier: {
    allowed: z.enum(["auto", "default"]).nullish(),
    why: 'only the standard tier is sold: "priority" and "scale" bill above the list price this call is quoted and settled at, "flex" below it. Send "auto" or "default", or leave it out',
  },
  modalities: {
    allowed: z.array(z.literal("text")).nullish(),
    why: 'audio output is billed at audio token rates the price does not cover; only ["text"] is sold',
  },
  audio: { allowed: Null, why: "audio output is billed at audio token rates the price does not cover" },
  prediction: {
    allowed: Null,
    why: "rejected prediction tokens are billed as completion tokens, and OpenAI does not say the output cap bounds them",
  },
  web_search_options: { allowed: Null, why: "web search is billed per search, on top of the tokens the price covers" },
  moderation: { allowed: Null, why: "it runs a moderation model over the input and output, which the price does not cover" },
  functions: { allowed: Null, why: "OpenAI deprecated functions in favour of tools; send tools" },
  function_call: { allowed: Null, why: "OpenAI deprecated function_call in favour of tool_choice; send tool_choice" },
  models: {
    allowed: NoneListed,
    why: "OpenRouter's fallback list would run the call on other models than the one quoted; Tollgate picks the model and its fallbacks",
  },
  plugins: {
    allowed: NoneListed,
    why: "OpenRouter plugins (web search, file parsing) are billed per use, on top of the tokens the price covers",
  },
} as const satisfies Record<string, { allowed: z.ZodType; why: string }>;

const FieldMap = z.record(z.string(), z.unknown());
const ToolTypes = z.array(z.object({ type: z.unknown() }).loose());

/** An UNSOLD field, or a tool the provider runs itself, with a value other than its default. */
export interface UnsoldField {
  param: string;
  message: string;
}

/**
 * The first field of `body` that asks for something the price does not cover, or undefined.
 * A body that is not an object has none: ChatRequest reports what is wrong with it.
 */
export function findUnsoldField(body: unknown): UnsoldField | undefined {
  const fields = FieldMap.safeParse(body);
  if (!fields.success) return undefined;
  for (const [field, rule] of Object.entries(UNSOLD)) {
    if (!(field in fields.data) || rule.allowed.safeParse(fields.data[field]).success) continue;
    return { param: field, message: `'${field}' ${shown(fields.data[field])} is not sold here: ${rule.why}` };
  }
  const tools = ToolTypes.safeParse(fields.data["tools"]);
  if (!tools.success) return undefined;
  const sold: readonly unknown[] = SOLD_TOOL_TYPES;
  const i = tools.data.findIndex((tool) => !sold.includes(tool.type));
  if (i < 0) return undefined;
  return {
    param: `tools.${i}.type`,
    message: `'tools.${i}.type' ${shown(tools.data[i]?.type)} is not sold here: tools the provider runs itself (web or browser search, code execution) are billed per use, on top of the tokens the price covers; only ${SOLD_TOOL_TYPES.map((t) => `"${t}"`).join(" and ")} tools are`,
  };
}

/** A short rendering of the offending value for the error message (agent input, so bounded). */
function shown(value: unknown): string {
  const json = JSON.stringify(value) ?? String(value);
  return json.length > 60 ? `${json.slice(0, 57)}...` : json;
}
