import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { z } from "zod";

/**
 * A loopback stand-in for OpenAI's Chat Completions API, speaking the wire format of the public
 * API reference (https://platform.openai.com/docs/api-reference/chat): it checks the requests it
 * gets, answers with `chat.completion` bodies or `chat.completion.chunk` SSE streams (the usage
 * chunk with `choices: []` when `stream_options.include_usage` is set, then `data: [DONE]`), and
 * errors in OpenAI's `{error:{message,type,param,code}}` shape. It shares no code with the
 * adapter it tests.
 */

export interface FakeOpenAIBehaviour {
  /** When set, requests must carry `Authorization: Bearer <apiKey>` (else 401 invalid_api_key). */
  apiKey?: string;
  /** Answer every chat request with this status and an OpenAI error body. */
  error?: { status: number; message?: string; type?: string; code?: string | null };
  /** Wait this long before the status line (time to first byte). */
  delayFirstByteMs?: number;
  /** Wait for this before the status line. */
  holdFirstByte?: Promise<void>;
  /** Streaming: after the role chunk and the first content chunk (or `streamGateAfterEvents` events), wait for this. */
  streamGate?: Promise<void>;
  /** Streaming: how many events go out before `streamGate` is awaited (default 2). */
  streamGateAfterEvents?: number;
  /** Streaming: after the last chunk (finish_reason and usage sent), wait for this before `data: [DONE]`. */
  doneGate?: Promise<void>;
  /** Leave the usage out (no usage chunk in streams, no `usage` field otherwise). */
  omitUsage?: boolean;
  /** Streaming: destroy the socket after this many SSE events, mid-response. */
  dropAfterEvents?: number;
  /** Assistant text of every reply. */
  content?: string;
  /** Usage to report; unset fields get rough counts. */
  usage?: { prompt_tokens?: number; completion_tokens?: number; cached_tokens?: number; reasoning_tokens?: number };
}

export type RequestOutcome = "completed" | "client-closed" | "dropped";

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** Parsed JSON body (undefined for GETs and unparseable bodies). */
  body: unknown;
  /** Response body text written so far. */
  response: string;
  /** How the exchange ended: answered in full, the client hung up, or we dropped it on purpose. */
  outcome: Promise<RequestOutcome>;
}

export interface FakeOpenAI {
  /** Base URL ending in /v1, as an OpenAI SDK `baseURL`. */
  url: string;
  requests: RecordedRequest[];
  /** Merge into the current behaviour. */
  setBehaviour(behaviour: FakeOpenAIBehaviour): void;
  /** Back to the starting behaviour (or `behaviour`), and forget recorded requests. */
  resetBehaviour(behaviour?: FakeOpenAIBehaviour): void;
  /** Resolves once `count` requests have arrived in total. */
  waitForRequests(count: number): Promise<void>;
  close(): Promise<void>;
}

const EmbeddingsRequest = z.object({
  model: z.string().min(1),
  input: z.union([z.string(), z.array(z.string()).min(1)]),
  dimensions: z.int().positive().optional(),
  encoding_format: z.enum(["float", "base64"]).optional(),
});

const DEFAULT_CONTENT = "Hello! This reply comes from the fake OpenAI upstream, one word at a time.";

const Message = z.object({
  role: z.enum(["system", "developer", "user", "assistant", "tool", "function"]),
  content: z.union([z.string(), z.array(z.object({ type: z.string() }).loose()), z.null()]).optional(),
});

/**
 * Stricter than OpenAI in one way, on purpose: exactly one of max_tokens and
 * max_completion_tokens must be present, because Tollgate always sends the paid-for cap.
 */
const ChatRequest = z
  .object({
    model: z.string().min(1),
    messages: z.array(Message).min(1),
    max_tokens: z.int().positive().optional(),
    max_completion_tokens: z.int().positive().optional(),
    stream: z.boolean().optional(),
    stream_options: z.object({ include_usage: z.boolean().optional() }).loose().optional(),
  })
  .loose()
  .superRefine((body, ctx) => {
    const caps = Number(body.max_tokens !== undefined) + Number(body.max_completion_tokens !== undefined);
    if (caps !== 1) ctx.addIssue({ code: "custom", path: ["max_tokens"], message: "exactly one of max_tokens and max_completion_tokens is required" });
    // OpenAI: "The 'stream_options' parameter is only allowed when 'stream' is enabled."
    if (body.stream_options !== undefined && body.stream !== true) {
      ctx.addIssue({ code: "custom", path: ["stream_options"], message: "The 'stream_options' parameter is only allowed when 'stream' is enabled." });
    }
  });
type ChatRequest = z.infer<typeof ChatRequest>;

function errorBody(message: string, type: string, param: string | null, code: string | null) {
  return { error: { message, type, param, code } };
}

function mask(key: string): string {
  return key.length <= 8 ? "****" : `${key.slice(0, 5)}${"*".repeat(key.length - 9)}${key.slice(-4)}`;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const parts: Buffer[] = [];
  for await (const part of req) parts.push(Buffer.isBuffer(part) ? part : Buffer.from(String(part)));
  return Buffer.concat(parts).toString("utf8");
}

function words(text: string): string[] {
  return text.match(/\s*\S+/g) ?? [];
}

export async function startFakeOpenAI(initial: FakeOpenAIBehaviour = {}): Promise<FakeOpenAI> {
  let behaviour: FakeOpenAIBehaviour = { ...initial };
  const requests: RecordedRequest[] = [];
  const waiters: Array<{ count: number; resolve: () => void }> = [];
  let sequence = 0;

  function record(entry: RecordedRequest): void {
    requests.push(entry);
    for (const waiter of waiters.filter((w) => requests.length >= w.count)) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const current = behaviour;
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    const raw = await readBody(req);
    let body: unknown;
    try {
      body = raw === "" ? undefined : JSON.parse(raw);
    } catch {
      body = undefined;
    }
    let settle: (outcome: RequestOutcome) => void = () => {};
    const entry: RecordedRequest = {
      method: req.method ?? "",
      path,
      headers: req.headers,
      body,
      response: "",
      outcome: new Promise((resolve) => (settle = resolve)),
    };
    let dropped = false;
    res.on("close", () => settle(dropped ? "dropped" : res.writableFinished ? "completed" : "client-closed"));
    record(entry);

    const write = (chunk: string): void => {
      entry.response += chunk;
      res.write(chunk);
    };
    const json = (status: number, payload: unknown, headers: Record<string, string> = {}): void => {
      const text = JSON.stringify(payload);
      entry.response = text;
      res.writeHead(status, { "content-type": "application/json", "x-request-id": `req_fake_${sequence}`, ...headers });
      res.end(text);
    };

    if (req.method === "GET" && path === "/v1/models") {
      return json(200, {
        object: "list",
        data: ["gpt-4o-mini", "gpt-4.1-nano", "o4-mini"].map((id) => ({ id, object: "model", created: 1_715_367_049, owned_by: "system" })),
      });
    }
    if (req.method === "POST" && path === "/v1/embeddings") {
      // platform.openai.com/docs/api-reference/embeddings: `input` and `model` are required.
      const request = EmbeddingsRequest.safeParse(body);
      if (!request.success) return json(400, errorBody(request.error.issues[0]?.message ?? "Invalid request", "invalid_request_error", "input", null));
      const inputs = [request.data.input].flat();
      const dimensions = request.data.dimensions ?? 8;
      // encoding_format "base64" (the openai SDK's default) is little-endian float32, base64-encoded.
      const encode = (vector: number[]) => (request.data.encoding_format === "base64" ? Buffer.from(new Float32Array(vector).buffer).toString("base64") : vector);
      const data = inputs.map((text, index) => ({ object: "embedding", index, embedding: encode(Array.from({ length: dimensions }, (_, i) => ((text.length + i) % 7) / 7)) }));
      const tokens = inputs.reduce((n, text) => n + Math.max(1, Math.ceil(text.length / 4)), 0);
      return json(200, { object: "list", data, model: request.data.model, usage: { prompt_tokens: tokens, total_tokens: tokens } });
    }
    if (req.method !== "POST" || path !== "/v1/chat/completions") {
      return json(404, errorBody(`Invalid URL (${req.method} ${path})`, "invalid_request_error", null, null));
    }

    const auth = req.headers.authorization;
    if (auth === undefined || !auth.startsWith("Bearer ")) {
      return json(401, errorBody("You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).", "invalid_request_error", null, null));
    }
    if (current.apiKey !== undefined && auth !== `Bearer ${current.apiKey}`) {
      const given = auth.slice("Bearer ".length);
      return json(401, errorBody(`Incorrect API key provided: ${mask(given)}. You can find your API key at https://platform.openai.com/account/api-keys.`, "invalid_request_error", null, "invalid_api_key"));
    }
    if (body === undefined) {
      return json(400, errorBody("We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly.)", "invalid_request_error", null, null));
    }
    const parsed = ChatRequest.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const param = issue === undefined ? null : issue.path.map(String).join(".");
      return json(400, errorBody(issue?.message ?? "Invalid request", "invalid_request_error", param, null));
    }

    if (current.delayFirstByteMs !== undefined) await sleep(current.delayFirstByteMs);
    if (current.holdFirstByte !== undefined) await current.holdFirstByte;
    if (res.destroyed) return;

    if (current.error !== undefined) {
      const { status, message, type, code } = current.error;
      const headers: Record<string, string> = status === 429 ? { "retry-after": "1", "x-ratelimit-remaining-requests": "0" } : {};
      return json(status, errorBody(message ?? `fake upstream error ${status}`, type ?? (status >= 500 ? "server_error" : "invalid_request_error"), null, code ?? null), headers);
    }

    sequence += 1;
    const request = parsed.data;
    const content = current.content ?? DEFAULT_CONTENT;
    const id = `chatcmpl-fake${String(sequence).padStart(6, "0")}`;
    const created = 1_735_689_600 + sequence;
    const usage = usageFor(request, content, current);
    const common = { id, created, model: request.model, service_tier: "default", system_fingerprint: "fp_fake0001" };

    if (request.stream !== true) {
      return json(200, {
        ...common,
        object: "chat.completion",
        choices: [{ index: 0, message: { role: "assistant", content, refusal: null, annotations: [] }, logprobs: null, finish_reason: "stop" }],
        ...(current.omitUsage === true ? {} : { usage }),
      });
    }

    const includeUsage = request.stream_options?.include_usage === true && current.omitUsage !== true;
    const chunk = (delta: Record<string, unknown>, finish: string | null) => ({
      ...common,
      object: "chat.completion.chunk",
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
      // OpenAI: with include_usage every chunk carries `usage: null` except the last one.
      ...(request.stream_options?.include_usage === true ? { usage: null } : {}),
    });
    const events: unknown[] = [chunk({ role: "assistant", content: "", refusal: null }, null)];
    for (const piece of words(content)) events.push(chunk({ content: piece }, null));
    events.push(chunk({}, "stop"));
    if (includeUsage) events.push({ ...common, object: "chat.completion.chunk", choices: [], usage });

    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      "x-request-id": `req_fake_${sequence}`,
    });
    res.flushHeaders();
    let sent = 0;
    for (const event of events) {
      if (current.dropAfterEvents !== undefined && sent >= current.dropAfterEvents) {
        dropped = true;
        res.socket?.destroy();
        return;
      }
      write(`data: ${JSON.stringify(event)}\n\n`);
      sent += 1;
      if (sent === (current.streamGateAfterEvents ?? 2) && current.streamGate !== undefined) await current.streamGate;
      if (res.destroyed) return;
    }
    if (current.doneGate !== undefined) await current.doneGate;
    if (res.destroyed) return;
    write("data: [DONE]\n\n");
    res.end();
  }

  function usageFor(request: ChatRequest, content: string, current: FakeOpenAIBehaviour) {
    // Rough counts (about four characters a token); tests that check numbers set them.
    const prompt = current.usage?.prompt_tokens ?? Math.ceil(JSON.stringify(request.messages).length / 4);
    const completion = current.usage?.completion_tokens ?? words(content).length;
    return {
      prompt_tokens: prompt,
      completion_tokens: completion,
      total_tokens: prompt + completion,
      prompt_tokens_details: { cached_tokens: current.usage?.cached_tokens ?? 0, audio_tokens: 0 },
      completion_tokens_details: {
        reasoning_tokens: current.usage?.reasoning_tokens ?? 0,
        audio_tokens: 0,
        accepted_prediction_tokens: 0,
        rejected_prediction_tokens: 0,
      },
    };
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify(errorBody(`fake upstream crashed: ${String(error)}`, "server_error", null, null)));
    });
  });
  // Node's 5 s idle keep-alive timeout can fire while a test blocks the shared event loop (the
  // first tokenizer load) just as the client reuses the socket: a spurious ECONNRESET.
  server.keepAliveTimeout = 120_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("fake OpenAI upstream has no TCP address");
  const { port } = address;

  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    setBehaviour(partial) {
      behaviour = { ...behaviour, ...partial };
    },
    resetBehaviour(next = initial) {
      behaviour = { ...next };
      requests.length = 0;
    },
    waitForRequests(count) {
      if (requests.length >= count) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ count, resolve }));
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}
