import { connect } from "node:net";

export interface FirstByteRequest {
  url: string;
  headers: Readonly<Record<string, string>>;
  body: string;
}

export interface FirstByteSample {
  status: number;
  headers: Record<string, string>;
  /** From writing the request to the first byte of the response body. */
  firstByteMs: number;
  /** From writing the request to the last byte of the response body. */
  totalMs: number;
  /** The body, de-chunked. */
  body: string;
}

const TIMEOUT_MS = 30_000;
const HEADER_END = Buffer.from("\r\n\r\n");
const LAST_CHUNK = Buffer.from("0\r\n\r\n");

/**
 * One POST over a raw TCP connection, timing the first byte of the *body*, not of the status
 * line: a gateway that flushes headers early but holds the first SSE event back must not look
 * fast. The connection is opened before the clock starts and dropped afterwards, so each sample
 * is independent. The end of the response is found from its framing (Content-Length, or the
 * last chunk of a chunked body, RFC 9112 §6-7), not from the server closing the socket: some
 * servers ignore `Connection: close` and keep it open until their keep-alive timeout.
 */
export async function timeFirstByte(request: FirstByteRequest): Promise<FirstByteSample> {
  const url = new URL(request.url);
  const socket = connect({ host: url.hostname, port: Number(url.port) });
  socket.setNoDelay(true);
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  const body = Buffer.from(request.body);
  const head = [
    `POST ${url.pathname}${url.search} HTTP/1.1`,
    `Host: ${url.host}`,
    "Content-Type: application/json",
    `Content-Length: ${body.length}`,
    "Connection: close",
    ...Object.entries(request.headers).map(([name, value]) => `${name}: ${value}`),
    "",
    "",
  ].join("\r\n");

  return new Promise<FirstByteSample>((resolve, reject) => {
    let raw = Buffer.alloc(0);
    let parsed: { status: number; headers: Record<string, string>; bodyStart: number } | undefined;
    let firstByteAt: number | undefined;
    let done = false;
    const timer = setTimeout(() => socket.destroy(new Error(`no complete answer from ${request.url} within ${TIMEOUT_MS} ms`)), TIMEOUT_MS);

    const finish = (endedAt: number) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      if (parsed === undefined) return reject(new Error(`incomplete response from ${request.url}`));
      const rawBody = raw.subarray(parsed.bodyStart);
      const text = isChunked(parsed.headers) ? dechunk(rawBody) : rawBody.toString("utf8");
      resolve({ status: parsed.status, headers: parsed.headers, firstByteMs: (firstByteAt ?? endedAt) - started, totalMs: endedAt - started, body: text });
    };

    socket.on("data", (chunk: Buffer) => {
      const now = performance.now();
      raw = Buffer.concat([raw, chunk]);
      if (parsed === undefined) {
        const end = raw.indexOf(HEADER_END);
        if (end < 0) return;
        parsed = { ...parseHead(raw.subarray(0, end).toString("latin1")), bodyStart: end + HEADER_END.length };
      }
      const bodyBytes = raw.length - parsed.bodyStart;
      if (firstByteAt === undefined && bodyBytes > 0) firstByteAt = now;
      const length = parsed.headers["content-length"];
      if (isChunked(parsed.headers) ? raw.subarray(-LAST_CHUNK.length).equals(LAST_CHUNK) : length !== undefined && bodyBytes >= Number(length)) finish(now);
    });
    socket.once("error", (error) => {
      clearTimeout(timer);
      if (!done) reject(error);
      done = true;
    });
    socket.once("end", () => finish(performance.now()));

    const payload = Buffer.concat([Buffer.from(head, "latin1"), body]);
    const started = performance.now();
    socket.write(payload);
  });
}

function parseHead(head: string): { status: number; headers: Record<string, string> } {
  const [statusLine = "", ...lines] = head.split("\r\n");
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(":");
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1]), headers };
}

function isChunked(headers: Record<string, string>): boolean {
  return headers["transfer-encoding"]?.toLowerCase().includes("chunked") === true;
}

/** HTTP/1.1 chunked transfer coding (RFC 9112 §7.1), without trailers. */
function dechunk(data: Buffer): string {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = data.indexOf("\r\n", at);
    if (lineEnd < 0) break;
    const size = Number.parseInt(data.subarray(at, lineEnd).toString("latin1"), 16);
    if (!Number.isFinite(size) || size === 0) break;
    parts.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(parts).toString("utf8");
}
