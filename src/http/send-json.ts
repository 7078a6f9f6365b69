import type { ServerResponse } from "node:http";

/**
 * Ends `res` with `body` as JSON. One string write: headers and body leave in a single
 * syscall (a Buffer body would go out as a second chunk through writev).
 */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader("content-type", "application/json; charset=utf-8");
  res.setHeader("content-length", Buffer.byteLength(text));
  res.end(text);
}
