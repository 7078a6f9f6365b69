import { createServer, type Server } from "node:http";

export interface BenchUpstreamOptions {
  /** Loopback port; 0 picks a free one. */
  port?: number;
  /**
   * Fixed delay before the answer (and before the first stream byte), standing in for a model's
   * time to first token. 0 (the default) makes gateway overhead the largest share of every call.
   */
  delayMs?: number;
}

/**
 * The cheapest possible OpenAI-compatible upstream for overhead benchmarks: a fixed
 * chat.completion body (or a short SSE stream with a usage chunk), no validation, no recording,
 * so the figures measure the gateway and not the fake.
 */
export async function startBenchUpstream(options: BenchUpstreamOptions = {}): Promise<{ url: string; server: Server }> {
  const delayMs = options.delayMs ?? 0;
  const completion = JSON.stringify({
    id: "chatcmpl-bench",
    object: "chat.completion",
    created: 1_700_000_000,
    model: "gpt-4o-mini",
    choices: [{ index: 0, message: { role: "assistant", content: "A toll for every call." }, finish_reason: "stop" }],
    usage: { prompt_tokens: 20, completion_tokens: 7, total_tokens: 27 },
  });
  const chunk = (delta: object, finish: string | null) =>
    `data: ${JSON.stringify({ id: "chatcmpl-bench", object: "chat.completion.chunk", created: 1_700_000_000, model: "gpt-4o-mini", choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
  const stream =
    chunk({ role: "assistant", content: "" }, null) +
    chunk({ content: "A toll for every call." }, null) +
    chunk({}, "stop") +
    `data: ${JSON.stringify({ id: "chatcmpl-bench", object: "chat.completion.chunk", created: 1_700_000_000, model: "gpt-4o-mini", choices: [], usage: { prompt_tokens: 20, completion_tokens: 7, total_tokens: 27 } })}\n\n` +
    "data: [DONE]\n\n";

  const server = createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (c: string) => (body += c));
    req.on("end", () => {
      const answer = () => {
        if (body.includes('"stream":true')) {
          res.writeHead(200, { "content-type": "text/event-stream" });
          res.end(stream);
        } else {
          res.writeHead(200, { "content-type": "application/json" });
          res.end(completion);
        }
      };
      if (delayMs > 0) setTimeout(answer, delayMs);
      else answer();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return { url: `http://127.0.0.1:${address.port}/v1`, server };
}
