import { z } from "zod";
import { ProviderError } from "./types.ts";

/**
 * The parts of an OpenAI chat-completions request (https://platform.openai.com/docs/api-reference/chat/create)
 * that the Anthropic and Gemini translators carry over, parsed strictly enough that a
 * translation never guesses. Fields outside this schema are not translated. Also which fields
 * an OpenAI-compatible upstream gets as they came (FORWARDED_FIELDS).
 */

export const TextPart = z.object({ type: z.literal("text"), text: z.string() }).loose();
export type TextPart = z.infer<typeof TextPart>;
const ImagePart = z
  .object({ type: z.literal("image_url"), image_url: z.object({ url: z.string().min(1), detail: z.string().optional() }).loose() })
  .loose();
/** An assistant turn may carry a refusal part instead of text (OpenAI's structured outputs). */
const RefusalPart = z.object({ type: z.literal("refusal"), refusal: z.string() }).loose();
/** Audio, files and later part types: parsed so the error can name them, never translated. */
const OtherPart = z.object({ type: z.string() }).loose();
export const ContentPart = z.union([TextPart, ImagePart, RefusalPart, OtherPart]);
export type ContentPart = z.infer<typeof ContentPart>;

const Content = z.union([z.string(), z.array(ContentPart)]);

export const ToolCall = z
  .object({
    id: z.string().min(1),
    type: z.literal("function"),
    function: z.object({ name: z.string().min(1), arguments: z.string() }).loose(),
  })
  .loose();
export type ToolCall = z.infer<typeof ToolCall>;

export const Message = z.discriminatedUnion("role", [
  z.object({ role: z.literal("system"), content: Content }).loose(),
  z.object({ role: z.literal("developer"), content: Content }).loose(),
  z.object({ role: z.literal("user"), content: Content }).loose(),
  z
    .object({
      role: z.literal("assistant"),
      content: Content.nullish(),
      tool_calls: z.array(ToolCall).nullish(),
      refusal: z.string().nullish(),
    })
    .loose(),
  z.object({ role: z.literal("tool"), tool_call_id: z.string().min(1), content: Content }).loose(),
]);
export type Message = z.infer<typeof Message>;

export const FunctionTool = z
  .object({
    type: z.literal("function"),
    function: z
      .object({
        name: z.string().min(1),
        description: z.string().optional(),
        parameters: z.record(z.string(), z.unknown()).optional(),
      })
      .loose(),
  })
  .loose();
export type FunctionTool = z.infer<typeof FunctionTool>;

export const ToolChoice = z.union([
  z.enum(["auto", "none", "required"]),
  z.object({ type: z.literal("function"), function: z.object({ name: z.string().min(1) }).loose() }).loose(),
]);
export type ToolChoice = z.infer<typeof ToolChoice>;

export const ResponseFormat = z.discriminatedUnion("type", [
  z.object({ type: z.literal("text") }).loose(),
  z.object({ type: z.literal("json_object") }).loose(),
  z
    .object({
      type: z.literal("json_schema"),
      json_schema: z.object({ name: z.string(), schema: z.record(z.string(), z.unknown()).optional() }).loose(),
    })
    .loose(),
]);
export type ResponseFormat = z.infer<typeof ResponseFormat>;

/**
 * The agent's fields an OpenAI-compatible upstream receives as they came (docs/request-fields.md);
 * every other field of the call body stays behind. The adapter itself sets `model`, the paid-for
 * output cap, `stream` and `stream_options`.
 */
export const FORWARDED_FIELDS = [
  "messages",
  "temperature",
  "top_p",
  "stop",
  "seed",
  "presence_penalty",
  "frequency_penalty",
  "logit_bias",
  "logprobs",
  "top_logprobs",
  "tools",
  "tool_choice",
  "parallel_tool_calls",
  "response_format",
  "user",
  "safety_identifier",
  "verbosity",
] as const;

/**
 * Forwarded only where the output cap goes out as `max_completion_tokens`, which OpenAI defines
 * as "an upper bound for the number of tokens that can be generated for a completion, including
 * visible output tokens and reasoning tokens" (API reference, chat/create). A server that only
 * knows `max_tokens` may not count reasoning against it: DeepSeek's reasoner guide once put
 * "up to 32K" chain-of-thought tokens outside `max_tokens`. There it is dropped.
 */
export const CAPPED_REASONING_FIELDS = ["reasoning_effort"] as const;

export const TranslatableRequest = z
  .object({
    messages: z.array(Message).min(1),
    max_tokens: z.int().positive(),
    temperature: z.number().nullish(),
    top_p: z.number().nullish(),
    stop: z.union([z.string(), z.array(z.string())]).nullish(),
    tools: z.array(FunctionTool).nullish(),
    tool_choice: ToolChoice.nullish(),
    parallel_tool_calls: z.boolean().nullish(),
    response_format: ResponseFormat.nullish(),
    user: z.string().nullish(),
  })
  .loose();
export type TranslatableRequest = z.infer<typeof TranslatableRequest>;

/**
 * A request the other wire format cannot carry. Retryable: nothing was sent, and another
 * candidate may speak OpenAI's format natively.
 */
export function untranslatable(provider: string, what: string): ProviderError {
  return new ProviderError(`${provider}: cannot translate the request: ${what}`, provider, undefined, true);
}

/** Parse the call body for translation; a shape we cannot read is an untranslatable request. */
export function readTranslatableRequest(provider: string, body: unknown): TranslatableRequest {
  const parsed = TranslatableRequest.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const where = issue === undefined || issue.path.length === 0 ? "body" : issue.path.map(String).join(".");
  throw untranslatable(provider, `${where}: ${issue?.message ?? "invalid"}`);
}

/** The text of a content value whose parts may only be text (system, developer and tool messages). */
export function textOnly(provider: string, content: string | readonly ContentPart[], where: string): string {
  if (typeof content === "string") return content;
  const texts: string[] = [];
  for (const part of content) {
    const text = TextPart.safeParse(part);
    if (!text.success) throw untranslatable(provider, `${where} may only hold text parts, found "${part.type}"`);
    texts.push(text.data.text);
  }
  return texts.join("\n");
}

/** `data:<media type>;base64,<data>` (RFC 2397) split into its parts; undefined for other URLs. */
export function parseDataUrl(url: string): { mediaType: string; data: string } | undefined {
  const match = /^data:([^;,]+)((?:;[^;,]+)*);base64,(.*)$/s.exec(url);
  if (match === null) return undefined;
  const [, mediaType, , data] = match;
  if (mediaType === undefined || data === undefined) return undefined;
  return { mediaType: mediaType.toLowerCase(), data };
}

/** True for the URLs an API can fetch itself. */
export function isHttpUrl(url: string): boolean {
  return /^https?:\/\//i.test(url);
}

/** The stop sequences of `stop`, whichever of its two shapes the agent used. */
export function stopSequences(stop: string | readonly string[] | null | undefined): string[] {
  if (stop === null || stop === undefined) return [];
  return typeof stop === "string" ? [stop] : [...stop];
}
