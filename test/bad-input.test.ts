import { decodePaymentRequiredHeader } from "@x402/core/http";
import type { PaymentRequirements } from "@x402/core/types";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { devUsdcAbi } from "../contracts-abi/abi.ts";
import { devnetTestAccount } from "../src/devnet/accounts.ts";
import { startFakeOpenAI, type FakeOpenAI } from "./fakes/openai-upstream.ts";
import { startTestGateway, type TestGateway } from "./support/gateway.ts";
import { base64Json, signAuthorization, type AuthorizationFields } from "./support/sign-payment.ts";

/**
 * Bad input gets a 4xx with a stable code and a message naming the problem, and loses nothing:
 * the upstream is never called, no USDC moves, no payment is reserved.
 */

const MODEL = "gpt-4o-mini";
const chat = { model: MODEL, messages: [{ role: "user", content: "What is a toll road?" }], max_tokens: 32 };
const agent = devnetTestAccount(8);

let gateway: TestGateway;
let upstream: FakeOpenAI;

beforeAll(async () => {
  upstream = await startFakeOpenAI();
  gateway = await startTestGateway({ OPENAI_API_KEY: "sk-test", OPENAI_BASE_URL: upstream.url, MAX_BODY_BYTES: "65536" });
  await gateway.dev.faucet(agent.address, 5_000_000n);
});

afterAll(async () => {
  await gateway?.close();
  await upstream?.close();
});

interface ErrorBody {
  error: { code: string; message: string; param: string | null; type: string };
}

async function send(payload: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${gateway.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: payload,
  });
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text) as ErrorBody };
}

async function accepted(): Promise<PaymentRequirements> {
  const res = await fetch(`${gateway.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(chat) });
  const requirement = decodePaymentRequiredHeader(res.headers.get("PAYMENT-REQUIRED") ?? "").accepts.find((a) => a.scheme === "exact");
  if (requirement === undefined) throw new Error("no requirement");
  return requirement;
}

async function v2Header(overrides: Partial<AuthorizationFields> = {}, requirementOverrides: Partial<PaymentRequirements> = {}) {
  const requirement = { ...(await accepted()), ...requirementOverrides };
  const signed = await signAuthorization(agent, { asset: gateway.dev.info.asset, chainId: 84532 }, {
    to: requirement.payTo as `0x${string}`,
    value: BigInt(requirement.amount),
    ...overrides,
  });
  return base64Json({ x402Version: 2, accepted: requirement, payload: signed });
}

/** Runs `attempt` and proves nothing was charged, served or reserved. */
async function expectNothingLost(attempt: () => Promise<{ status: number; body: ErrorBody }>) {
  const upstreamBefore = upstream.requests.length;
  const balanceBefore = await balance();
  const walletsBefore = await reservedCalls();
  const result = await attempt();
  expect(upstream.requests.length).toBe(upstreamBefore);
  expect(await balance()).toBe(balanceBefore);
  expect(await reservedCalls()).toBe(walletsBefore);
  return result;
}

function balance(): Promise<bigint> {
  return gateway.publicClient.readContract({ address: gateway.dev.info.asset, abi: devUsdcAbi, functionName: "balanceOf", args: [agent.address] });
}

async function reservedCalls(): Promise<number> {
  const detail = await gateway.runtime.deps.ledger.wallet(agent.address);
  return detail?.totals.calls ?? 0;
}

describe("bad request bodies", () => {
  it("refuses malformed JSON", async () => {
    const { status, body } = await expectNothingLost(() => send('{"messages": ['));
    expect(status).toBe(400);
    expect(body.error.code).toBe("invalid_json");
    expect(body.error.message).toMatch(/not valid JSON/);
  });

  it("refuses a body without messages, naming the field", async () => {
    const { status, body } = await expectNothingLost(() => send(JSON.stringify({ model: MODEL })));
    expect(status).toBe(400);
    expect(body.error.code).toBe("invalid_request");
    expect(body.error.param).toBe("messages");
    expect(body.error.message).toMatch(/messages/);
  });

  it("refuses an unknown model", async () => {
    const { status, body } = await expectNothingLost(() => send(JSON.stringify({ ...chat, model: "gpt-17-ultra" })));
    expect(status).toBe(404);
    expect(body.error.code).toBe("model_not_found");
    expect(body.error.param).toBe("model");
    expect(body.error.message).toMatch(/gpt-17-ultra/);
  });

  it("refuses a non-JSON content type", async () => {
    const { status, body } = await expectNothingLost(() => send(JSON.stringify(chat), { "content-type": "text/plain" }));
    expect(status).toBe(415);
    expect(body.error.code).toBe("unsupported_media_type");
    expect(body.error.message).toMatch(/text\/plain/);
  });

  it("refuses an oversized body with 413", async () => {
    const huge = JSON.stringify({ ...chat, messages: [{ role: "user", content: "x".repeat(100_000) }] });
    const { status, body } = await expectNothingLost(() => send(huge));
    expect(status).toBe(413);
    expect(body.error.code).toBe("body_too_large");
  });
});

describe("the per-call endpoints, served on node:http apart from Express", () => {
  it.each(["/v1/route", "/v1/embeddings"])("%s reads its body with the same checks as chat completions", async (path) => {
    const res = await fetch(`${gateway.url}${path}`, { method: "POST", headers: { "content-type": "text/plain" }, body: "{}" });
    expect(res.status).toBe(415);
    expect(((await res.json()) as ErrorBody).error.code).toBe("unsupported_media_type");
  });

  it("answers a chat completion whose URL carries a query string, and quotes that URL as the resource", async () => {
    const res = await fetch(`${gateway.url}/v1/chat/completions?trace=1`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(chat) });
    expect(res.status).toBe(402);
    expect(res.headers.get("content-type")).toBe("application/json; charset=utf-8");
    const challenge = decodePaymentRequiredHeader(res.headers.get("PAYMENT-REQUIRED") ?? "");
    expect(challenge.resource.url).toBe(`${gateway.url}/v1/chat/completions?trace=1`);
  });

  it("leaves other methods on those paths to the rest of the app: GET is a 404 naming the route", async () => {
    const res = await fetch(`${gateway.url}/v1/chat/completions`);
    expect(res.status).toBe(404);
    const body = (await res.json()) as ErrorBody;
    expect(body.error.code).toBe("not_found");
    expect(body.error.message).toMatch(/GET \/v1\/chat\/completions/);
  });
});

describe("bad payments", () => {
  it("refuses a garbage payment header", async () => {
    const { status, body } = await expectNothingLost(() => send(JSON.stringify(chat), { "PAYMENT-SIGNATURE": "%%%not-base64%%%" }));
    expect(status).toBe(400);
    expect(body.error.code).toBe("invalid_payment_header");
    expect(body.error.param).toBe("PAYMENT-SIGNATURE");
  });

  it("refuses an oversized payment header", async () => {
    const { status, body } = await expectNothingLost(() => send(JSON.stringify(chat), { "PAYMENT-SIGNATURE": "A".repeat(9000) }));
    expect(status).toBe(400);
    expect(body.error.code).toBe("invalid_payment_header");
    expect(body.error.message).toMatch(/longer than/);
  });

  it("refuses a payment to another payTo", async () => {
    const stranger = devnetTestAccount(9).address;
    const header = await v2Header({ to: stranger }, { payTo: stranger });
    const { status, body } = await expectNothingLost(() => send(JSON.stringify(chat), { "PAYMENT-SIGNATURE": header }));
    expect(status).toBe(402);
    expect(body.error.code).toBe("payment_mismatch");
    expect(body.error.message).toMatch(/payTo/);
  });

  it("refuses an underpayment", async () => {
    const requirement = await accepted();
    const header = await v2Header({ value: BigInt(requirement.amount) - 1n });
    const { status, body } = await expectNothingLost(() => send(JSON.stringify(chat), { "PAYMENT-SIGNATURE": header }));
    expect(status).toBe(402);
    expect(body.error.code).toBe("payment_mismatch");
    expect(body.error.message).toMatch(/authorization.value/);
  });

  it("refuses an expired authorization", async () => {
    const now = BigInt(Math.floor(Date.now() / 1000));
    const header = await v2Header({ validAfter: now - 3600n, validBefore: now - 60n });
    const { status, body } = await expectNothingLost(() => send(JSON.stringify(chat), { "PAYMENT-SIGNATURE": header }));
    expect(status).toBe(402);
    expect(body.error.code).toBe("payment_expired");
    expect(body.error.param).toBe("authorization.validBefore");
  });
});
