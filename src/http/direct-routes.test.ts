import { createServer, type RequestListener, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { TollgateError } from "../lib/errors.ts";
import { createLogger } from "../lib/logger.ts";
import { serveDirect } from "./direct-routes.ts";

let server: Server | undefined;

afterEach(async () => {
  await new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve())));
  server = undefined;
});

async function listen(listener: RequestListener): Promise<string> {
  server = createServer(listener).listen(0, "127.0.0.1");
  await new Promise<void>((resolve) => server?.once("listening", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe("serveDirect", () => {
  const logger = createLogger({ level: "silent" });
  const fallback: RequestListener = (_req, res: ServerResponse) => {
    res.statusCode = 299;
    res.end("fallback");
  };

  it("turns a route's rejection into the catalogue's error body: a TollgateError keeps its status and code, anything else is a 500", async () => {
    const url = await listen(serveDirect({
      "/refused": async () => { throw new TollgateError("invalid_header", "x-tollgate-max-price must be a number", { param: "x-tollgate-max-price" }); },
      "/broken": async () => { throw new Error("secret detail"); },
    }, fallback, logger));
    const refused = await fetch(`${url}/refused`, { method: "POST" });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toEqual({ error: { message: "x-tollgate-max-price must be a number", type: "invalid_request_error", code: "invalid_header", param: "x-tollgate-max-price" } });
    const broken = await fetch(`${url}/broken`, { method: "POST" });
    expect(broken.status).toBe(500);
    const text = await broken.text();
    expect(JSON.parse(text)).toEqual({ error: { message: "Internal error", type: "api_error", code: "internal_error", param: null } });
    expect(text).not.toContain("secret detail");
  });

  it("matches POST on the exact path, query string aside, and hands everything else to the fallback", async () => {
    const url = await listen(serveDirect({ "/v1/x": async (_req, res) => { res.end("direct"); } }, fallback, logger));
    const answer = async (path: string, method: string) => {
      const res = await fetch(`${url}${path}`, { method });
      return `${res.status} ${await res.text()}`;
    };
    expect(await answer("/v1/x", "POST")).toBe("200 direct");
    expect(await answer("/v1/x?a=1", "POST")).toBe("200 direct");
    expect(await answer("/v1/x", "GET")).toBe("299 fallback");
    expect(await answer("/v1/x/", "POST")).toBe("299 fallback");
    expect(await answer("/v1/y", "POST")).toBe("299 fallback");
  });
});
