import { z } from "zod";
import { safeJson } from "../http-upstream.ts";
import {
  TextPart,
  isHttpUrl,
  parseDataUrl,
  stopSequences,
  textOnly,
  untranslatable,
  type ContentPart,
  type FunctionTool,
  type Message,
  type ToolCall,
  type ToolChoice,
  type TranslatableRequest,
} from "../openai-request.ts";
import { toGeminiSchema, type GeminiSchema } from "./schema.ts";

/**
 * OpenAI chat-completions request -> Gemini `GenerateContentRequest`
 * (https://ai.google.dev/api/generate-content#request-body). What changes shape:
 * - system and developer messages become `systemInstruction`;
 * - turns become `contents` with roles `user` and `model`, consecutive turns of one role merged;
 * - assistant `tool_calls` become `functionCall` parts; `tool` messages become `functionResponse`
 *   parts of a user turn, named after the call they answer (Gemini matches them by name; the
 *   OpenAI message only carries the call's id, so the name is looked up in the earlier turn);
 * - sampling settings and the output cap move into `generationConfig`.
 */

type GeminiPart =
  | { text: string }
  | { inlineData: { mimeType: string; data: string } }
  | { fileData: { mimeType?: string; fileUri: string } }
  | { functionCall: { name: string; args: Record<string, unknown> } }
  | { functionResponse: { name: string; response: Record<string, unknown> } };

export interface GeminiContent {
  role: "user" | "model";
  parts: GeminiPart[];
}

type FunctionDeclaration = { name: string; description?: string; parameters?: GeminiSchema; parametersJsonSchema?: Record<string, unknown> };

export interface GenerateContentRequest {
  contents: GeminiContent[];
  systemInstruction?: { parts: Array<{ text: string }> };
  tools?: Array<{ functionDeclarations: FunctionDeclaration[] }>;
  toolConfig?: { functionCallingConfig: { mode: "AUTO" | "ANY" | "NONE"; allowedFunctionNames?: string[] } };
  generationConfig: {
    maxOutputTokens: number;
    temperature?: number;
    topP?: number;
    stopSequences?: string[];
    responseMimeType?: string;
    responseSchema?: GeminiSchema;
  };
}

/** Media types by file extension, for `fileData` parts given an http(s) URL. */
const IMAGE_TYPES: Readonly<Record<string, string>> = {
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  webp: "image/webp",
  gif: "image/gif",
  heic: "image/heic",
  heif: "image/heif",
};

const ImagePartShape = z.object({ type: z.literal("image_url"), image_url: z.object({ url: z.string() }).loose() }).loose();
const RefusalPartShape = z.object({ type: z.literal("refusal"), refusal: z.string() }).loose();
const JsonObject = z.record(z.string(), z.unknown());

export function toGenerateContentRequest(provider: string, request: TranslatableRequest): GenerateContentRequest {
  const system: Array<{ text: string }> = [];
  const contents: GeminiContent[] = [];

  request.messages.forEach((message, i) => {
    const where = `messages[${i}]`;
    if (message.role === "system" || message.role === "developer") {
      const text = textOnly(provider, message.content, where);
      if (text !== "") system.push({ text });
      return;
    }
    const turn = toContent(provider, message, request.messages.slice(0, i), where);
    if (turn.parts.length === 0) return; // Gemini refuses contents without parts.
    const last = contents.at(-1);
    if (last !== undefined && last.role === turn.role) last.parts.push(...turn.parts);
    else contents.push(turn);
  });

  const out: GenerateContentRequest = { contents, generationConfig: { maxOutputTokens: request.max_tokens } };
  if (system.length > 0) out.systemInstruction = { parts: system };
  if (request.tools != null && request.tools.length > 0) {
    out.tools = [{ functionDeclarations: request.tools.map(declaration) }];
    // Gemini has no parallel_tool_calls switch; the model decides how many calls to make.
    const mode = toolConfig(request.tool_choice);
    if (mode !== undefined) out.toolConfig = { functionCallingConfig: mode };
  }
  const config = out.generationConfig;
  if (request.temperature != null) config.temperature = request.temperature;
  if (request.top_p != null) config.topP = request.top_p;
  const stops = stopSequences(request.stop);
  if (stops.length > 0) config.stopSequences = stops;
  const format = request.response_format;
  if (format?.type === "json_object" || format?.type === "json_schema") {
    config.responseMimeType = "application/json";
    // A schema outside Gemini's subset would be converted wrongly; JSON mode alone keeps the promise of JSON.
    const schema = format.type === "json_schema" ? toGeminiSchema(format.json_schema.schema) : undefined;
    if (schema !== undefined) config.responseSchema = schema;
  }
  return out;
}

function toContent(
  provider: string,
  message: Exclude<Message, { role: "system" } | { role: "developer" }>,
  earlier: readonly Message[],
  where: string,
): GeminiContent {
  switch (message.role) {
    case "user":
      return { role: "user", parts: userParts(provider, message.content, where) };
    case "assistant": {
      const parts: GeminiPart[] = [];
      if (message.content != null) parts.push(...assistantText(provider, message.content, where));
      for (const call of message.tool_calls ?? []) parts.push({ functionCall: { name: call.function.name, args: toolArguments(provider, call, where) } });
      return { role: "model", parts };
    }
    case "tool": {
      const name = toolName(earlier, message.tool_call_id);
      if (name === undefined) throw untranslatable(provider, `${where}: tool_call_id ${message.tool_call_id} answers no earlier tool call`);
      const text = textOnly(provider, message.content, where);
      // `response` must be an object: a JSON object result goes as it is, anything else is wrapped.
      const json = JsonObject.safeParse(safeJson(text));
      const response = json.success ? json.data : { result: text };
      return { role: "user", parts: [{ functionResponse: { name, response } }] };
    }
  }
}

/** The function name of the nearest earlier tool call with this id. */
function toolName(earlier: readonly Message[], id: string): string | undefined {
  for (let i = earlier.length - 1; i >= 0; i--) {
    const message = earlier[i];
    if (message?.role !== "assistant") continue;
    const call = message.tool_calls?.find((c) => c.id === id);
    if (call !== undefined) return call.function.name;
  }
  return undefined;
}

function userParts(provider: string, content: string | readonly ContentPart[], where: string): GeminiPart[] {
  if (typeof content === "string") return content === "" ? [] : [{ text: content }];
  const parts: GeminiPart[] = [];
  content.forEach((part, j) => {
    const text = TextPart.safeParse(part);
    if (text.success) {
      if (text.data.text !== "") parts.push({ text: text.data.text });
      return;
    }
    const image = ImagePartShape.safeParse(part);
    if (image.success) {
      parts.push(imagePart(provider, image.data.image_url.url, `${where}.content[${j}]`));
      return;
    }
    throw untranslatable(provider, `${where}.content[${j}]: "${part.type}" parts have no Gemini equivalent here`);
  });
  return parts;
}

function imagePart(provider: string, url: string, where: string): GeminiPart {
  const inline = parseDataUrl(url);
  if (inline !== undefined) return { inlineData: { mimeType: inline.mediaType, data: inline.data } };
  if (!isHttpUrl(url)) throw untranslatable(provider, `${where}: an image URL must be a base64 data: URL or http(s)`);
  let path: string;
  try {
    path = new URL(url).pathname;
  } catch {
    throw untranslatable(provider, `${where}: the image URL does not parse`);
  }
  const extension = /\.([a-z0-9]+)$/i.exec(path)?.[1]?.toLowerCase();
  const mimeType = extension === undefined ? undefined : IMAGE_TYPES[extension];
  // mimeType is optional in fileData; leave it out rather than guess wrong.
  return { fileData: mimeType === undefined ? { fileUri: url } : { mimeType, fileUri: url } };
}

function assistantText(provider: string, content: string | readonly ContentPart[], where: string): GeminiPart[] {
  if (typeof content === "string") return content === "" ? [] : [{ text: content }];
  const parts: GeminiPart[] = [];
  for (const part of content) {
    const text = TextPart.safeParse(part);
    const refusal = RefusalPartShape.safeParse(part);
    const value = text.success ? text.data.text : refusal.success ? refusal.data.refusal : undefined;
    if (value === undefined) throw untranslatable(provider, `${where}: assistant "${part.type}" parts have no Gemini equivalent`);
    if (value !== "") parts.push({ text: value });
  }
  return parts;
}

function toolArguments(provider: string, call: ToolCall, where: string): Record<string, unknown> {
  const args = JsonObject.safeParse(call.function.arguments.trim() === "" ? {} : safeJson(call.function.arguments));
  if (!args.success) throw untranslatable(provider, `${where}: tool call ${call.id} has arguments that are not a JSON object`);
  return args.data;
}

function declaration({ function: fn }: FunctionTool): FunctionDeclaration {
  const out: FunctionDeclaration = { name: fn.name };
  if (fn.description !== undefined) out.description = fn.description;
  const parameters = fn.parameters;
  const properties = JsonObject.safeParse(parameters?.properties);
  // A function without parameters leaves them out: Gemini refuses an OBJECT without properties.
  if (parameters === undefined || (properties.success && Object.keys(properties.data).length === 0)) return out;
  const schema = toGeminiSchema(parameters);
  // parametersJsonSchema takes JSON Schema as it is, for what the Schema subset cannot express.
  if (schema !== undefined) out.parameters = schema;
  else out.parametersJsonSchema = parameters;
  return out;
}

function toolConfig(choice: ToolChoice | null | undefined): NonNullable<GenerateContentRequest["toolConfig"]>["functionCallingConfig"] | undefined {
  if (choice === null || choice === undefined) return undefined;
  if (choice === "auto") return { mode: "AUTO" };
  if (choice === "none") return { mode: "NONE" };
  if (choice === "required") return { mode: "ANY" };
  return { mode: "ANY", allowedFunctionNames: [choice.function.name] };
}
