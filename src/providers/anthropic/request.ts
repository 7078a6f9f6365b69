import { z } from "zod";
import {
  TextPart,
  isHttpUrl,
  parseDataUrl,
  stopSequences,
  textOnly,
  untranslatable,
  type ContentPart,
  type Message,
  type ToolCall,
  type ToolChoice,
  type TranslatableRequest,
} from "../openai-request.ts";
import { safeJson } from "../http-upstream.ts";

/**
 * OpenAI chat-completions request -> Anthropic Messages request
 * (https://docs.anthropic.com/en/api/messages). What changes shape:
 * - system and developer messages become the top-level `system` (Messages has no system role);
 * - turns must alternate user/assistant, so consecutive turns of one role merge, and tool
 *   results (OpenAI's `tool` messages) travel as `tool_result` blocks of a user turn;
 * - assistant `tool_calls` become `tool_use` blocks whose `input` is the parsed arguments;
 * - `max_tokens` is required; `stop` becomes `stop_sequences`; `user` becomes `metadata.user_id`.
 */

export type TextBlockParam = { type: "text"; text: string };
type ImageSource = { type: "base64"; media_type: string; data: string } | { type: "url"; url: string };
type ImageBlockParam = { type: "image"; source: ImageSource };
type ToolUseBlockParam = { type: "tool_use"; id: string; name: string; input: Record<string, unknown> };
type ToolResultBlockParam = { type: "tool_result"; tool_use_id: string; content?: string };
export type BlockParam = TextBlockParam | ImageBlockParam | ToolUseBlockParam | ToolResultBlockParam;

export interface TurnParam {
  role: "user" | "assistant";
  content: BlockParam[];
}

export type ToolChoiceParam =
  | { type: "auto" | "any"; disable_parallel_tool_use?: boolean }
  | { type: "tool"; name: string; disable_parallel_tool_use?: boolean }
  | { type: "none" };

export interface MessagesRequest {
  model: string;
  max_tokens: number;
  messages: TurnParam[];
  system?: TextBlockParam[];
  tools?: Array<{ name: string; description?: string; input_schema: Record<string, unknown> }>;
  tool_choice?: ToolChoiceParam;
  temperature?: number;
  top_p?: number;
  stop_sequences?: string[];
  metadata?: { user_id: string };
  stream?: true;
}

/** The image types the Messages API accepts (https://docs.anthropic.com/en/docs/build-with-claude/vision). */
const IMAGE_MEDIA_TYPES = new Set(["image/jpeg", "image/png", "image/gif", "image/webp"]);

const ImagePartShape = z.object({ type: z.literal("image_url"), image_url: z.object({ url: z.string() }).loose() }).loose();
const RefusalPartShape = z.object({ type: z.literal("refusal"), refusal: z.string() }).loose();
const ToolInput = z.record(z.string(), z.unknown());

export function toMessagesRequest(provider: string, request: TranslatableRequest, model: string, stream: boolean): MessagesRequest {
  const system: TextBlockParam[] = [];
  const turns: TurnParam[] = [];

  request.messages.forEach((message, i) => {
    const where = `messages[${i}]`;
    if (message.role === "system" || message.role === "developer") {
      // Hoisted wherever it stood: the Messages API takes system text only at the top.
      const text = textOnly(provider, message.content, where);
      if (text !== "") system.push({ type: "text", text });
      return;
    }
    const turn = toTurn(provider, message, where);
    if (turn.content.length === 0) return; // Messages refuses empty turns and empty text blocks.
    const last = turns.at(-1);
    if (last !== undefined && last.role === turn.role) last.content.push(...turn.content);
    else turns.push(turn);
  });
  // In a user turn that answers tool calls the tool_result blocks must come first.
  for (const turn of turns) if (turn.role === "user") turn.content = toolResultsFirst(turn.content);

  const out: MessagesRequest = { model, max_tokens: request.max_tokens, messages: turns };
  if (system.length > 0) out.system = system;
  if (request.tools != null && request.tools.length > 0) {
    out.tools = request.tools.map(({ function: fn }) => ({
      name: fn.name,
      ...(fn.description === undefined ? {} : { description: fn.description }),
      // input_schema is required and must describe an object; a tool without parameters takes none.
      input_schema: fn.parameters ?? { type: "object", properties: {} },
    }));
    // Only beside tools: a tool_choice without them is refused.
    const choice = toolChoice(request.tool_choice, request.parallel_tool_calls);
    if (choice !== undefined) out.tool_choice = choice;
  }

  // OpenAI's temperature runs 0..2, Anthropic's 0..1: clamp rather than fail a call over it.
  if (request.temperature != null) out.temperature = Math.min(1, Math.max(0, request.temperature));
  if (request.top_p != null) out.top_p = request.top_p;
  const stops = stopSequences(request.stop);
  if (stops.length > 0) out.stop_sequences = stops;
  if (request.user != null && request.user !== "") out.metadata = { user_id: request.user };
  const format = request.response_format?.type;
  if (format === "json_object" || format === "json_schema") {
    // Silently dropping it would hand back prose to an agent that asked for JSON.
    throw untranslatable(provider, `response_format ${format} has no equivalent in the Messages API`);
  }
  if (stream) out.stream = true;
  return out;
}

function toTurn(provider: string, message: Exclude<Message, { role: "system" | "developer" }>, where: string): TurnParam {
  switch (message.role) {
    case "user":
      return { role: "user", content: userBlocks(provider, message.content, where) };
    case "assistant": {
      const content: BlockParam[] = [];
      if (message.content != null) content.push(...assistantText(provider, message.content, where));
      for (const call of message.tool_calls ?? []) content.push(toolUse(provider, call, where));
      return { role: "assistant", content };
    }
    case "tool": {
      const text = textOnly(provider, message.content, where);
      const result: ToolResultBlockParam = { type: "tool_result", tool_use_id: message.tool_call_id };
      if (text !== "") result.content = text;
      return { role: "user", content: [result] };
    }
  }
}

function userBlocks(provider: string, content: string | readonly ContentPart[], where: string): BlockParam[] {
  if (typeof content === "string") return content === "" ? [] : [{ type: "text", text: content }];
  const blocks: BlockParam[] = [];
  content.forEach((part, j) => {
    const text = TextPart.safeParse(part);
    if (text.success) {
      if (text.data.text !== "") blocks.push({ type: "text", text: text.data.text });
      return;
    }
    const image = ImagePartShape.safeParse(part);
    if (image.success) {
      blocks.push({ type: "image", source: imageSource(provider, image.data.image_url.url, `${where}.content[${j}]`) });
      return;
    }
    throw untranslatable(provider, `${where}.content[${j}]: "${part.type}" parts have no Messages API equivalent here`);
  });
  return blocks;
}

function imageSource(provider: string, url: string, where: string): ImageSource {
  const inline = parseDataUrl(url);
  if (inline !== undefined) {
    if (!IMAGE_MEDIA_TYPES.has(inline.mediaType)) throw untranslatable(provider, `${where}: images of type ${inline.mediaType} are not accepted`);
    return { type: "base64", media_type: inline.mediaType, data: inline.data };
  }
  if (isHttpUrl(url)) return { type: "url", url };
  throw untranslatable(provider, `${where}: an image URL must be a base64 data: URL or http(s)`);
}

function assistantText(provider: string, content: string | readonly ContentPart[], where: string): TextBlockParam[] {
  if (typeof content === "string") return content === "" ? [] : [{ type: "text", text: content }];
  const blocks: TextBlockParam[] = [];
  for (const part of content) {
    const text = TextPart.safeParse(part);
    const refusal = RefusalPartShape.safeParse(part);
    const value = text.success ? text.data.text : refusal.success ? refusal.data.refusal : undefined;
    if (value === undefined) throw untranslatable(provider, `${where}: assistant "${part.type}" parts have no Messages API equivalent`);
    if (value !== "") blocks.push({ type: "text", text: value });
  }
  return blocks;
}

function toolUse(provider: string, call: ToolCall, where: string): ToolUseBlockParam {
  // tool_use input must be an object; arguments a model once produced may not even be JSON.
  const input = ToolInput.safeParse(call.function.arguments.trim() === "" ? {} : safeJson(call.function.arguments));
  if (!input.success) throw untranslatable(provider, `${where}: tool call ${call.id} has arguments that are not a JSON object`);
  return { type: "tool_use", id: call.id, name: call.function.name, input: input.data };
}

function toolResultsFirst(blocks: BlockParam[]): BlockParam[] {
  const results = blocks.filter((b) => b.type === "tool_result");
  return results.length === 0 ? blocks : [...results, ...blocks.filter((b) => b.type !== "tool_result")];
}

function toolChoice(choice: ToolChoice | null | undefined, parallel: boolean | null | undefined): ToolChoiceParam | undefined {
  // OpenAI's parallel_tool_calls:false is Anthropic's disable_parallel_tool_use:true.
  const single = parallel === false ? { disable_parallel_tool_use: true } : {};
  if (choice === null || choice === undefined) return parallel === false ? { type: "auto", ...single } : undefined;
  if (choice === "none") return { type: "none" };
  if (choice === "auto") return { type: "auto", ...single };
  if (choice === "required") return { type: "any", ...single };
  return { type: "tool", name: choice.function.name, ...single };
}
