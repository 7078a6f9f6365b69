import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";

/**
 * The plumbing the Anthropic and Gemini fakes share: a node:http server on 127.0.0.1 port 0
 * that records every request (headers, JSON body, the response text written so far) and how
 * the exchange ended, so tests can see a client hang up. The wire formats live in each fake.
 */

export type RequestOutcome = "completed" | "client-closed" | "dropped";

export interface RecordedRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** Parsed JSON body (undefined for empty and unparseable bodies). */
  body: unknown;
  /** Response body text written so far. */
  response: string;
  /** How the exchange ended: answered in full, the client hung up, or the fake dropped it. */
  outcome: Promise<RequestOutcome>;
}

/** One exchange, as a fake's handler sees it. */
export interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  record: RecordedRequest;
  /** Whole JSON answer. */
  json(status: number, payload: unknown, headers?: Record<string, string>): void;
  /** Status line and headers of a stream, sent at once. */
  startStream(headers: Record<string, string>): void;
  /** One piece of a streamed body, recorded. */
  write(text: string): void;
  end(): void;
  /** Destroy the socket mid-response, as a failing upstream would. */
  drop(): void;
  /** True once the client went away. */
  readonly closed: boolean;
}

export interface LoopbackServer {
  /** http://127.0.0.1:<port> */
  origin: string;
  requests: RecordedRequest[];
  forget(): void;
  waitForRequests(count: number): Promise<void>;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const parts: Buffer[] = [];
  for await (const part of req) parts.push(Buffer.isBuffer(part) ? part : Buffer.from(String(part)));
  return Buffer.concat(parts).toString("utf8");
}

export async function startLoopbackServer(handle: (exchange: Exchange) => Promise<void>): Promise<LoopbackServer> {
  const requests: RecordedRequest[] = [];
  const waiters: Array<{ count: number; resolve: () => void }> = [];

  async function onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const raw = await readBody(req);
    let body: unknown;
    try {
      body = raw === "" ? undefined : JSON.parse(raw);
    } catch {
      body = undefined;
    }
    let settle: (outcome: RequestOutcome) => void = () => {};
    const record: RecordedRequest = {
      method: req.method ?? "",
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      body,
      response: "",
      outcome: new Promise((resolve) => (settle = resolve)),
    };
    let dropped = false;
    res.on("close", () => settle(dropped ? "dropped" : res.writableFinished ? "completed" : "client-closed"));
    requests.push(record);
    for (const waiter of waiters.filter((w) => requests.length >= w.count)) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve();
    }

    const exchange: Exchange = {
      req,
      res,
      record,
      json(status, payload, headers = {}) {
        const text = JSON.stringify(payload);
        record.response = text;
        res.writeHead(status, { "content-type": "application/json", ...headers });
        res.end(text);
      },
      startStream(headers) {
        res.writeHead(200, headers);
        res.flushHeaders();
      },
      write(text) {
        record.response += text;
        res.write(text);
      },
      end() {
        res.end();
      },
      drop() {
        dropped = true;
        res.socket?.destroy();
      },
      get closed() {
        return res.destroyed;
      },
    };
    await handle(exchange);
  }

  const server = createServer((req, res) => {
    onRequest(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
      res.end(`fake upstream crashed: ${String(error)}`);
    });
  });
  // Node closes idle keep-alive sockets after 5 s by default. Client and fake share one event
  // loop here, so a long synchronous stretch in a test (the first tokenizer load takes ~2 s of
  // CPU, more on a busy machine) can let that timer fire just as the client reuses the socket:
  // ECONNRESET on a request that did nothing wrong. Real APIs keep idle connections far longer.
  server.keepAliveTimeout = 120_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("fake upstream has no TCP address");

  return {
    origin: `http://127.0.0.1:${address.port}`,
    requests,
    forget() {
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
