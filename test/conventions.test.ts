import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.ts";
import { ALLOWED_REQUEST_HEADERS, EXPOSED_HEADERS } from "../src/http/cors.ts";
import { fineAtomicToUsd } from "../src/lib/money.ts";
import { startTestGateway, type TestGateway } from "./support/gateway.ts";

/** Issue 17, item 5: what OpenAI-style clients and browsers expect of /v1/models, CORS and a 402. */

const ORIGIN = "https://agent.example";
let gateway: TestGateway;

beforeAll(async () => {
  gateway = await startTestGateway({ CORS_ORIGINS: `${ORIGIN}, http://localhost:5173`, PRICE_MARKUP_BPS: "1234", MIN_PRICE_USD: "0.0002" });
});
afterAll(async () => {
  await gateway?.close();
});

const openai = () => new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: "unused", maxRetries: 0 });
const chatBody = JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "Hello" }] });

describe("GET /v1/models and /v1/models/{id}", () => {
  it("lists every model with created, owned_by, the list price and the effective price beside it", async () => {
    const page = await openai().models.list();
    const ids = page.data.map((m) => m.id);
    expect(ids[0]).toBe("auto");
    expect(ids).toContain("gpt-4o-mini");
    for (const model of page.data) {
      expect(model.object).toBe("model");
      expect(Number.isInteger(model.created) && model.created > 1_600_000_000, model.id).toBe(true);
      expect(model.owned_by.length, model.id).toBeGreaterThan(0);
    }
    const mini = page.data.find((m) => m.id === "gpt-4o-mini") as unknown as Record<string, Record<string, unknown>>;
    expect(mini["created"]).toBe(Date.UTC(2024, 6, 18) / 1000);
    expect(mini["owned_by"]).toBe("openai");
    expect(mini["pricing"]).toMatchObject({ usd_per_1m_input_tokens: "0.15", usd_per_1m_output_tokens: "0.60", usd_per_1m_cached_input_tokens: "0.075" });
    // 0.15 × 1.1234, 0.60 × 1.1234, 0.075 × 1.1234: what pricing.ts charges per 1M tokens.
    expect(mini["effective_pricing"]).toEqual({
      usd_per_1m_input_tokens: "0.168510",
      usd_per_1m_output_tokens: "0.674040",
      usd_per_1m_cached_input_tokens: "0.084255",
      min_usd_per_call: "0.000200",
      markup_bps: 1234,
    });
  });

  it("retrieves one model, the same object the list holds, with an embedding model's dimensions", async () => {
    const list = (await (await fetch(`${gateway.url}/v1/models`)).json()) as { data: Array<{ id: string }> };
    const small = await openai().models.retrieve("text-embedding-3-small");
    expect(small).toEqual(list.data.find((m) => m.id === "text-embedding-3-small"));
    expect((small as unknown as { dimensions: number }).dimensions).toBe(1536);
    expect((await openai().models.retrieve("auto")).owned_by).toBe("tollgate");
  });

  it("answers an unknown id 404 model_not_found naming it, through the official client too", async () => {
    const res = await fetch(`${gateway.url}/v1/models/gpt-17-ultra`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({
      error: { message: "The model 'gpt-17-ultra' does not exist; GET /v1/models lists the models", type: "invalid_request_error", code: "model_not_found", param: "model" },
    });
    const slashed = await fetch(`${gateway.url}/v1/models/meta-llama/Llama-9`);
    expect(((await slashed.json()) as { error: { message: string } }).error.message).toMatch(/'meta-llama\/Llama-9'/);
    await expect(openai().models.retrieve("gpt-17-ultra")).rejects.toMatchObject({ status: 404, code: "model_not_found" });
  });
});

describe("CORS (CORS_ORIGINS)", () => {
  const preflight = (path: string, origin: string, requestHeaders = "content-type, payment-signature, x-stainless-os") =>
    fetch(`${gateway.url}${path}`, {
      method: "OPTIONS",
      headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": requestHeaders },
    });

  it("answers a preflight on the node:http routes and the Express ones, allowing the payment headers", async () => {
    for (const path of ["/v1/chat/completions", "/v1/embeddings", "/v1/models", "/v1/route", "/v1/debts/0x0000000000000000000000000000000000000001"]) {
      const res = await preflight(path, ORIGIN);
      expect(res.status, path).toBe(204);
      expect(res.headers.get("access-control-allow-origin"), path).toBe(ORIGIN);
      expect(res.headers.get("access-control-allow-methods"), path).toBe("GET, POST, OPTIONS");
      const allowed = (res.headers.get("access-control-allow-headers") ?? "").toLowerCase().split(/\s*,\s*/);
      for (const header of ["payment-signature", "x-payment", "content-type", "x-tollgate-max-price", "x-stainless-os"]) expect(allowed, `${path} ${header}`).toContain(header);
      expect(res.headers.get("vary"), path).toBe("Origin");
    }
  });

  it("exposes the x402 challenge and the x-tollgate-* headers of a 402 to an allowed origin", async () => {
    const res = await fetch(`${gateway.url}/v1/chat/completions`, { method: "POST", headers: { origin: ORIGIN, "content-type": "application/json" }, body: chatBody });
    expect(res.status).toBe(402);
    expect(res.headers.get("access-control-allow-origin")).toBe(ORIGIN);
    const exposed = (res.headers.get("access-control-expose-headers") ?? "").toLowerCase().split(", ");
    for (const header of ["payment-required", "payment-response", "x-payment-response", "x-tollgate-price", "x-tollgate-model", "x-tollgate-charged"]) expect(exposed).toContain(header);
    // Every x-tollgate-* header the 402 carries is readable.
    const sent = [...res.headers.keys()].filter((h) => h.startsWith("x-tollgate-"));
    expect(sent.length).toBeGreaterThan(2);
    for (const header of sent) expect(exposed).toContain(header);
  });

  it("gives an origin not on the list no CORS grant, on a preflight or a call", async () => {
    const res = await preflight("/v1/chat/completions", "https://evil.example");
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
    const call = await fetch(`${gateway.url}/v1/models`, { headers: { origin: "https://evil.example" } });
    expect(call.status).toBe(200);
    expect(call.headers.get("access-control-allow-origin")).toBeNull();
    expect(call.headers.get("access-control-expose-headers")).toBeNull();
  });

  it("lets an OPTIONS that is not a preflight reach the routes as before", async () => {
    const res = await fetch(`${gateway.url}/v1/models`, { method: "OPTIONS", headers: { origin: ORIGIN } });
    expect(res.headers.get("access-control-allow-origin")).toBe(ORIGIN);
    expect(res.status).not.toBe(204);
  });

  it("exposes or allows every x-tollgate-* header named in src/", () => {
    const names = new Set<string>();
    const walk = (dir: string): void => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (entry.name.endsWith(".ts")) for (const m of readFileSync(path, "utf8").matchAll(/"(x-tollgate-[a-z-]+)"/g)) names.add(m[1] ?? "");
      }
    };
    walk(new URL("../src", import.meta.url).pathname);
    const known = new Set([...EXPOSED_HEADERS, ...ALLOWED_REQUEST_HEADERS].map((h) => h.toLowerCase()));
    expect(names.size).toBeGreaterThan(10);
    expect([...names].filter((n) => !known.has(n))).toEqual([]);
  });

  it("refuses a CORS_ORIGINS entry that is not an origin, naming the variable", () => {
    expect(() => loadConfig({ CORS_ORIGINS: "https://app.example/path" })).toThrow(/CORS_ORIGINS.*an origin such as/s);
    expect(() => loadConfig({ CORS_ORIGINS: "app.example" })).toThrow(/CORS_ORIGINS/);
    expect(loadConfig({ CORS_ORIGINS: "*" }).corsOrigins).toEqual(["*"]);
    expect(loadConfig({}).corsOrigins).toEqual([]);
  });
});

describe("a 402 read by a client that does not speak x402", () => {
  it("tells it how to pay, in the message the openai client shows, with the price and the README section", async () => {
    const error = await openai()
      .chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "Hello" }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    const message = (error as InstanceType<typeof OpenAI.APIError>).message;
    expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(402);
    expect(message).toMatch(/^402 "Payment required to run this call \(at most \d+\.\d{6} USD in eip155:84532 USDC\)\. This endpoint is paid per call with x402/);
    expect(message).toContain("@x402/fetch");
    expect(message).toContain("PAYMENT-SIGNATURE");
    expect(message).toContain("README.md#use-it-from-your-agent");
    // The README has the section the message points to.
    expect(readFileSync(new URL("../README.md", import.meta.url), "utf8")).toMatch(/^## Use it from your agent$/m);
  });

  it("keeps the body an x402 v1 PaymentRequired, its error a string", async () => {
    const res = await fetch(`${gateway.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: chatBody });
    const body = (await res.json()) as { x402Version: number; error: unknown; accepts: unknown[] };
    expect(body.x402Version).toBe(1);
    expect(typeof body.error).toBe("string");
    expect(body.accepts).toHaveLength(1);
  });
});

describe("fineAtomicToUsd", () => {
  it("writes sub-atomic amounts exactly, never fewer than 6 decimals", () => {
    expect(fineAtomicToUsd(1_650_000_000n, 4)).toBe("0.165000");
    expect(fineAtomicToUsd(15n, 1)).toBe("0.0000015");
    expect(fineAtomicToUsd(12_345_678n, 0)).toBe("12.345678");
    expect(() => fineAtomicToUsd(-1n, 2)).toThrow(RangeError);
  });
});
