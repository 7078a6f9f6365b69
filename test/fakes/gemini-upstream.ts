import { setTimeout as sleep } from "node:timers/promises";
import { z } from "zod";
import { startLoopbackServer, type Exchange, type RecordedRequest } from "./loopback-server.ts";

/**
 * A loopback stand-in for the Gemini API's generateContent and streamGenerateContent, written
 * from the public reference (https://ai.google.dev/api/generate-content,
 * https://ai.google.dev/api/caching#Content, .../gemini-api/docs/troubleshooting). It checks
 * what it is sent the way the API does (the x-goog-api-key header, `contents` with roles user
 * and model, parts of one kind each, no unknown fields, function responses answering the
 * previous turn's calls one for one) and refuses with Google's `{error:{code,message,status}}`
 * body. Streams need `alt=sse` here: without it the API answers a JSON array, which is a
 * different wire format. It shares no code with the adapter it tests.
 */

export interface FakeGeminiBehaviour {
  apiKey?: string;
  /** Answer with this status and a Google error body (429 carries a RetryInfo detail). */
  error?: { status: number; message?: string; retryDelay?: string };
  delayFirstByteMs?: number;
  holdFirstByte?: Promise<void>;
  /** Streaming: after the first chunk, wait for this. */
  streamGate?: Promise<void>;
  /** Streaming: destroy the socket after this many chunks. */
  dropAfterChunks?: number;
  /** Streaming: end cleanly after this many chunks, before the one with finishReason. */
  endAfterChunks?: number;
  /** Streaming: after this many chunks send an error object as an event and end. */
  errorEvent?: { afterChunks: number; code: number; status: string; message: string };
  text?: string;
  functionCalls?: Array<{ name: string; args: Record<string, unknown> }>;
  finishReason?: string;
  /** Answer with promptFeedback.blockReason and no candidates. */
  blockPrompt?: string;
  usage?: { promptTokenCount?: number; candidatesTokenCount?: number; thoughtsTokenCount?: number; cachedContentTokenCount?: number };
}

export interface FakeGemini {
  /** Base URL without the API version, like the SDKs' base URL option. */
  url: string;
  requests: RecordedRequest[];
  setBehaviour(behaviour: FakeGeminiBehaviour): void;
  resetBehaviour(behaviour?: FakeGeminiBehaviour): void;
  waitForRequests(count: number): Promise<void>;
  close(): Promise<void>;
}

const DEFAULT_TEXT = "Hello from the fake Gemini API, sent in a few chunks.";
const STATUS_NAMES: Record<number, string> = {
  400: "INVALID_ARGUMENT",
  403: "PERMISSION_DENIED",
  404: "NOT_FOUND",
  429: "RESOURCE_EXHAUSTED",
  500: "INTERNAL",
  503: "UNAVAILABLE",
  504: "DEADLINE_EXCEEDED",
};

const Json = z.record(z.string(), z.unknown());
const SchemaType = z.string().regex(/^(STRING|NUMBER|INTEGER|BOOLEAN|ARRAY|OBJECT|string|number|integer|boolean|array|object)$/);
const Schema: z.ZodType<unknown> = z.lazy(() =>
  z.strictObject({
    type: SchemaType,
    format: z.string().optional(),
    title: z.string().optional(),
    description: z.string().optional(),
    nullable: z.boolean().optional(),
    enum: z.array(z.string()).optional(),
    minItems: z.number().optional(),
    maxItems: z.number().optional(),
    minimum: z.number().optional(),
    maximum: z.number().optional(),
    properties: z.record(z.string(), Schema).optional(),
    required: z.array(z.string()).optional(),
    items: Schema.optional(),
  }).refine((s) => !/^object$/i.test(s.type) || Object.keys(s.properties ?? {}).length > 0, "properties: should be non-empty for OBJECT type"),
);
const Extra = { thought: z.boolean().optional(), thoughtSignature: z.string().optional() };
const Part = z.union([
  z.strictObject({ text: z.string().min(1, "Unable to submit request because it has an empty text parameter."), ...Extra }),
  z.strictObject({ inlineData: z.strictObject({ mimeType: z.string().min(1), data: z.base64() }), ...Extra }),
  z.strictObject({ fileData: z.strictObject({ mimeType: z.string().optional(), fileUri: z.string().min(1) }), ...Extra }),
  z.strictObject({ functionCall: z.strictObject({ name: z.string().min(1), args: Json.optional(), id: z.string().optional() }), ...Extra }),
  z.strictObject({ functionResponse: z.strictObject({ name: z.string().min(1), response: Json, id: z.string().optional() }), ...Extra }),
]);
const Content = z.strictObject({
  role: z.enum(["user", "model"], "Please use a valid role: user, model."),
  parts: z.array(Part).min(1, "contents.parts must not be empty."),
});
const Declaration = z
  .strictObject({ name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_.:-]{0,63}$/), description: z.string().optional(), parameters: Schema.optional(), parametersJsonSchema: Json.optional() })
  .refine((d) => d.parameters === undefined || d.parametersJsonSchema === undefined, "parameters and parametersJsonSchema are mutually exclusive");
const GenerateContentRequest = z.strictObject({
  contents: z.array(Content).min(1),
  systemInstruction: z.strictObject({ role: z.string().optional(), parts: z.array(z.strictObject({ text: z.string() })).min(1) }).optional(),
  tools: z.array(z.strictObject({ functionDeclarations: z.array(Declaration).min(1) })).optional(),
  toolConfig: z
    .strictObject({ functionCallingConfig: z.strictObject({ mode: z.enum(["AUTO", "ANY", "NONE", "VALIDATED"]), allowedFunctionNames: z.array(z.string()).optional() }) })
    .refine((c) => c.functionCallingConfig.allowedFunctionNames === undefined || c.functionCallingConfig.mode === "ANY", "allowedFunctionNames needs mode ANY")
    .optional(),
  generationConfig: z
    .strictObject({
      maxOutputTokens: z.int().positive().optional(),
      temperature: z.number().min(0).max(2).optional(),
      topP: z.number().min(0).max(1).optional(),
      topK: z.int().optional(),
      stopSequences: z.array(z.string()).max(5).optional(),
      responseMimeType: z.enum(["text/plain", "application/json", "text/x.enum"]).optional(),
      responseSchema: Schema.optional(),
      candidateCount: z.int().optional(),
      seed: z.int().optional(),
    })
    .optional(),
});
type GenerateContentRequest = z.infer<typeof GenerateContentRequest>;

function errorBody(code: number, message: string, details?: unknown[]) {
  return { error: { code, message, status: STATUS_NAMES[code] ?? "UNKNOWN", ...(details === undefined ? {} : { details }) } };
}

/** Google's wording for an unknown field: "Invalid JSON payload received. Unknown name ...". */
function describe(error: z.ZodError): string {
  const issue = error.issues[0];
  if (issue?.code === "unrecognized_keys") {
    const at = issue.path.length === 0 ? "" : ` at '${issue.path.map(String).join(".")}'`;
    return `Invalid JSON payload received. Unknown name "${issue.keys[0] ?? ""}"${at}: Cannot find field.`;
  }
  return `${(issue?.path ?? []).map(String).join(".")}: ${issue?.message ?? "invalid"}`;
}

function conversationProblem(request: GenerateContentRequest): string | undefined {
  const { contents } = request;
  for (let i = 0; i < contents.length; i++) {
    const responses = contents[i]?.parts.filter((p) => "functionResponse" in p).length ?? 0;
    if (responses === 0) continue;
    const previous = contents[i - 1];
    const calls = previous?.role === "model" ? previous.parts.filter((p) => "functionCall" in p).length : 0;
    if (calls === 0) return "Please ensure that function response turn comes immediately after a function call turn.";
    if (calls !== responses) return "Please ensure that the number of function response parts is equal to the number of function call parts of the function call turn.";
  }
  return undefined;
}

function chunksOf(text: string): string[] {
  return text.match(/\s*\S+(?:\s+\S+)?/g) ?? [];
}

export async function startFakeGemini(initial: FakeGeminiBehaviour = {}): Promise<FakeGemini> {
  let behaviour: FakeGeminiBehaviour = { ...initial };
  let sequence = 0;

  async function handle(ex: Exchange): Promise<void> {
    const current = behaviour;
    const refuse = (code: number, message: string, details?: unknown[]) => ex.json(code, errorBody(code, message, details));
    const route = /^\/v1beta\/models\/([^/:]+):(generateContent|streamGenerateContent)$/.exec(ex.record.path);
    if (ex.req.method !== "POST" || route === null) return refuse(404, `Not found: ${ex.req.method} ${ex.record.path}`);
    const [, model = "", method] = route;
    const key = ex.req.headers["x-goog-api-key"];
    if (typeof key !== "string" || key === "") {
      return refuse(403, "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.");
    }
    if (current.apiKey !== undefined && key !== current.apiKey) {
      return refuse(400, "API key not valid. Please pass a valid API key.", [{ "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason: "API_KEY_INVALID", domain: "googleapis.com" }]);
    }
    const stream = method === "streamGenerateContent";
    if (stream && ex.record.query.get("alt") !== "sse") return refuse(400, "this fake streams only with alt=sse");
    const parsed = GenerateContentRequest.safeParse(ex.record.body);
    if (!parsed.success) return refuse(400, describe(parsed.error));
    const problem = conversationProblem(parsed.data);
    if (problem !== undefined) return refuse(400, problem);

    if (current.delayFirstByteMs !== undefined) await sleep(current.delayFirstByteMs);
    if (current.holdFirstByte !== undefined) await current.holdFirstByte;
    if (ex.closed) return;
    if (current.error !== undefined) {
      const { status, message, retryDelay } = current.error;
      const details = status === 429 ? [{ "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: retryDelay ?? "7s" }] : undefined;
      return refuse(status, message ?? (status === 503 ? "The model is overloaded. Please try again later." : `fake upstream error ${status}`), details);
    }

    sequence += 1;
    const responseId = `fakeGemini${sequence}`;
    const modelVersion = model;
    const text = current.text ?? DEFAULT_TEXT;
    const prompt = current.usage?.promptTokenCount ?? Math.ceil(JSON.stringify(parsed.data.contents).length / 4);
    const usageMetadata = {
      promptTokenCount: prompt,
      candidatesTokenCount: current.usage?.candidatesTokenCount ?? chunksOf(text).length * 2,
      totalTokenCount: 0,
      promptTokensDetails: [{ modality: "TEXT", tokenCount: prompt }],
      ...(current.usage?.thoughtsTokenCount === undefined ? {} : { thoughtsTokenCount: current.usage.thoughtsTokenCount }),
      ...(current.usage?.cachedContentTokenCount === undefined ? {} : { cachedContentTokenCount: current.usage.cachedContentTokenCount }),
    };
    usageMetadata.totalTokenCount = usageMetadata.promptTokenCount + usageMetadata.candidatesTokenCount + (current.usage?.thoughtsTokenCount ?? 0);
    const finishReason = current.finishReason ?? "STOP";
    const callParts = (current.functionCalls ?? []).map((call) => ({ functionCall: { name: call.name, args: call.args } }));

    if (!stream) {
      if (current.blockPrompt !== undefined) return ex.json(200, { promptFeedback: { blockReason: current.blockPrompt }, usageMetadata, modelVersion, responseId });
      const parts = [...(text === "" ? [] : [{ text }]), ...callParts];
      return ex.json(200, { candidates: [{ content: { parts, role: "model" }, finishReason, index: 0 }], usageMetadata, modelVersion, responseId });
    }

    const partial = { promptTokenCount: prompt, totalTokenCount: prompt };
    const chunks: unknown[] = chunksOf(text).map((piece) => ({ candidates: [{ content: { parts: [{ text: piece }], role: "model" }, index: 0 }], usageMetadata: partial, modelVersion, responseId }));
    // Function calls arrive whole, in one chunk; the last chunk carries finishReason and the full usage.
    if (callParts.length > 0) chunks.push({ candidates: [{ content: { parts: callParts, role: "model" }, index: 0 }], usageMetadata: partial, modelVersion, responseId });
    chunks.push(
      current.blockPrompt !== undefined
        ? { promptFeedback: { blockReason: current.blockPrompt }, usageMetadata, modelVersion, responseId }
        : { candidates: [{ content: { parts: [{ text: "" }], role: "model" }, finishReason, index: 0 }], usageMetadata, modelVersion, responseId },
    );

    ex.startStream({ "content-type": "text/event-stream", "x-content-type-options": "nosniff" });
    let sent = 0;
    for (const chunk of chunks) {
      if (current.dropAfterChunks !== undefined && sent >= current.dropAfterChunks) return ex.drop();
      if (current.endAfterChunks !== undefined && sent >= current.endAfterChunks) return ex.end();
      if (current.errorEvent !== undefined && sent >= current.errorEvent.afterChunks) {
        const { code, status, message } = current.errorEvent;
        ex.write(`data: ${JSON.stringify({ error: { code, message, status } })}\r\n\r\n`);
        return ex.end();
      }
      ex.write(`data: ${JSON.stringify(chunk)}\r\n\r\n`);
      sent += 1;
      if (sent === 1 && current.streamGate !== undefined) await current.streamGate;
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
