import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { z } from "zod";
import { BytePairEncoder } from "./byte-pair-encoder.ts";

/**
 * Token counts with the o200k_base encoding (GPT-4o, GPT-4.1, o-series). For other vendors'
 * models it is an estimate: close enough to quote a price and to stand in for a missing usage
 * block, never a substitute for the upstream's own count.
 *
 * The ranks are OpenAI's o200k_base.tiktoken file (as shipped in gpt-tokenizer's data/), held by
 * lib/byte-pair-encoder.ts in typed arrays: about 6 MB, where gpt-tokenizer's own encoder cost
 * about 60 MB of RSS (bench/README.md). The token ids are checked against js-tiktoken (a port of
 * OpenAI's tiktoken) in src/lib/tokenizer.test.ts.
 */

/** o200k_base's pre-tokenisation pattern, as in tiktoken's tiktoken_ext/openai_public.py. */
const O200K_SPLIT = new RegExp(
  [
    String.raw`[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?`,
    String.raw`[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?`,
    String.raw`\p{N}{1,3}`,
    String.raw` ?[^\s\p{L}\p{N}]+[\r\n/]*`,
    String.raw`\s*[\r\n]+`,
    String.raw`\s+(?!\S)`,
    String.raw`\s+`,
  ].join("|"),
  "gu",
);

// Reading the ranks takes a noticeable moment (~0.1 s): load on first use so importing this
// module stays cheap; servers call preloadTokenizer() at start so the first request does not pay.
let encoder: BytePairEncoder | undefined;

function o200k(): BytePairEncoder {
  if (encoder === undefined) {
    const ranksPath = createRequire(import.meta.url).resolve("gpt-tokenizer/data/o200k_base.tiktoken");
    encoder = new BytePairEncoder(readFileSync(ranksPath), O200K_SPLIT);
  }
  return encoder;
}

/** Load the encoder now rather than on the first count (once per process). */
export function preloadTokenizer(): void {
  o200k();
}

/** Steps the o200k encoder has taken in this process (BytePairEncoder#work): a count of work, not of time. */
export function tokenizerWork(): number {
  return o200k().work;
}

/** Token ids of `text`. Special-token text (e.g. "<|endoftext|>") is counted as text, never refused. */
export function encodeTokens(text: string): number[] {
  return o200k().encode(text);
}

/** Text of token ids (inverse of encodeTokens). */
export function decodeTokens(tokens: number[]): string {
  return o200k().decode(tokens);
}

export function countTokens(text: string): number {
  return text.length === 0 ? 0 : o200k().count(text, Infinity).tokens;
}

/**
 * Steps of exact counting one request may spend (BytePairEncoder#work): at most ~35 ms of CPU on
 * the shared 2-core development machine, whatever the text. That covers about 220 KB of ordinary
 * prose, code or JSON (~55k tokens), and 20-120 KB of text built to be slow (no spaces, one
 * letter repeated, emoji, mixed scripts). bench/README.md, "Bounded work per request", has the
 * figures.
 */
export const EXACT_COUNT_STEPS = 1_000_000;

/**
 * One request's allowance of exact o200k counting, shared by every text it counts. While it
 * lasts, counts are exact; once it runs out, each byte not yet counted counts as a token. Every
 * o200k token is at least one byte, so a count past the allowance can only err high: it feeds
 * context checks and worst-case prices, and a price must never fall short of the real bill.
 * Why not the fast estimate instead: it is calibrated on ordinary text, and text built to be
 * expensive makes it fall short (random letters: 0.5x, Latin Extended: 0.2x the o200k count).
 */
export class TokenBudget {
  #left: number;
  #exact = true;

  constructor(steps: number) {
    this.#left = steps;
  }

  /** Whether every count so far was exact. */
  get exact(): boolean {
    return this.#exact;
  }

  /** o200k tokens of `text`, exact while the allowance lasts, an upper bound after. */
  count(text: string): number {
    if (text.length === 0) return 0;
    if (this.#left <= 0) {
      this.#exact = false;
      return Buffer.byteLength(text);
    }
    const encoder = o200k();
    const before = encoder.work;
    const counted = encoder.count(text, this.#left);
    this.#left -= encoder.work - before;
    if (!counted.exact) {
      this.#exact = false;
      this.#left = 0;
    }
    return counted.tokens;
  }
}

const UNLIMITED_STEPS = Number.POSITIVE_INFINITY;

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

function countPart(part: unknown, budget: TokenBudget): number {
  const text = TextPart.safeParse(part);
  if (text.success) return budget.count(text.data.text);
  const image = ImagePart.safeParse(part);
  if (image.success) {
    return image.data.image_url.detail === "low" ? IMAGE_LOW_DETAIL_TOKENS : IMAGE_HIGH_DETAIL_TOKENS;
  }
  // Audio, files and future part types: count their JSON so the estimate errs high, not at zero.
  return budget.count(JSON.stringify(part) ?? "");
}

function countMessage(message: unknown, budget: TokenBudget): number {
  const parsed = ChatMessage.safeParse(message);
  if (!parsed.success) return TOKENS_PER_MESSAGE + budget.count(JSON.stringify(message) ?? "");
  const { role, content, name, tool_calls: toolCalls } = parsed.data;
  let tokens = TOKENS_PER_MESSAGE + budget.count(role);
  if (typeof content === "string") tokens += budget.count(content);
  else if (Array.isArray(content)) for (const part of content) tokens += countPart(part, budget);
  if (name !== undefined) tokens += TOKENS_PER_NAME + budget.count(name);
  for (const call of toolCalls ?? []) tokens += budget.count(call.function.name) + budget.count(call.function.arguments);
  return tokens;
}

/**
 * Prompt tokens of an OpenAI `messages` array, framing and reply primer included. Exact unless
 * a `budget` is given and runs out (TokenBudget), in which case the figure errs high.
 */
export function countMessageTokens(messages: readonly unknown[], budget = new TokenBudget(UNLIMITED_STEPS)): number {
  let tokens = REPLY_PRIMER_TOKENS;
  for (const message of messages) tokens += countMessage(message, budget);
  return tokens;
}
