import { setTimeout as sleep } from "node:timers/promises";
import { z } from "zod";
import { startLoopbackServer, type Exchange, type RecordedRequest } from "./loopback-server.ts";

/**
 * A loopback stand-in for Anthropic's Messages API, written from the public references
 * (https://docs.anthropic.com/en/api/messages, .../en/docs/build-with-claude/streaming,
 * .../en/api/errors). It checks what it is sent the way the API does (x-api-key,
 * anthropic-version, max_tokens, user/assistant roles that alternate, no system role, tool_use
 * answered by tool_result in the next turn, no unknown fields) and refuses with Anthropic's
 * error body; it answers with Message objects or the documented event stream. It shares no
 * code with the adapter it tests.
 */

export interface FakeAnthropicBehaviour {
  /** When set, requests must carry this x-api-key. */
  apiKey?: string;
  /** Answer with this status and an Anthropic error body (429 carries retry-after). */
  error?: { status: number; type?: string; message?: string; retryAfterSeconds?: number };
  delayFirstByteMs?: number;
  holdFirstByte?: Promise<void>;
  /** Streaming: after message_start, the first content block's start, a ping and its first delta, wait for this. */
  streamGate?: Promise<void>;
  /** Streaming: destroy the socket after this many events. */
  dropAfterEvents?: number;
  /** Streaming: end the response cleanly after this many events, message_stop unsent. */
  endAfterEvents?: number;
  /** Streaming: after this many events send an `error` event and end the response. */
  errorEvent?: { afterEvents: number; type: string; message: string };
  /** Reply text ("" for none) and tool calls; stop reason defaults to tool_use / end_turn. */
  text?: string;
  toolUses?: Array<{ name: string; input: Record<string, unknown> }>;
  stopReason?: string;
  usage?: { input_tokens?: number; output_tokens?: number; cache_creation_input_tokens?: number; cache_read_input_tokens?: number };
}

export interface FakeAnthropic {
  /** Base URL as the SDKs' ANTHROPIC_BASE_URL takes it (no /v1). */
  url: string;
  requests: RecordedRequest[];
  setBehaviour(behaviour: FakeAnthropicBehaviour): void;
  resetBehaviour(behaviour?: FakeAnthropicBehaviour): void;
  waitForRequests(count: number): Promise<void>;
  close(): Promise<void>;
}

const DEFAULT_TEXT = "Hello from the fake Messages API, streamed a few words at a time.";
const ERROR_TYPES: Record<number, string> = {
  400: "invalid_request_error",
  401: "authentication_error",
  403: "permission_error",
  404: "not_found_error",
  413: "request_too_large",
  429: "rate_limit_error",
  500: "api_error",
  529: "overloaded_error",
};

const CacheControl = z.strictObject({ type: z.literal("ephemeral"), ttl: z.string().optional() }).optional();
const TextBlock = z.strictObject({ type: z.literal("text"), text: z.string().min(1, "text content blocks must be non-empty"), cache_control: CacheControl });
const ImageBlock = z.strictObject({
  type: z.literal("image"),
  source: z.discriminatedUnion("type", [
    z.strictObject({ type: z.literal("base64"), media_type: z.enum(["image/jpeg", "image/png", "image/gif", "image/webp"]), data: z.string().min(1) }),
    z.strictObject({ type: z.literal("url"), url: z.url() }),
  ]),
  cache_control: CacheControl,
});
const ToolUseBlock = z.strictObject({ type: z.literal("tool_use"), id: z.string().min(1), name: z.string().min(1), input: z.record(z.string(), z.unknown()), cache_control: CacheControl });
const ToolResultBlock = z.strictObject({
  type: z.literal("tool_result"),
  tool_use_id: z.string().min(1),
  content: z.union([z.string(), z.array(z.union([TextBlock, ImageBlock]))]).optional(),
  is_error: z.boolean().optional(),
  cache_control: CacheControl,
});
const Block = z.discriminatedUnion("type", [TextBlock, ImageBlock, ToolUseBlock, ToolResultBlock]);
const Message = z.strictObject({
  role: z.enum(["user", "assistant"], "Input should be 'user' or 'assistant'"),
  content: z.union([z.string().min(1), z.array(Block).min(1)]),
});
const Tool = z.strictObject({
  name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/),
  description: z.string().optional(),
  input_schema: z.object({ type: z.literal("object") }).loose(),
  cache_control: CacheControl,
});
const ToolChoice = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("auto"), disable_parallel_tool_use: z.boolean().optional() }),
  z.strictObject({ type: z.literal("any"), disable_parallel_tool_use: z.boolean().optional() }),
  z.strictObject({ type: z.literal("tool"), name: z.string(), disable_parallel_tool_use: z.boolean().optional() }),
  z.strictObject({ type: z.literal("none") }),
]);
/** Strict like the API: an OpenAI field leaking through is "Extra inputs are not permitted". */
const MessagesRequest = z.strictObject(
  {
    model: z.string().min(1),
    max_tokens: z.int().min(1),
    messages: z.array(Message).min(1),
    system: z.union([z.string(), z.array(TextBlock)]).optional(),
    tools: z.array(Tool).optional(),
    tool_choice: ToolChoice.optional(),
    temperature: z.number().min(0).max(1).optional(),
    top_p: z.number().min(0).max(1).optional(),
    top_k: z.int().min(0).optional(),
    stop_sequences: z.array(z.string()).optional(),
    stream: z.boolean().optional(),
    metadata: z.strictObject({ user_id: z.string().max(256).optional() }).optional(),
  },
  { error: (issue) => (issue.code === "unrecognized_keys" ? "Extra inputs are not permitted" : undefined) },
);
type MessagesRequest = z.infer<typeof MessagesRequest>;
type Block = z.infer<typeof Block>;

function errorBody(type: string, message: string) {
  return { type: "error", error: { type, message }, request_id: "req_fake01AnthropicUpstream" };
}

function blocksOf(content: string | Block[]): Block[] {
  return typeof content === "string" ? [{ type: "text", text: content }] : content;
}

/** The conversation rules the API enforces beyond the schema; a message, or undefined when all hold. */
function conversationProblem(request: MessagesRequest): string | undefined {
  const { messages } = request;
  for (let i = 1; i < messages.length; i++) {
    const role = messages[i]?.role;
    if (role === messages[i - 1]?.role) return `messages: roles must alternate between "user" and "assistant", but found multiple "${role}" roles in a row`;
  }
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i];
    if (message === undefined) continue;
    const blocks = blocksOf(message.content);
    if (message.role === "assistant" && blocks.some((b) => b.type === "tool_result")) return `messages.${i}: tool_result blocks belong in user turns`;
    if (message.role === "user" && blocks.some((b) => b.type === "tool_use")) return `messages.${i}: tool_use blocks belong in assistant turns`;
    const results = blocks.filter((b) => b.type === "tool_result");
    const firstOther = blocks.findIndex((b) => b.type !== "tool_result");
    const lastResult = blocks.findLastIndex((b) => b.type === "tool_result");
    if (firstOther !== -1 && firstOther < lastResult) return `messages.${i}: tool_result blocks must come first in the content`;
    const previous = i > 0 ? blocksOf(messages[i - 1]?.content ?? []) : [];
    const asked = new Set(previous.flatMap((b) => (b.type === "tool_use" ? [b.id] : [])));
    for (const result of results) {
      if (!asked.has(result.tool_use_id)) {
        return `messages.${i}.content: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${result.tool_use_id}. Each \`tool_result\` block must have a corresponding \`tool_use\` block in the previous message.`;
      }
    }
    if (message.role === "assistant" && i + 1 < messages.length) {
      const answered = new Set(blocksOf(messages[i + 1]?.content ?? []).flatMap((b) => (b.type === "tool_result" ? [b.tool_use_id] : [])));
      const missing = blocks.flatMap((b) => (b.type === "tool_use" && !answered.has(b.id) ? [b.id] : []));
      if (missing.length > 0) {
        return `messages.${i}: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${missing.join(", ")}. Each \`tool_use\` block must have a corresponding \`tool_result\` block in the next message.`;
      }
    }
  }
  if (request.tool_choice !== undefined && (request.tools ?? []).length === 0 && request.tool_choice.type !== "none") {
    return "tool_choice may only be specified while providing tools.";
  }
  return undefined;
}

function words(text: string): string[] {
  return text.match(/\s*\S+/g) ?? [];
}

export async function startFakeAnthropic(initial: FakeAnthropicBehaviour = {}): Promise<FakeAnthropic> {
  let behaviour: FakeAnthropicBehaviour = { ...initial };
  let sequence = 0;

  async function handle(ex: Exchange): Promise<void> {
    const current = behaviour;
    const refuse = (status: number, message: string) => ex.json(status, errorBody(ERROR_TYPES[status] ?? "api_error", message));
    if (ex.req.method !== "POST" || ex.record.path !== "/v1/messages") return refuse(404, `Not found: ${ex.req.method} ${ex.record.path}`);
    const key = ex.req.headers["x-api-key"];
    if (typeof key !== "string" || key === "") return refuse(401, "x-api-key header is required");
    if (current.apiKey !== undefined && key !== current.apiKey) return refuse(401, "invalid x-api-key");
    const version = ex.req.headers["anthropic-version"];
    if (typeof version !== "string" || version === "") return refuse(400, "anthropic-version: header is required");
    if (!String(ex.req.headers["content-type"] ?? "").startsWith("application/json")) return refuse(400, "content-type must be application/json");
    if (ex.record.body === undefined) return refuse(400, "There was an issue with your request body: not valid JSON");
    const parsed = MessagesRequest.safeParse(ex.record.body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const keys = issue?.code === "unrecognized_keys" ? `.${issue.keys.join(",")}` : "";
      const path = (issue?.path ?? []).map(String).join(".") + keys;
      const message = issue?.code === "invalid_type" && issue.input === undefined ? "Field required" : (issue?.message ?? "invalid");
      return refuse(400, `${path.replace(/^\./, "")}: ${message}`);
    }
    const request = parsed.data;
    const problem = conversationProblem(request);
    if (problem !== undefined) return refuse(400, problem);

    if (current.delayFirstByteMs !== undefined) await sleep(current.delayFirstByteMs);
    if (current.holdFirstByte !== undefined) await current.holdFirstByte;
    if (ex.closed) return;
    if (current.error !== undefined) {
      const { status, type, message, retryAfterSeconds } = current.error;
      const headers: Record<string, string> = status === 429 ? { "retry-after": String(retryAfterSeconds ?? 12) } : {};
      return ex.json(status, errorBody(type ?? ERROR_TYPES[status] ?? "api_error", message ?? (status === 529 ? "Overloaded" : `fake upstream error ${status}`)), headers);
    }

    sequence += 1;
    const id = `msg_fake${String(sequence).padStart(20, "0")}`;
    const text = current.text ?? DEFAULT_TEXT;
    const toolUses = (current.toolUses ?? []).map((use, n) => ({ type: "tool_use" as const, id: `toolu_fake${sequence}x${n}`, name: use.name, input: use.input }));
    const stopReason = current.stopReason ?? (toolUses.length > 0 ? "tool_use" : "end_turn");
    const usage = {
      input_tokens: current.usage?.input_tokens ?? Math.ceil(JSON.stringify(request.messages).length / 4),
      cache_creation_input_tokens: current.usage?.cache_creation_input_tokens ?? 0,
      cache_read_input_tokens: current.usage?.cache_read_input_tokens ?? 0,
      output_tokens: current.usage?.output_tokens ?? words(text).length + toolUses.length * 12,
    };
    const content = [...(text === "" ? [] : [{ type: "text" as const, text }]), ...toolUses];

    if (request.stream !== true) {
      return ex.json(200, {
        id,
        type: "message",
        role: "assistant",
        model: request.model,
        content,
        stop_reason: stopReason,
        stop_sequence: null,
        usage: { ...usage, service_tier: "standard" },
      });
    }

    const events: Array<[string, unknown]> = [
      ["message_start", { type: "message_start", message: { id, type: "message", role: "assistant", model: request.model, content: [], stop_reason: null, stop_sequence: null, usage: { ...usage, output_tokens: 1 } } }],
    ];
    content.forEach((block, index) => {
      if (block.type === "text") {
        events.push(["content_block_start", { type: "content_block_start", index, content_block: { type: "text", text: "" } }]);
        if (index === 0) events.push(["ping", { type: "ping" }]);
        for (const piece of words(block.text)) events.push(["content_block_delta", { type: "content_block_delta", index, delta: { type: "text_delta", text: piece } }]);
      } else {
        events.push(["content_block_start", { type: "content_block_start", index, content_block: { type: "tool_use", id: block.id, name: block.name, input: {} } }]);
        // The API opens with an empty partial_json and then sends the input JSON in pieces.
        const json = JSON.stringify(block.input);
        const pieces = ["", ...(json.match(/.{1,9}/gs) ?? [])];
        for (const piece of pieces) events.push(["content_block_delta", { type: "content_block_delta", index, delta: { type: "input_json_delta", partial_json: piece } }]);
      }
      events.push(["content_block_stop", { type: "content_block_stop", index }]);
    });
    events.push(["message_delta", { type: "message_delta", delta: { stop_reason: stopReason, stop_sequence: null }, usage: { output_tokens: usage.output_tokens } }]);
    events.push(["message_stop", { type: "message_stop" }]);

    ex.startStream({ "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", "request-id": `req_fake${sequence}` });
    let sent = 0;
    for (const [name, data] of events) {
      if (current.dropAfterEvents !== undefined && sent >= current.dropAfterEvents) return ex.drop();
      if (current.endAfterEvents !== undefined && sent >= current.endAfterEvents) return ex.end();
      if (current.errorEvent !== undefined && sent >= current.errorEvent.afterEvents) {
        ex.write(`event: error\ndata: ${JSON.stringify({ type: "error", error: { type: current.errorEvent.type, message: current.errorEvent.message } })}\n\n`);
        return ex.end();
      }
      ex.write(`event: ${name}\ndata: ${JSON.stringify(data)}\n\n`);
      sent += 1;
      if (sent === 4 && current.streamGate !== undefined) await current.streamGate;
      if (ex.closed) return;
    }
    ex.end();
  }

  const server = await startLoopbackServer(handle);
  return {
    url: server.origin,
    requests: server.requests,
    setBehaviour(partial) {
      behaviour = { ...behaviour, ...partial };
    },
    resetBehaviour(next = initial) {
      behaviour = { ...next };
      server.forget();
    },
    waitForRequests: (count) => server.waitForRequests(count),
    close: () => server.close(),
  };
}
