import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtempSync, writeFileSync } from "node:fs";
import { networkInterfaces, tmpdir } from "node:os";
import { join } from "node:path";
import { decodePaymentRequiredHeader } from "@x402/core/http";
import type { PaymentRequirements } from "@x402/core/types";
import { x402Client } from "@x402/core/client";
import { toClientEvmSigner } from "@x402/evm";
import { UptoEvmScheme } from "@x402/evm/upto/client";
import { createWalletClient, http, type LocalAccount } from "viem";
import { devnetChain } from "../src/devnet/chain.ts";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../src/app.ts";
import { loadConfig } from "../src/config.ts";
import { createRuntime } from "../src/deps.ts";
import { errorForLog } from "../src/lib/logger.ts";
import { capturingLogger } from "./support/log-capture.ts";
import { describeRejection } from "../src/payment/rejection.ts";
import { startFakeOpenAI, type FakeOpenAI } from "./fakes/openai-upstream.ts";
import { devnetTestAccount } from "../src/devnet/accounts.ts";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { startGatewayOnChain, startTestGateway, TEST_ADMIN_TOKEN, type ChainGateway, type TestGateway } from "./support/gateway.ts";
import { approvePermit2 } from "./support/permit2.ts";
import { base64Json, signAuthorization, type AuthorizationFields } from "./support/sign-payment.ts";

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

const chat = (content: string) => ({ model: "gpt-4o-mini", messages: [{ role: "user", content }], max_tokens: 32 });

/** Asks for a 402 and returns both offers: the v2 requirements and the v1 body's. */
async function quoteFor(body: unknown) {
  const res = await post("/v1/chat/completions", body);
  expect(res.status).toBe(402);
  const v2 = decodePaymentRequiredHeader(res.headers.get("PAYMENT-REQUIRED") ?? "").accepts.find((a) => a.scheme === "exact") as PaymentRequirements;
  const v1 = ((await res.json()) as { accepts: Array<{ scheme: string; network: string; maxAmountRequired: string; payTo: `0x${string}` }> }).accepts[0];
  if (v1 === undefined) throw new Error("402 without a v1 offer");
  return { v2, v1 };
}

const domain = () => ({ asset: gateway.dev.info.asset, chainId: 84532 });

async function v2Header(signer: LocalAccount, requirement: PaymentRequirements, fields: Partial<AuthorizationFields> = {}) {
  const payload = await signAuthorization(signer, domain(), { to: requirement.payTo as `0x${string}`, value: BigInt(requirement.amount), ...fields });
  return { "PAYMENT-SIGNATURE": base64Json({ x402Version: 2, accepted: requirement, payload }) };
}

async function v1Header(signer: LocalAccount, requirement: { scheme: string; network: string; maxAmountRequired: string; payTo: `0x${string}` }, fields: Partial<AuthorizationFields> = {}) {
  const payload = await signAuthorization(signer, domain(), { to: requirement.payTo, value: BigInt(requirement.maxAmountRequired), ...fields });
  return { "X-PAYMENT": base64Json({ x402Version: 1, scheme: requirement.scheme, network: requirement.network, payload }) };
}

const nowSeconds = () => BigInt(Math.floor(Date.now() / 1000));

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

/** A non-loopback address of this machine, to be a client the loopback guard must refuse. */
const lanAddress = Object.values(networkInterfaces())
  .flat()
  .find((i) => i !== undefined && i.family === "IPv4" && !i.internal)?.address;

/** The same gateway (same deps) also listening on every interface, reached through `lanAddress`. */
async function fromTheLan<T>(run: (url: string) => Promise<T>): Promise<T> {
  const server: Server = createServer(createApp(gateway.runtime.deps)).listen(0, "0.0.0.0");
  await new Promise<void>((resolve) => server.once("listening", resolve));
  try {
    return await run(`http://${lanAddress}:${(server.address() as AddressInfo).port}`);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

describe("the dev facilitator at /facilitator/*", () => {
  // Without the guard it settles any authorization to any payTo with the gateway's gas.
  it.skipIf(lanAddress === undefined)("answers loopback clients only, like /dev/*", async () => {
    await fromTheLan(async (url) => {
      for (const [method, path] of [["GET", "/facilitator/supported"], ["POST", "/facilitator/verify"], ["POST", "/facilitator/settle"], ["GET", "/dev/info"]] as const) {
        const res = await fetch(`${url}${path}`, { method, headers: { "content-type": "application/json" }, ...(method === "POST" ? { body: "{}" } : {}) });
        expect(res.status, path).toBe(403);
        expect(((await res.json()) as ErrorBody).error.code).toBe("forbidden");
      }
    });
    expect((await fetch(`${gateway.url}/facilitator/supported`)).status).toBe(200);
  });

  const requirements = () => ({
    scheme: "exact",
    network: "eip155:84532",
    asset: gateway.dev.info.asset,
    amount: "1000",
    payTo: gateway.dev.info.payTo,
    maxTimeoutSeconds: 300,
    extra: { name: "USDC", version: "2" },
  });
  const payload = () => ({
    x402Version: 2,
    accepted: requirements(),
    payload: {
      signature: `0x${"11".repeat(65)}`,
      authorization: { from: gateway.dev.info.payTo, to: gateway.dev.info.payTo, value: "1000", validAfter: "0", validBefore: "99999999999", nonce: `0x${"22".repeat(32)}` },
    },
  });

  it.each([
    ["no paymentPayload", () => ({ x402Version: 2, paymentRequirements: requirements() }), "paymentPayload"],
    ["no paymentRequirements", () => ({ x402Version: 2, paymentPayload: payload() }), "paymentRequirements"],
    ["a payload without its authorization", () => ({ x402Version: 2, paymentPayload: { ...payload(), payload: { signature: "0x11" } }, paymentRequirements: requirements() }), "paymentPayload.payload.authorization"],
    ["an amount that is not an integer string", () => ({ x402Version: 2, paymentPayload: payload(), paymentRequirements: { ...requirements(), amount: 1000 } }), "paymentRequirements.amount"],
    ["a payTo that is not an address", () => ({ x402Version: 2, paymentPayload: payload(), paymentRequirements: { ...requirements(), payTo: "me" } }), "paymentRequirements.payTo"],
    ["an unknown x402Version", () => ({ x402Version: 3, paymentPayload: payload(), paymentRequirements: requirements() }), "x402Version"],
    ["a JSON array", () => [1, 2], "body"],
  ])("answers 400 invalid_request naming the field for %s", async (_name, body, param) => {
    for (const path of ["/facilitator/verify", "/facilitator/settle"]) {
      const res = await post(path, body());
      const error = ((await res.json()) as ErrorBody).error;
      expect({ path, status: res.status, code: error.code }).toEqual({ path, status: 400, code: "invalid_request" });
      expect(error.param).toBe(param);
      expect(error.message).toContain(param);
    }
  });

  it("verifies an upto (Permit2) payment signed by the official client, as /supported promises", async () => {
    const payer = devnetTestAccount(15);
    await gateway.dev.faucet(payer.address, 2_000_000n);
    const rpc = gateway.dev.info.rpcUrl;
    const wallet = createWalletClient({ account: payer, chain: devnetChain(rpc), transport: http(rpc, { retryCount: 0 }) });
    await approvePermit2({ wallet, publicClient: gateway.publicClient, token: gateway.dev.info.asset });
    const supported = (await (await fetch(`${gateway.url}/facilitator/supported`)).json()) as { kinds: Array<{ scheme: string; extra?: Record<string, unknown> }> };
    const upto = supported.kinds.find((kind) => kind.scheme === "upto");
    const requirements: PaymentRequirements = {
      scheme: "upto",
      network: "eip155:84532",
      asset: gateway.dev.info.asset,
      amount: "1000",
      payTo: gateway.dev.info.payTo,
      maxTimeoutSeconds: 300,
      extra: { name: "USDC", version: "2", facilitatorAddress: upto?.extra?.["facilitatorAddress"] },
    };
    const client = new x402Client().register("eip155:84532", new UptoEvmScheme(toClientEvmSigner(payer, gateway.publicClient)));
    client.setSpendControls({ allowedAssets: [{ network: "eip155:84532", asset: gateway.dev.info.asset }] });
    const payment = await client.createPaymentPayload({ x402Version: 2, resource: { url: `${gateway.url}/v1/chat/completions` }, accepts: [requirements] });
    const res = await post("/facilitator/verify", { x402Version: 2, paymentPayload: payment, paymentRequirements: requirements });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ isValid: true, payer: payer.address });

    const broken = structuredClone(payment) as unknown as { payload: { permit2Authorization: Record<string, unknown> } };
    delete broken.payload.permit2Authorization["deadline"];
    const refused = await post("/facilitator/verify", { x402Version: 2, paymentPayload: broken, paymentRequirements: requirements });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as ErrorBody).error.param).toBe("paymentPayload.payload.permit2Authorization.deadline");
  });

  it("still verifies a well-formed request (the answer is the facilitator's own)", async () => {
    const res = await post("/facilitator/verify", { x402Version: 2, paymentPayload: payload(), paymentRequirements: requirements() });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { isValid: boolean }).isValid).toBe(false);
  });
});

/** Serves `listener` on a free loopback port for the length of `run`. */
async function serving<T>(listener: Parameters<typeof createServer>[1], run: (url: string) => Promise<T>): Promise<T> {
  const server: Server = createServer(listener).listen(0, "127.0.0.1");
  await new Promise<void>((resolve) => server.once("listening", resolve));
  try {
    return await run(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

describe("dev mode on a non-loopback HOST", () => {
  it("runs the devnet without /dev/* and /facilitator/*, and says so at start", async () => {
    const config = loadConfig({ HOST: "0.0.0.0", PORT: "0", DATA_DIR: mkdtempSync(join(tmpdir(), "tollgate-test-")), DEVNET_RPC_URL: gateway.dev.info.rpcUrl });
    const { logger, lines } = capturingLogger("warn");
    const runtime = await createRuntime(config, logger);
    try {
      expect(runtime.deps.dev).toBeUndefined();
      expect(runtime.deps.localFacilitator).toBeUndefined();
      expect(lines.join("\n")).toMatch(/dev endpoints .* are off: HOST is not a loopback address/);
      await serving(createApp(runtime.deps), async (url) => {
        for (const path of ["/dev/info", "/facilitator/supported"]) {
          const res = await fetch(`${url}${path}`);
          expect(res.status, path).toBe(404);
        }
        // Still a working devnet gateway: it quotes.
        const quote = await fetch(`${url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] }) });
        expect(quote.status).toBe(402);
      });
    } finally {
      await runtime.close();
    }
  });
});

describe("the dev faucet", () => {
  it.each([
    [{ address: "0x0000000000000000000000000000000000000000", amount: "1000000" }, "address", /address: .*zero address/],
    [{ address: "0xnot-an-address", amount: "1000000" }, "address", /address: a 0x-prefixed 20-byte hex address/],
    [{ address: "0x90F79bf6EB2c4f870365E785982E1f101E93b906", amount: "0" }, "amount", /amount: /],
    [{ address: "0x90F79bf6EB2c4f870365E785982E1f101E93b906", amount: "-5" }, "amount", /amount: /],
    [{ address: "0x90F79bf6EB2c4f870365E785982E1f101E93b906", amount: "1.5" }, "amount", /amount: /],
    [{ address: "0x90F79bf6EB2c4f870365E785982E1f101E93b906", amount: "1e6" }, "amount", /amount: /],
    [{ address: "0x90F79bf6EB2c4f870365E785982E1f101E93b906", amount: 5_000_000 }, "amount", /amount: /],
    [{ address: "0x90F79bf6EB2c4f870365E785982E1f101E93b906", amount: "1".padEnd(80, "0") }, "amount", /amount may be at most 100000000/],
  ])("answers 400 naming the field for %j", async (body, param, message) => {
    const res = await post("/dev/faucet", body);
    const error = ((await res.json()) as ErrorBody).error;
    expect({ status: res.status, code: error.code, param: error.param }).toEqual({ status: 400, code: "invalid_request", param });
    expect(error.message).toMatch(message);
  });

  it("still mints to a real address", async () => {
    const res = await post("/dev/faucet", { address: "0x90F79bf6EB2c4f870365E785982E1f101E93b906", amount: "1000000" });
    expect(res.status).toBe(200);
  });
});

describe("error logs", () => {
  it("log a failed chain call in a short line: no ABI, no bytecode, no calldata dump", async () => {
    const { logger, lines } = capturingLogger();
    const dev = gateway.dev;
    // A real revert from the devnet (minting to the zero address), reached through a route.
    const app = createApp({ ...gateway.runtime.deps, logger, dev: { ...dev, faucet: (_to, amount) => dev.faucet("0x0000000000000000000000000000000000000000", amount) } });
    await serving(app, async (url) => {
      const res = await fetch(`${url}/dev/faucet`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ address: "0x90F79bf6EB2c4f870365E785982E1f101E93b906", amount: "1000" }) });
      expect(res.status).toBe(500);
      expect(((await res.json()) as ErrorBody).error).toMatchObject({ code: "internal_error", message: "Internal error" });
    });
    const line = lines.find((l) => l.includes("request failed"));
    expect(line).toBeDefined();
    expect(line?.length).toBeLessThan(2_000);
    // Short, but still says what happened: viem's short message and the decoded revert reason.
    expect(line).toContain('The contract function \\"mint\\" reverted.');
    expect(line).toContain('"reason":"ERC20InvalidReceiver"');
    expect(line).not.toMatch(/"abi"|"inputs"|"bytecode"|stateMutability/);
  });
});

describe("errorForLog", () => {
  it("keeps the first line of a message given as a string, where viem puts no URL", () => {
    const viemStyle = "HTTP request failed.\n\nStatus: 500\nURL: https://rpc.example/v2/secret-key-123\nRequest body: {}";
    expect(errorForLog(viemStyle)).toBe("HTTP request failed.");
    expect(JSON.stringify(errorForLog(new Error(viemStyle)))).not.toContain("secret-key-123");
    expect(String(errorForLog("x".repeat(5_000))).length).toBeLessThan(600);
  });
});

describe("an unfunded wallet's refusal", () => {
  it("is short and says the balance and the price, not a viem dump", async () => {
    const pauper = privateKeyToAccount(generatePrivateKey());
    // 0.00005 USDC: less than the minimum price of a call (MIN_PRICE_USD, 0.0001).
    await gateway.dev.faucet(pauper.address, 50n);
    const body = chat("Is a toll road a public good?");
    const { v2 } = await quoteFor(body);
    const res = await post("/v1/chat/completions", body, await v2Header(pauper, v2));
    const error = ((await res.json()) as ErrorBody).error;
    expect({ status: res.status, code: error.code, reason: error["reason"] }).toEqual({ status: 402, code: "payment_rejected", reason: "invalid_exact_evm_insufficient_balance" });
    expect(error.message.length).toBeLessThan(300);
    expect(error.message).toMatch(/\(balance 0\.000050 USDC, needs 0\.\d{6} USDC\)$/);
  });
});

describe("describeRejection", () => {
  it("passes on one cleaned, capped line of any other facilitator text", async () => {
    const message = await describeRejection({
      reason: "invalid_exact_evm_transaction_simulation_failed",
      invalidMessage: `Simulation failed at https://rpc.example/v2/secret-key-123 ${"x".repeat(300)}\nRequest body: {"abi":[]}`,
      amount: 350_000n,
    });
    expect(message).not.toContain("secret-key-123");
    expect(message).not.toContain("Request body");
    expect(message).toMatch(/^The facilitator rejected the payment: invalid_exact_evm_transaction_simulation_failed \(Simulation failed at \[url\] x+\.\.\.\)$/);
    expect(message.length).toBeLessThan(250);
  });

  it("says the price when the balance cannot be read", async () => {
    const message = await describeRejection({
      reason: "invalid_exact_evm_insufficient_balance",
      invalidMessage: "long viem text",
      amount: 350_000n,
      balance: () => Promise.reject(new Error("rpc down")),
    });
    expect(message).toBe("The facilitator rejected the payment: invalid_exact_evm_insufficient_balance (needs 0.350000 USDC; the wallet holds less)");
    const known = await describeRejection({ reason: "invalid_exact_evm_insufficient_balance", invalidMessage: undefined, amount: 350_000n, balance: async () => 100_000n });
    expect(known).toBe("The facilitator rejected the payment: invalid_exact_evm_insufficient_balance (balance 0.100000 USDC, needs 0.350000 USDC)");
  });
});

describe("v1 payments and the quote's lifetime", () => {
  // v1 payloads echo no quote, so the authorization's own window stands in for it: x402 clients
  // sign validBefore = now + maxTimeoutSeconds, and a v1 authorization valid for longer than the
  // quote would outlive it (v2's quote expires after QUOTE_TTL_SECONDS whatever was signed).
  const agent = devnetTestAccount(12);
  beforeAll(async () => {
    await gateway.dev.faucet(agent.address, 5_000_000n);
  });

  it("refuses a v1 authorization valid for longer than the quote (an hour for a 300 s quote)", async () => {
    const body = chat("v1 for an hour");
    const { v1 } = await quoteFor(body);
    const requestsBefore = upstream.requests.length;
    const res = await post("/v1/chat/completions", body, await v1Header(agent, v1, { validBefore: nowSeconds() + 3_600n }));
    const error = ((await res.json()) as ErrorBody).error;
    expect({ status: res.status, code: error.code, reason: error["reason"], param: error.param }).toEqual({
      status: 402,
      code: "payment_expired",
      reason: "valid_too_long",
      param: "authorization.validBefore",
    });
    expect(error.message).toMatch(/quote's 300 s/);
    expect(upstream.requests.length).toBe(requestsBefore);
  });

  it("refuses an honest v1 authorization once the quote it was signed for has run out (fake clock)", async () => {
    const body = chat("v1 late");
    const { v1 } = await quoteFor(body);
    const header = await v1Header(agent, v1);
    // The same gateway, its clock 5 minutes and 1 second on: the 300 s quote has expired.
    const later = { ...gateway.runtime.deps, now: () => Date.now() + 301_000 };
    await serving(createApp(later), async (url) => {
      const res = await fetch(`${url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json", ...header }, body: JSON.stringify(body) });
      const error = ((await res.json()) as ErrorBody).error;
      expect({ status: res.status, code: error.code, reason: error["reason"] }).toEqual({ status: 402, code: "payment_expired", reason: "expired" });
    });
  });

  it("accepts an honest v1 authorization within the quote's lifetime", async () => {
    const body = chat("v1 on time");
    const { v1 } = await quoteFor(body);
    const res = await post("/v1/chat/completions", body, await v1Header(agent, v1));
    expect(res.status).toBe(200);
    expect(res.headers.get("x-payment-response")).toBeTruthy();
  });
});

describe("a wallet's debts", () => {
  // A real ledger row walked to `unpaid` the way a reverted settlement leaves it.
  const debtor = devnetTestAccount(13);
  const debtIds = [`call-internal-${randomBytes(6).toString("hex")}`, `call-internal-${randomBytes(6).toString("hex")}`];
  beforeAll(async () => {
    await gateway.dev.faucet(debtor.address, 5_000_000n);
    const { ledger, terms } = gateway.runtime.deps;
    for (const id of debtIds) {
      await ledger.reserve({
        id,
        payer: debtor.address.toLowerCase() as `0x${string}`,
        nonce: `0x${randomBytes(32).toString("hex")}`,
        network: terms.network,
        asset: terms.asset,
        payTo: terms.payTo,
        amount: 1_000n,
        model: "gpt-4o-mini",
        strategy: "explicit",
        task: "chat",
        validBefore: Math.floor(Date.now() / 1000) + 300,
        createdAt: new Date(),
        payment: "{}",
      });
      for (const status of ["verified", "served", "unpaid"] as const) await ledger.update(id, { status, at: new Date() });
    }
  });

  it("are shown unpaid as a count and an amount, without internal request ids", async () => {
    const res = await post(`/v1/debts/${debtor.address}`, {});
    expect(res.status).toBe(402);
    const text = await res.text();
    for (const id of debtIds) expect(text).not.toContain(id);
    expect(JSON.parse(text)).toMatchObject({ owed: { amount: "2000", usd: "0.002000" }, calls: 2 });
  });

  it("refuse the wallet's paid calls with a count and an amount, without internal request ids", async () => {
    const body = chat("may I?");
    const { v2 } = await quoteFor(body);
    const res = await post("/v1/chat/completions", body, await v2Header(debtor, v2));
    const text = await res.text();
    expect(res.status).toBe(402);
    for (const id of debtIds) expect(text).not.toContain(id);
    expect((JSON.parse(text) as ErrorBody).error).toMatchObject({ code: "unpaid_debt", owed: "2000", calls: 2 });
  });

  it("once paid, answer with the count, not the ids", async () => {
    const challenge = await post(`/v1/debts/${debtor.address}`, {});
    const accepted = decodePaymentRequiredHeader(challenge.headers.get("PAYMENT-REQUIRED") ?? "").accepts.find((a) => a.scheme === "exact") as PaymentRequirements;
    const res = await post(`/v1/debts/${debtor.address}`, {}, await v2Header(debtor, accepted));
    const text = await res.text();
    expect(res.status).toBe(200);
    for (const id of debtIds) expect(text).not.toContain(id);
    expect(JSON.parse(text)).toMatchObject({ paid: { amount: "2000" }, calls: 2 });
    expect(await (await post(`/v1/debts/${debtor.address}`, {})).json()).toMatchObject({ owed: { amount: "0" }, calls: 0 });
  });
});

/**
 * Production mode (NETWORK set) on this file's devnet: its chain and token, its facilitator at
 * /facilitator (this process is a loopback client), real signatures and real USDC.
 */
function onChain(env: Record<string, string>): Promise<ChainGateway> {
  return startGatewayOnChain({
    rpcUrl: gateway.dev.info.rpcUrl,
    asset: gateway.dev.info.asset,
    payTo: gateway.dev.info.payTo,
    facilitatorUrls: [`${gateway.url}/facilitator`],
    env,
  });
}

interface ModelList {
  data: Array<{ id: string; provider?: string }>;
}

describe("no simulator outside dev mode", () => {
  let openaiOnly: ChainGateway;
  const agent = devnetTestAccount(14);
  beforeAll(async () => {
    await gateway.dev.faucet(agent.address, 5_000_000n);
    openaiOnly = await onChain({ OPENAI_API_KEY: "sk-test", OPENAI_BASE_URL: upstream.url });
  });
  afterAll(async () => {
    await openaiOnly?.close();
  });

  const at = (g: ChainGateway, path: string, payload: unknown, headers: Record<string, string> = {}) =>
    fetch(`${g.url}${path}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(payload) });

  it("lists only the models of the configured provider", async () => {
    const models = (await (await fetch(`${openaiOnly.url}/v1/models`)).json()) as ModelList;
    const providers = new Set(models.data.filter((m) => m.id !== "auto").map((m) => m.provider));
    expect([...providers]).toEqual(["openai"]);
    expect(models.data.map((m) => m.id)).not.toContain("claude-sonnet-4-20250514");
  });

  it("refuses a model of an unconfigured provider with model_not_offered, before any 402", async () => {
    for (const path of ["/v1/chat/completions", "/v1/route"]) {
      const res = await at(openaiOnly, path, { model: "claude-sonnet-4-20250514", messages: [{ role: "user", content: "hi" }] });
      expect(res.status, path).toBe(404);
      expect(res.headers.get("payment-required")).toBeNull();
      const error = ((await res.json()) as ErrorBody).error;
      expect(error).toMatchObject({ code: "model_not_offered", param: "model" });
      expect(error.message).toMatch(/claude-sonnet-4-20250514.*not offered here.*anthropic is not configured/);
    }
    const embedding = await at(openaiOnly, "/v1/embeddings", { model: "mistral-embed", input: "toll" });
    expect(embedding.status).toBe(404);
    expect(((await embedding.json()) as ErrorBody).error.code).toBe("model_not_offered");
  });

  it("routes every strategy among the configured provider's models only", async () => {
    for (const model of ["auto", "auto:cost", "auto:quality", "auto:balanced", "auto:task"]) {
      const res = await at(openaiOnly, "/v1/route", { model, messages: [{ role: "user", content: "Write a Python function that reverses a linked list" }] });
      expect(res.status, model).toBe(200);
      const route = (await res.json()) as { provider: string; candidates: Array<{ provider: string }> };
      expect(new Set(route.candidates.map((c) => c.provider)), model).toEqual(new Set(["openai"]));
    }
  });

  it("still accepts limit headers naming catalog models and providers it does not offer", async () => {
    const chatBody = { model: "auto", messages: [{ role: "user", content: "hi" }] };
    const denied = await at(openaiOnly, "/v1/route", chatBody, { "x-tollgate-deny": "anthropic,claude-sonnet-4-20250514" });
    expect(denied.status).toBe(200);
    const allowed = await at(openaiOnly, "/v1/route", chatBody, { "x-tollgate-allow": "anthropic" });
    expect(((await allowed.json()) as ErrorBody).error.code).toBe("no_model_available");
  });

  it("serves and settles a paid call on the live provider, never the simulator", async () => {
    // The cheapest model overall is not OpenAI's: with the simulator standing in, auto:cost would pick it.
    const body = { model: "auto:cost", messages: [{ role: "user", content: "Say hello to the toll booth" }], max_tokens: 32 };
    const challenge = await at(openaiOnly, "/v1/chat/completions", body);
    expect(challenge.status).toBe(402);
    expect(challenge.headers.get("x-tollgate-simulated")).toBeNull();
    const accepted = decodePaymentRequiredHeader(challenge.headers.get("PAYMENT-REQUIRED") ?? "").accepts.find((a) => a.scheme === "exact") as PaymentRequirements;
    const before = upstream.requests.length;
    const res = await at(openaiOnly, "/v1/chat/completions", body, await v2Header(agent, accepted));
    expect(res.status).toBe(200);
    expect(res.headers.get("x-tollgate-provider")).toBe("openai");
    expect(res.headers.get("x-tollgate-simulated")).toBeNull();
    expect(upstream.requests.length).toBe(before + 1);
  });

  it("picks embeddings' auto among offered models only", async () => {
    // mistral-embed is dearer than OpenAI's text-embedding-3-small: `auto` must not reach past it.
    const mistralOnly = await onChain({ MISTRAL_API_KEY: "m-test", MISTRAL_BASE_URL: upstream.url });
    try {
      const res = await at(mistralOnly, "/v1/embeddings", { model: "auto", input: "toll roads" });
      expect(res.status).toBe(402);
      expect(res.headers.get("x-tollgate-model")).toBe("mistral-embed");
      const models = (await (await fetch(`${mistralOnly.url}/v1/models`)).json()) as ModelList;
      expect(new Set(models.data.filter((m) => m.id !== "auto").map((m) => m.provider))).toEqual(new Set(["mistral"]));
    } finally {
      await mistralOnly.close();
    }
  });

  it("refuses to start when no catalog model belongs to a configured provider", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tollgate-test-"));
    const catalogPath = join(dir, "catalog.json");
    const groqOnly = (await import("../src/catalog/default-catalog.json", { with: { type: "json" } })).default.models.filter((m) => m.provider === "groq");
    writeFileSync(catalogPath, JSON.stringify({ version: 1, models: groqOnly }));
    await expect(onChain({ OPENAI_API_KEY: "sk-test", OPENAI_BASE_URL: upstream.url, CATALOG_PATH: catalogPath })).rejects.toThrow(
      /OPENAI_API_KEY: no catalog model belongs to a configured provider \(the catalog's providers: groq\)/,
    );
  });

  it("the gateway process refuses to start on a real network without a provider key (exit 78, the variables named)", async () => {
    const env = {
      PATH: process.env["PATH"] ?? "",
      NETWORK: "eip155:84532",
      PAY_TO: gateway.dev.info.payTo,
      FACILITATOR_URL: `${gateway.url}/facilitator`,
      DATA_DIR: mkdtempSync(join(tmpdir(), "tollgate-test-")),
    };
    const outcome = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      execFile(process.execPath, ["--import", "tsx", "src/main.ts"], { cwd: join(import.meta.dirname, ".."), env, timeout: 30_000 }, (error, _stdout, stderr) => {
        resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : null, stderr });
      });
    });
    expect(outcome.code).toBe(78);
    expect(outcome.stderr).toMatch(/OPENAI_API_KEY, ANTHROPIC_API_KEY, .*: set at least one provider key/);
  });

  it("with SIMULATOR=on (staging) marks every 402 and every answer as simulated", async () => {
    const staging = await onChain({ SIMULATOR: "on" });
    try {
      const body = { model: "claude-sonnet-4-20250514", messages: [{ role: "user", content: "hello" }], max_tokens: 16 };
      const challenge = await at(staging, "/v1/chat/completions", body);
      expect(challenge.status).toBe(402);
      expect(challenge.headers.get("x-tollgate-simulated")).toBe("true");
      expect(((await challenge.json()) as { simulated?: string }).simulated).toMatch(/staging gateway \(SIMULATOR=on\).*simulator/);
      const accepted = decodePaymentRequiredHeader(challenge.headers.get("PAYMENT-REQUIRED") ?? "").accepts.find((a) => a.scheme === "exact") as PaymentRequirements;
      const res = await at(staging, "/v1/chat/completions", body, await v2Header(agent, accepted));
      expect(res.status).toBe(200);
      expect(res.headers.get("x-tollgate-provider")).toBe("simulator");
      expect(res.headers.get("x-tollgate-simulated")).toBe("true");
      const embedding = await at(staging, "/v1/embeddings", { model: "auto", input: "toll" });
      expect(embedding.status).toBe(402);
      expect(embedding.headers.get("x-tollgate-simulated")).toBe("true");
      expect(((await embedding.json()) as { simulated?: string }).simulated).toBeDefined();
      const models = await fetch(`${staging.url}/v1/models`);
      expect(models.headers.get("x-tollgate-simulated")).toBe("true");
    } finally {
      await staging.close();
    }
  });
});
