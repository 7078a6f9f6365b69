import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeOpenAI, type FakeOpenAI } from "./fakes/openai-upstream.ts";
import { startTestGateway, TEST_ADMIN_TOKEN, type TestGateway } from "./support/gateway.ts";

/**
 * Hardening (issue 11): the small holes an outside review found, each reproduced against the real
 * gateway on its own devnet with a loopback upstream.
 */

let gateway: TestGateway;
let upstream: FakeOpenAI;

beforeAll(async () => {
  upstream = await startFakeOpenAI({ content: "Hardened." });
  gateway = await startTestGateway({ OPENAI_API_KEY: "sk-test", OPENAI_BASE_URL: upstream.url });
});

afterAll(async () => {
  await gateway?.close();
  await upstream?.close();
});

interface ErrorBody {
  error: { code: string; message: string; param: string | null; type: string; [extra: string]: unknown };
}

function post(path: string, payload: unknown, headers: Record<string, string> = {}) {
  return fetch(`${gateway.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof payload === "string" ? payload : JSON.stringify(payload),
  });
}

describe("admin bearer token", () => {
  it.each(["Bearer", "bearer", "BEARER", "bEaReR"])("accepts the scheme spelled %s (RFC 9110 §11.1: case-insensitive)", async (scheme) => {
    const res = await fetch(`${gateway.url}/admin/wallets`, { headers: { authorization: `${scheme} ${TEST_ADMIN_TOKEN}` } });
    expect(res.status).toBe(200);
  });

  it("still refuses a wrong token, another scheme, or no credentials", async () => {
    for (const authorization of [`bearer ${TEST_ADMIN_TOKEN}x`, `Basic ${TEST_ADMIN_TOKEN}`, "bearer", `bearer${TEST_ADMIN_TOKEN}`]) {
      const res = await fetch(`${gateway.url}/admin/wallets`, { headers: { authorization } });
      expect(res.status, authorization).toBe(401);
      expect(((await res.json()) as ErrorBody).error.code).toBe("unauthorized");
    }
  });
});
