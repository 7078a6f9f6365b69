import { writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { devnetPrivateKey, devnetTestAccount } from "../src/devnet/accounts.ts";
import { TASKS } from "../src/routing/types.ts";
import { createPayingFetch, type PayingFetch } from "../examples/paying-fetch.ts";
import { startFakeOpenAI, type FakeOpenAI } from "./fakes/openai-upstream.ts";
import { startTestGateway, type TestGateway } from "./support/gateway.ts";

/**
 * Failover on the paid path: a catalog of two OpenAI-compatible models on two loopback
 * upstreams. `auto:quality` makes the dearer "primary-model" the primary and the cheaper
 * "backup-model" its fallback (its worst-case price fits what was paid).
 */

let primary: FakeOpenAI;
let backup: FakeOpenAI;
let gateway: TestGateway;
let paying: PayingFetch;

const entry = (id: string, provider: string, baseUrl: string, price: string, quality: number) => ({
  id,
  provider,
  baseUrl,
  pricing: { inputPerMTok: price, outputPerMTok: price, asOf: "2026-11-01", source: "https://example.com/test-prices" },
  contextWindow: 128_000,
  maxOutputTokens: 4_096,
  capabilities: ["tools", "json", "streaming"],
  // Every task, so the primary leads whatever the classifier makes of a test's prompt.
  quality: Object.fromEntries(TASKS.map((task) => [task, quality])),
});

beforeAll(async () => {
  primary = await startFakeOpenAI({ content: "from primary" });
  backup = await startFakeOpenAI({ content: "from backup" });
  const dir = mkdtempSync(join(tmpdir(), "tollgate-catalog-"));
  const catalogPath = join(dir, "catalog.json");
  writeFileSync(
    catalogPath,
    JSON.stringify({ version: 1, models: [entry("primary-model", "openai", primary.url, "10.00", 95), entry("backup-model", "groq", backup.url, "1.00", 60)] }),
  );
  gateway = await startTestGateway({ CATALOG_PATH: catalogPath, OPENAI_API_KEY: "sk-a", GROQ_API_KEY: "gsk-b" });
  const agent = devnetTestAccount(3);
  await gateway.dev.faucet(agent.address, 50_000_000n);
  paying = createPayingFetch({ privateKey: devnetPrivateKey(agent), allowedAsset: { network: "eip155:84532", asset: gateway.dev.info.asset } });
});

afterAll(async () => {
  await gateway?.close();
  await primary?.close();
  await backup?.close();
});

function call(content: string, extra: Record<string, unknown> = {}, signal?: AbortSignal) {
  return paying.fetch(`${gateway.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "auto:quality", messages: [{ role: "user", content }], max_tokens: 64, ...extra }),
    ...(signal ? { signal } : {}),
  });
}

function primaryHealth() {
  return Object.values(gateway.runtime.deps.health.snapshot(Date.now())).find((h) => h.model === "primary-model");
}

describe("failover", () => {
  it("fails over to the fallback when the primary answers 500, at the price already paid", async () => {
    primary.setBehaviour({ error: { status: 500 } });
    try {
      const res = await call("hello there");
      expect(res.status).toBe(200);
      expect(res.headers.get("x-tollgate-model")).toBe("backup-model");
      expect(((await res.json()) as { choices: Array<{ message: { content: string } }> }).choices[0]?.message.content).toBe("from backup");
      const row = await gateway.runtime.deps.ledger.get(res.headers.get("x-tollgate-request-id") ?? "");
      expect(row?.status).toBe("settled");
      expect(row?.model).toBe("primary-model"); // what was quoted and paid for
      expect(row?.provider).toBe("groq");
    } finally {
      primary.resetBehaviour({ content: "from primary" });
    }
  });

  it("does not fail over on a 400: the request itself is at fault, and nothing is charged", async () => {
    primary.setBehaviour({ error: { status: 400, message: "bad field" } });
    const backupCalls = backup.requests.length;
    const receipts = paying.receipts.length;
    try {
      const res = await call("hello 400");
      expect(res.status).toBe(502);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("upstream_error");
      expect(paying.receipts.length).toBe(receipts);
      expect(backup.requests.length).toBe(backupCalls);
      const row = await gateway.runtime.deps.ledger.get(res.headers.get("x-tollgate-request-id") ?? "");
      expect(row?.status).toBe("failed");
      expect(row?.txHash).toBeNull();
    } finally {
      primary.resetBehaviour({ content: "from primary" });
    }
  });

  it("waits out a 429's Retry-After and retries the same model", async () => {
    primary.setBehaviour({ error: { status: 429, message: "slow down" } });
    const before = primary.requests.length;
    const pending = call("rate limited");
    await primary.waitForRequests(before + 1);
    primary.resetBehaviour({ content: "from primary" }); // also forgets the recorded 429
    const res = await pending;
    expect(res.status).toBe(200);
    expect(res.headers.get("x-tollgate-model")).toBe("primary-model");
    expect(primary.requests).toHaveLength(1); // the retry, on the same model
  });

  it("fails a stream over when the primary breaks before its first byte", async () => {
    primary.setBehaviour({ dropAfterEvents: 0 });
    try {
      const res = await call("stream please", { stream: true });
      expect(res.status).toBe(200);
      expect(res.headers.get("x-tollgate-model")).toBe("backup-model");
      const text = await res.text();
      expect(text).toContain("backup");
      expect(text).not.toContain("primary");
    } finally {
      primary.resetBehaviour({ content: "from primary" });
    }
  });

  it("takes a stream's health sample when it ends: time to first byte and the whole answer's latency", async () => {
    const before = primaryHealth();
    const res = await call("stream to the end", { stream: true });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("[DONE]");
    const after = primaryHealth();
    expect(after?.samples).toBe((before?.samples ?? 0) + 1);
    expect(after?.latencySamples).toBe((before?.latencySamples ?? 0) + 1);
    expect(after?.ttftMs).toBeGreaterThan(0);
    expect(after?.consecutiveFailures).toBe(0);
  });

  it("counts a stream that breaks after its first bytes as a failure of its model", async () => {
    // Two events reach the agent, then the upstream drops the connection.
    // The gate opens once the paid call reached the upstream, whatever the 402 round trip took.
    const arrived = primary.waitForRequests(primary.requests.length + 1);
    primary.setBehaviour({ streamGate: arrived.then(() => new Promise((resolve) => setTimeout(resolve, 200))), dropAfterEvents: 2 });
    try {
      const before = primaryHealth();
      const res = await call("stream that breaks", { stream: true });
      expect(res.status).toBe(200);
      expect(await res.text()).toMatch(/"code":"upstream_error"/);
      const after = primaryHealth();
      expect(after?.samples).toBe((before?.samples ?? 0) + 1);
      expect(after?.consecutiveFailures).toBe((before?.consecutiveFailures ?? 0) + 1);
      expect(after?.latencySamples).toBe(before?.latencySamples ?? 0);
    } finally {
      primary.resetBehaviour({ content: "from primary" });
    }
  });

  it("aborts the upstream when the agent disconnects mid-stream before any content, and settles nothing", async () => {
    let release = () => {};
    // Only the role chunk goes out before the gate: no content reaches the agent.
    primary.setBehaviour({ streamGate: new Promise<void>((resolve) => (release = resolve)), streamGateAfterEvents: 1 });
    const receipts = paying.receipts.length;
    const controller = new AbortController();
    const res = await call("long story", { stream: true }, controller.signal);
    expect(res.status).toBe(200);
    const requestId = res.headers.get("x-tollgate-request-id") ?? "";
    const reader = res.body?.getReader();
    await reader?.read(); // the first bytes (the role chunk) arrived
    const upstreamRequest = primary.requests.at(-1);
    controller.abort();
    expect(await upstreamRequest?.outcome).toBe("client-closed");
    release();
    // The gateway records the failure once its stream loop notices.
    for (let i = 0; i < 50 && (await gateway.runtime.deps.ledger.get(requestId))?.status !== "failed"; i++) await new Promise((r) => setTimeout(r, 20));
    expect((await gateway.runtime.deps.ledger.get(requestId))?.status).toBe("failed");
    expect(paying.receipts.length).toBe(receipts);
    primary.resetBehaviour({ content: "from primary" });
  });
});
