import type { ChatMessage, ChatRequest } from "../call/chat-request.ts";
import { estimateTokens } from "../lib/token-estimate.ts";
import {
  countMessageTokens,
  countTokens,
  IMAGE_HIGH_DETAIL_TOKENS,
  IMAGE_LOW_DETAIL_TOKENS,
  REPLY_PRIMER_TOKENS,
  TOKENS_PER_MESSAGE,
  TOKENS_PER_NAME,
} from "../lib/tokenizer.ts";

/**
 * Prompts up to this many characters are counted exactly with o200k whatever the model: the BPE
 * costs about 2.5 µs per token, so 1,200 characters (~300 tokens) stay under ~0.8 ms. Longer
 * prompts are counted exactly only when the agent named an OpenAI-family model (whose bill
 * o200k matches); otherwise lib/token-estimate.ts gives a high-leaning figure in microseconds.
 * The estimate is also what a non-OpenAI model deserves: o200k is not its tokenizer either.
 */
export const EXACT_COUNT_MAX_CHARS = 1_200;

export interface InputTokens {
  inputTokens: number;
  tokenCount: "o200k" | "estimate";
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

/** Count the prompt: exact o200k when short or when `exact` is asked for, else the estimate. */
export function countInputTokens(messages: readonly ChatMessage[], exact: boolean): InputTokens {
  if (exact || promptChars(messages) <= EXACT_COUNT_MAX_CHARS) {
    return { inputTokens: countMessageTokens(messages), tokenCount: "o200k" };
  }
  return { inputTokens: estimateMessageTokens(messages), tokenCount: "estimate" };
}

/**
 * Input tokens a request carries outside its messages, which the upstream bills as input too:
 * tool definitions (OpenAI renders them into the prompt; Anthropic's "Tool use pricing and
 * tokens" page counts "the tools parameter ... tool names, descriptions, and schemas"; Gemini
 * counts function declarations) and a json_schema response format. Counted as their JSON text,
 * exactly under the same rule as the messages.
 */
export function countDefinitionTokens(request: Pick<ChatRequest, "tools" | "response_format">, exact: boolean): InputTokens {
  const tools = request.tools ?? [];
  const schema = request.response_format?.type === "json_schema" ? request.response_format : undefined;
  if (tools.length === 0 && schema === undefined) return { inputTokens: 0, tokenCount: "o200k" };
  const text = JSON.stringify({ tools, schema });
  if (exact || text.length <= EXACT_COUNT_MAX_CHARS) return { inputTokens: countTokens(text), tokenCount: "o200k" };
  return { inputTokens: estimateTokens(text), tokenCount: "estimate" };
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
