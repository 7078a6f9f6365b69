import { createRequire } from "node:module";
import { z } from "zod";

/**
 * Token counts with the o200k_base encoding (GPT-4o, GPT-4.1, o-series). For other vendors'
 * models it is an estimate: close enough to quote a price and to stand in for a missing usage
 * block, never a substitute for the upstream's own count.
 *
 * The encoder is gpt-tokenizer's o200k_base: the same token ids as OpenAI's tiktoken (checked
 * against js-tiktoken in src/lib/tokenizer.test.ts), at about 60 MB of memory instead of
 * js-tiktoken's 170 MB and about six times faster per call here (bench/README.md).
 */

interface O200k {
  encode(text: string, options?: { disallowedSpecial?: Set<string> }): number[];
  decode(tokens: Iterable<number>): string;
}
const Encoder = z.custom<O200k>((v) => typeof v === "object" && v !== null && "encode" in v && "decode" in v);

// Loading the BPE tables takes a noticeable moment: load on first use (synchronously, through
// require) so importing this module stays cheap; servers call preloadTokenizer() at start so the
// first request does not pay for it either.
let encoder: O200k | undefined;

function o200k(): O200k {
  if (encoder === undefined) {
    const require = createRequire(import.meta.url);
    encoder = Encoder.parse(require("gpt-tokenizer/encoding/o200k_base"));
  }
  return encoder;
}

/** Load the encoder now rather than on the first count (once per process). */
export function preloadTokenizer(): void {
  o200k();
}

/** No special tokens: agent text may legitimately contain "<|endoftext|>"; it is counted as text. */
const NO_SPECIAL_TOKENS = new Set<string>();

/** Token ids of `text`. Special-token text (e.g. "<|endoftext|>") is counted, never refused. */
export function encodeTokens(text: string): number[] {
  return o200k().encode(text, { disallowedSpecial: NO_SPECIAL_TOKENS });
}

/** Text of token ids (inverse of encodeTokens). */
export function decodeTokens(tokens: number[]): string {
  return o200k().decode(tokens);
}

export function countTokens(text: string): number {
  return text.length === 0 ? 0 : encodeTokens(text).length;
}

/**
 * Per-message framing and reply primer, as in OpenAI's cookbook "How to count tokens with
 * tiktoken" for gpt-4o-era chat models: every message costs 3 tokens plus its fields, a `name`
 * costs 1 more, and every reply is primed with 3 (`<|start|>assistant<|message|>`).
 */
export const TOKENS_PER_MESSAGE = 3;
export const TOKENS_PER_NAME = 1;
export const REPLY_PRIMER_TOKENS = 3;

/**
 * Image parts: we never see the image's size here, so use OpenAI's documented vision figures:
 * a low-detail image costs a flat 85 tokens; high/auto detail costs 85 + 170 per 512px tile,
 * 765 for a 1024x1024 image (the documented example), which we use as the typical case.
 */
export const IMAGE_LOW_DETAIL_TOKENS = 85;
export const IMAGE_HIGH_DETAIL_TOKENS = 765;

const TextPart = z.object({ type: z.literal("text"), text: z.string() });
const ImagePart = z.object({
  type: z.literal("image_url"),
  image_url: z.object({ detail: z.string().optional() }).loose(),
});
const ToolCall = z
  .object({ function: z.object({ name: z.string(), arguments: z.string() }).loose() })
  .loose();
const ChatMessage = z
  .object({
    role: z.string(),
    content: z.union([z.string(), z.array(z.unknown()), z.null()]).optional(),
    name: z.string().optional(),
    tool_calls: z.array(ToolCall).optional(),
  })
  .loose();

function countPart(part: unknown): number {
  const text = TextPart.safeParse(part);
  if (text.success) return countTokens(text.data.text);
  const image = ImagePart.safeParse(part);
  if (image.success) {
    return image.data.image_url.detail === "low" ? IMAGE_LOW_DETAIL_TOKENS : IMAGE_HIGH_DETAIL_TOKENS;
  }
  // Audio, files and future part types: count their JSON so the estimate errs high, not at zero.
  return countTokens(JSON.stringify(part) ?? "");
}

function countMessage(message: unknown): number {
  const parsed = ChatMessage.safeParse(message);
  if (!parsed.success) return TOKENS_PER_MESSAGE + countTokens(JSON.stringify(message) ?? "");
  const { role, content, name, tool_calls: toolCalls } = parsed.data;
  let tokens = TOKENS_PER_MESSAGE + countTokens(role);
  if (typeof content === "string") tokens += countTokens(content);
  else if (Array.isArray(content)) for (const part of content) tokens += countPart(part);
  if (name !== undefined) tokens += TOKENS_PER_NAME + countTokens(name);
  for (const call of toolCalls ?? []) tokens += countTokens(call.function.name) + countTokens(call.function.arguments);
  return tokens;
}

/** Prompt tokens of an OpenAI `messages` array, framing and reply primer included. */
export function countMessageTokens(messages: readonly unknown[]): number {
  let tokens = REPLY_PRIMER_TOKENS;
  for (const message of messages) tokens += countMessage(message);
  return tokens;
}
