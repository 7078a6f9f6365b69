import { connect } from "node:net";

export interface RawResponse {
  status: number;
  headers: string;
  body: string;
}

/**
 * Sends one HTTP/1.1 request byte for byte over a plain socket, for what fetch refuses to send:
 * a header line repeated, or header bytes outside ASCII. `headerLines` are written as given
 * (each a Buffer or a latin1 string), after Host, Content-Type, Content-Length and Connection.
 */
export function rawPost(url: string, path: string, headerLines: Array<string | Buffer>, body: string): Promise<RawResponse> {
  const { hostname, port } = new URL(url);
  const payload = Buffer.from(body, "utf8");
  const head = [
    `POST ${path} HTTP/1.1`,
    `Host: ${hostname}:${port}`,
    "Content-Type: application/json",
    `Content-Length: ${payload.length}`,
    "Connection: close",
  ].map((line) => Buffer.from(`${line}\r\n`, "latin1"));
  const extra = headerLines.map((line) => Buffer.concat([typeof line === "string" ? Buffer.from(line, "latin1") : line, Buffer.from("\r\n")]));
  const request = Buffer.concat([...head, ...extra, Buffer.from("\r\n"), payload]);

  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) });
    const chunks: Buffer[] = [];
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("error", reject);
    socket.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      const split = text.indexOf("\r\n\r\n");
      const statusLine = /^HTTP\/1\.1 (\d{3})/.exec(text);
      if (split < 0 || statusLine?.[1] === undefined) {
        reject(new Error(`not an HTTP response: ${JSON.stringify(text.slice(0, 200))}`));
        return;
      }
      resolve({ status: Number(statusLine[1]), headers: text.slice(0, split), body: text.slice(split + 4) });
    });
    socket.end(request);
  });
}
