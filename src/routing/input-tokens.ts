import type { ChatMessage, ChatRequest } from "../call/chat-request.ts";
import { estimateTokens } from "../lib/token-estimate.ts";
import {
  countMessageTokens,
  EXACT_COUNT_STEPS,
  IMAGE_HIGH_DETAIL_TOKENS,
  IMAGE_LOW_DETAIL_TOKENS,
  REPLY_PRIMER_TOKENS,
  TOKENS_PER_MESSAGE,
  TOKENS_PER_NAME,
  TokenBudget,
} from "../lib/tokenizer.ts";
import type { Analysis } from "./types.ts";

/**
 * Prompts up to this many characters are counted exactly with o200k whatever the model: the BPE
 * costs about 2.5 µs per token, so 1,200 characters (~300 tokens) stay under ~0.8 ms. Longer
 * prompts are counted exactly only when the agent named an OpenAI-family model (whose bill
 * o200k matches); otherwise lib/token-estimate.ts gives a high-leaning figure in microseconds.
 * The estimate is also what a non-OpenAI model deserves: o200k is not its tokenizer either.
 *
 * Exact counts stop at EXACT_COUNT_STEPS of work (lib/tokenizer.ts TokenBudget): an unpaid
 * request of up to MAX_BODY_BYTES could otherwise hold the event loop for as long as its text
 * takes to encode (a 200 KB word took 15 s before the encoder's merge loop was bounded, and
 * ordinary text still costs ~150 ns a byte). Past the allowance the rest counts a token per
 * byte: an upper bound, which is what the price needs, but up to 4x the real count on ordinary
 * text, so whether the prompt fits a context window is judged by the estimate instead when it is
 * lower (`contextTokens`). The estimate is neither bound: it can overshoot (1 MB of '-'
 * estimates 550k tokens where o200k counts 16k) and undershoot (random letters: half of o200k).
 * So a prompt the estimate lets through may still be refused by the upstream for its length, and
 * that call fails unpaid; no price is ever computed from the estimate alone for an OpenAI model.
 */
export const EXACT_COUNT_MAX_CHARS = 1_200;

export interface InputTokens {
  /** Prompt tokens for the price. */
  inputTokens: number;
  tokenCount: Analysis["tokenCount"];
  /** Prompt tokens for context checks: inputTokens, or the estimate when that is lower than an o200k_bound. */
  contextTokens: number;
}

/** Characters of text a request carries (content parts, names, tool-call arguments). */
export function promptChars(messages: readonly ChatMessage[]): number {
  let chars = 0;
  for (const message of messages) {
    const { content } = message;
    if (typeof content === "string") chars += content.length;
    else if (Array.isArray(content)) for (const part of content) if ("text" in part && typeof part.text === "string") chars += part.text.length;
    if (message.tool_calls !== undefined) chars += JSON.stringify(message.tool_calls).length;
  }
  return chars;
}

/** A new allowance of exact counting for one request (EXACT_COUNT_STEPS), to share between its counts. */
export function requestTokenBudget(): TokenBudget {
  return new TokenBudget(EXACT_COUNT_STEPS);
}

/**
 * Count the prompt: o200k when short or when `exact` is asked for (within `budget`), else the
 * estimate.
 */
export function countInputTokens(messages: readonly ChatMessage[], exact: boolean, budget = requestTokenBudget()): InputTokens {
  if (exact || promptChars(messages) <= EXACT_COUNT_MAX_CHARS) {
    const inputTokens = countMessageTokens(messages, budget);
    if (budget.exact) return { inputTokens, tokenCount: "o200k", contextTokens: inputTokens };
    return { inputTokens, tokenCount: "o200k_bound", contextTokens: Math.min(inputTokens, estimateMessageTokens(messages)) };
  }
  const estimate = estimateMessageTokens(messages);
  return { inputTokens: estimate, tokenCount: "estimate", contextTokens: estimate };
}

/**
 * Input tokens a request carries outside its messages, which the upstream bills as input too:
 * tool definitions (OpenAI renders them into the prompt; Anthropic's "Tool use pricing and
 * tokens" page counts "the tools parameter ... tool names, descriptions, and schemas"; Gemini
 * counts function declarations) and a json_schema response format. Counted as their JSON text,
 * exactly under the same rule as the messages.
 */
export function countDefinitionTokens(request: Pick<ChatRequest, "tools" | "response_format">, exact: boolean, budget = requestTokenBudget()): InputTokens {
  const tools = request.tools ?? [];
  const schema = request.response_format?.type === "json_schema" ? request.response_format : undefined;
  if (tools.length === 0 && schema === undefined) return { inputTokens: 0, tokenCount: "o200k", contextTokens: 0 };
  const text = JSON.stringify({ tools, schema });
  if (exact || text.length <= EXACT_COUNT_MAX_CHARS) {
    const inputTokens = budget.count(text);
    if (budget.exact) return { inputTokens, tokenCount: "o200k", contextTokens: inputTokens };
    return { inputTokens, tokenCount: "o200k_bound", contextTokens: Math.min(inputTokens, estimateTokens(text)) };
  }
  const estimate = estimateTokens(text);
  return { inputTokens: estimate, tokenCount: "estimate", contextTokens: estimate };
}

/** How a sum of counts was counted: any estimate makes it an estimate, else any bound a bound. */
export function combinedTokenCount(...counts: ReadonlyArray<InputTokens["tokenCount"]>): InputTokens["tokenCount"] {
  if (counts.includes("estimate")) return "estimate";
  return counts.includes("o200k_bound") ? "o200k_bound" : "o200k";
}

/** The same framing as lib/tokenizer.ts countMessageTokens, with estimated text. */
export function estimateMessageTokens(messages: readonly ChatMessage[]): number {
  let tokens = REPLY_PRIMER_TOKENS;
  for (const message of messages) {
    tokens += TOKENS_PER_MESSAGE + 1; // the role is one token
    const { content } = message;
    if (typeof content === "string") tokens += estimateTokens(content);
    else if (Array.isArray(content)) {
      for (const part of content) {
        if ("text" in part && typeof part.text === "string") tokens += estimateTokens(part.text);
        else if (part.type === "image_url") tokens += imageTokens(part);
        else tokens += estimateTokens(JSON.stringify(part));
      }
    }
    if (message.name !== undefined) tokens += TOKENS_PER_NAME + estimateTokens(message.name);
    if (message.tool_calls !== undefined) tokens += estimateTokens(JSON.stringify(message.tool_calls));
  }
  return tokens;
}

function imageTokens(part: object): number {
  const detail = "image_url" in part && typeof part.image_url === "object" && part.image_url !== null && "detail" in part.image_url ? part.image_url.detail : undefined;
  return detail === "low" ? IMAGE_LOW_DETAIL_TOKENS : IMAGE_HIGH_DETAIL_TOKENS;
}
