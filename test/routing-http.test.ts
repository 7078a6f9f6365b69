import { decodePaymentRequiredHeader } from "@x402/core/http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { devnetTestAccount } from "../src/devnet/accounts.ts";
import { startTestGateway, type TestGateway } from "./support/gateway.ts";
import { base64Json, signAuthorization } from "./support/sign-payment.ts";

/** The routing engine through HTTP: strategies, limits, transparency headers, and live health. */

let gateway: TestGateway;

beforeAll(async () => {
  gateway = await startTestGateway();
});

afterAll(async () => {
  await gateway?.close();
});

const chat = (content: string, model = "auto") => JSON.stringify({ model, messages: [{ role: "user", content }], max_tokens: 256 });

function post(path: string, body: string, headers: Record<string, string> = {}) {
  return fetch(`${gateway.url}${path}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });
}

describe("routing over HTTP", () => {
  it("answers every strategy on /v1/route with a decision, a price and a reason", async () => {
    for (const strategy of ["cost", "quality", "balanced", "task"]) {
      const res = await post("/v1/route", chat("Write a Python function that merges two sorted lists", `auto:${strategy}`));
      expect(res.status).toBe(200);
      const decision = (await res.json()) as { strategy: string; task: string; model: string; reason: string; price: { amount: string }; candidates: unknown[] };
      expect(decision.strategy).toBe(strategy);
      expect(decision.task).toBe("code");
      expect(decision.reason.length).toBeGreaterThan(10);
      expect(BigInt(decision.price.amount)).toBeGreaterThan(0n);
      expect(decision.candidates.length).toBeGreaterThan(0);
    }
  });

  it("picks a dearer model under quality than under cost", async () => {
    const price = async (strategy: string) => {
      const res = await post("/v1/route", chat("Prove that there are infinitely many primes.", `auto:${strategy}`));
      return BigInt(((await res.json()) as { price: { amount: string } }).price.amount);
    };
    expect(await price("quality")).toBeGreaterThan(await price("cost"));
  });

  it("names strategy, task and model on the 402", async () => {
    const res = await post("/v1/chat/completions", chat("Translate 'good morning' into French"));
    expect(res.status).toBe(402);
    expect(res.headers.get("x-tollgate-strategy")).toBe("balanced");
    expect(res.headers.get("x-tollgate-task")).toBe("translation");
    expect(res.headers.get("x-tollgate-model")).toBeTruthy();
  });

  it("shows the first candidates on a 402 and all of them on /v1/route", async () => {
    const body = chat("Tell me a joke");
    const challenge = (await (await post("/v1/chat/completions", body)).json()) as { route: { candidates: unknown[]; candidateCount: number } };
    const route = (await (await post("/v1/route", body)).json()) as { candidates: unknown[]; candidateCount: number };
    expect(challenge.route.candidates).toHaveLength(4);
    expect(route.candidates.length).toBe(route.candidateCount);
    expect(challenge.route.candidateCount).toBe(route.candidateCount);
    expect(route.candidateCount).toBeGreaterThan(4);
  });

  it("refuses bad limit headers with 400 naming the header", async () => {
    for (const [header, value] of [
      ["x-tollgate-max-price", "-1"],
      ["x-tollgate-max-latency-ms", "fast"],
      ["x-tollgate-require", "telepathy"],
    ] as const) {
      const res = await post("/v1/chat/completions", chat("hello"), { [header]: value });
      expect(res.status, header).toBe(400);
      const body = (await res.json()) as { error: { code: string; param: string; message: string } };
      expect(body.error.code).toBe("invalid_header");
      expect(body.error.param).toBe(header);
      expect(body.error.message).toContain(header);
    }
  });

  it("answers 422 saying which limit excluded which models when nothing fits", async () => {
    const res = await post("/v1/chat/completions", chat("hello"), { "x-tollgate-max-price": "0.000001" });
    expect(res.status).toBe(422);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("no_model_available");
    expect(body.error.message).toMatch(/price/i);
  });

  it("refuses a vision request to a text-only model, naming the capability", async () => {
    const body = JSON.stringify({
      model: "deepseek-chat",
      messages: [{ role: "user", content: [{ type: "text", text: "What is in this picture?" }, { type: "image_url", image_url: { url: "https://example.com/cat.png" } }] }],
    });
    const res = await post("/v1/chat/completions", body);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/vision/);
  });

  it("serves a paid retry on the quoted model even after that model's circuit opened", async () => {
    const agent = devnetTestAccount(15);
    await gateway.dev.faucet(agent.address, 5_000_000n);
    const body = chat("Summarise the plot of Hamlet in two sentences", "auto:cost");
    const challenge = await post("/v1/chat/completions", body);
    const quotedModel = challenge.headers.get("x-tollgate-model") ?? "";
    const accepted = decodePaymentRequiredHeader(challenge.headers.get("PAYMENT-REQUIRED") ?? "").accepts.find((a) => a.scheme === "exact");
    if (accepted === undefined) throw new Error("no requirement");

    // The quoted model now fails five times in a row: its circuit opens and routing drops it.
    const entry = gateway.runtime.deps.catalog.get(quotedModel)?.entry;
    if (entry === undefined) throw new Error(`unknown model ${quotedModel}`);
    for (let i = 0; i < 10; i++) gateway.runtime.deps.health.record({ model: entry.id, provider: entry.provider, ok: false, now: Date.now() });
    const rerouted = await post("/v1/route", body);
    expect(((await rerouted.json()) as { model: string }).model).not.toBe(quotedModel);

    const signed = await signAuthorization(agent, { asset: gateway.dev.info.asset, chainId: 84532 }, { to: accepted.payTo as `0x${string}`, value: BigInt(accepted.amount) });
    const paid = await post("/v1/chat/completions", body, { "PAYMENT-SIGNATURE": base64Json({ x402Version: 2, accepted, payload: signed }) });
    expect(paid.status).toBe(200);
    expect(paid.headers.get("x-tollgate-model")).toBe(quotedModel);
    expect(paid.headers.get("x-tollgate-price")).toBe(challenge.headers.get("x-tollgate-price"));
  });

  it("shows the health table to the operator and as metrics", async () => {
    const health = await fetch(`${gateway.url}/admin/health`, { headers: { authorization: "Bearer test-admin-token-0123456789" } });
    expect(health.status).toBe(200);
    const table = (await health.json()) as { data: Array<{ model: string; state: string }> };
    expect(table.data.some((h) => h.state === "open" || h.state === "half_open" || h.state === "closed")).toBe(true);
    const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
    expect(metrics).toMatch(/tollgate_circuit_state\{model="[^"]+",provider="[^"]+"\} [012]/);
  });
});
