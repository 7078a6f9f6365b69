import type { ChatMessage, ChatRequest } from "../call/chat-request.ts";
import type { Capability } from "../catalog/schema.ts";
import { complexityOf } from "./complexity.ts";
import { combinedTokenCount, countDefinitionTokens, countInputTokens, requestTokenBudget } from "./input-tokens.ts";
import { guessTask } from "./task.ts";
import type { TaskInput } from "./task-vote.ts";
import type { Analysis } from "./types.ts";

export interface AnalyseOptions {
  /**
   * Count the prompt exactly with o200k even when it is long: set it when the agent named an
   * OpenAI-family model, whose bill o200k matches (input-tokens.ts explains the trade-off).
   */
  exactTokens?: boolean;
}

/** Pure analysis of a chat request: tokens, task, complexity and needed capabilities. */
export function analyse(request: ChatRequest, options: AnalyseOptions = {}): Analysis {
  const exact = options.exactTokens === true;
  // One allowance of exact counting for the whole request (input-tokens.ts).
  const budget = requestTokenBudget();
  const prompt = countInputTokens(request.messages, exact, budget);
  // Tool definitions and a response schema are billed as input too: the price must cover them.
  const definitions = countDefinitionTokens(request, exact, budget);
  const inputTokens = prompt.inputTokens + definitions.inputTokens;
  const tokenCount = combinedTokenCount(prompt.tokenCount, definitions.tokenCount);
  const turns = taskInputOf(request.messages);
  const guess = guessTask(turns);
  return {
    inputTokens,
    tokenCount,
    task: guess.task,
    taskFeatures: guess.features.slice(0, 3),
    // How hard the task is depends on the conversation, not on how many tools come with it.
    complexity: complexityOf(turns.latest, prompt.inputTokens, guess.task),
    capabilities: capabilitiesOf(request),
    // The prompt plus at least one output token must fit (decide clamps the output cap to the room left).
    minContextWindow: prompt.contextTokens + definitions.contextTokens + 1,
    requestedMaxTokens: request.max_completion_tokens ?? request.max_tokens,
  };
}

function capabilitiesOf(request: ChatRequest): Capability[] {
  const capabilities: Capability[] = [];
  if (request.tools !== undefined && request.tools.length > 0) capabilities.push("tools");
  if (request.messages.some(hasImage)) capabilities.push("vision");
  const format = request.response_format?.type;
  if (format === "json_object" || format === "json_schema") capabilities.push("json");
  if (request.stream === true) capabilities.push("streaming");
  return capabilities;
}

export function textOf(message: ChatMessage): string {
  const { content } = message;
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  let text = "";
  for (const part of content) if ("text" in part && typeof part.text === "string") text += (text === "" ? "" : "\n") + part.text;
  return text;
}

/** The latest user turn, the system prompt and the turns before the latest one. */
export function taskInputOf(messages: readonly ChatMessage[]): TaskInput {
  let latestIndex = -1;
  for (let i = messages.length - 1; i >= 0; i--) {
    if (messages[i]?.role === "user") {
      latestIndex = i;
      break;
    }
  }
  const system: string[] = [];
  const history: Array<{ role: "user" | "assistant"; text: string }> = [];
  messages.forEach((message, i) => {
    if (i === latestIndex) return;
    if (message.role === "system" || message.role === "developer") system.push(textOf(message));
    else if (i < latestIndex && (message.role === "user" || message.role === "assistant")) history.push({ role: message.role, text: textOf(message) });
  });
  // No user turn at all (e.g. only a system prompt): classify whatever text there is.
  const latest = latestIndex >= 0 ? textOf(messages[latestIndex] as ChatMessage) : messages.map(textOf).join("\n");
  return { latest, system: system.join("\n"), history };
}

function hasImage(message: ChatMessage): boolean {
  return Array.isArray(message.content) && message.content.some((part) => part.type === "image_url" || part.type === "input_image");
}
