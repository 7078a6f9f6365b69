import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodePaymentRequiredHeader } from "@x402/core/http";
import { x402Client } from "@x402/core/client";
import { ExactEvmScheme } from "@x402/evm/exact/client";
import { wrapFetchWithSIWx } from "@x402/extensions/sign-in-with-x";
import { wrapFetchWithPayment } from "@x402/fetch";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { devnetTestAccount } from "../src/devnet/accounts.ts";
import { startDevChain, type DevChain } from "../src/devnet/chain.ts";
import { mintUsdc } from "../src/devnet/contracts.ts";
import { findFreePort } from "../src/devnet/hardhat.ts";
import { openLedger } from "../src/ledger/open.ts";
import type { Ledger } from "../src/ledger/types.ts";
import { startFakeOpenAI, type FakeOpenAI } from "./fakes/openai-upstream.ts";
import { raceOnHeldUpstream } from "./support/race.ts";
import { startFacilitatorServer, type FacilitatorServer } from "./support/facilitator-server.ts";
import { spawnGateway } from "./support/gateway-process.ts";

/**
 * Credit on Postgres shared by two gateway processes (issue 12 item 6): credit earned at one is
 * spent at the other, and calls racing for one wallet's credit across both never spend it twice.
 */

const POSTGRES_URL = process.env["TEST_DATABASE_URL"] ?? "postgres://postgres@127.0.0.1:5432/test";
const NETWORK = "eip155:84532";
const CONTENT = "Shared credit, spent once.";
const schema = `tollgate_credit_${randomBytes(6).toString("hex")}`;
let databaseUrl: string;
let chain: DevChain;
let upstream: FakeOpenAI;
let facilitator: FacilitatorServer;
let ledger: Ledger;
const gateways: Array<{ url: string; child: ChildProcess }> = [];

async function admin(query: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    await client.query(query);
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  await admin(`create schema ${schema}`);
  const url = new URL(POSTGRES_URL);
  url.searchParams.set("options", `-c search_path=${schema}`);
  databaseUrl = url.toString();
  chain = await startDevChain();
  upstream = await startFakeOpenAI({ content: CONTENT });
  facilitator = await startFacilitatorServer(chain);
  for (const name of ["a", "b"]) {
    const port = await findFreePort();
    const env = {
      DATABASE_URL: databaseUrl,
      DATA_DIR: join(tmpdir(), `tollgate-credit-${name}-${randomBytes(4).toString("hex")}`),
      QUOTE_SECRET: "credit-race-quote-secret-0123456789abcdef",
      OPENAI_API_KEY: "sk-test",
      OPENAI_BASE_URL: upstream.url,
    };
    gateways.push({ url: `http://127.0.0.1:${port}`, child: await spawnGateway({ port, chain, facilitatorUrl: facilitator.url, env }) });
  }
  ledger = await openLedger({ databaseUrl, dataDir: tmpdir() });
}, 240_000);

afterAll(async () => {
  for (const gateway of gateways) gateway.child.kill("SIGKILL");
  await ledger?.close();
  await facilitator?.close();
  await upstream?.close();
  await chain?.stop();
  await admin(`drop schema if exists ${schema} cascade`);
});

const chat = (content: string, maxTokens: number) => ({
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify({ model: "gpt-4o", messages: [{ role: "user", content }], max_tokens: maxTokens }),
});

describe("credit on Postgres across two gateway processes", () => {
  it("spends credit earned at one gateway at the other, and never the same credit twice when calls race across both", { timeout: 120_000 }, async () => {
    const account = devnetTestAccount(15);
    await mintUsdc({ walletClient: chain.walletClientFor(chain.accounts.deployer), publicClient: chain.publicClient, token: chain.token, to: account.address, amount: 10_000_000n });
    const [a, b] = gateways as [(typeof gateways)[number], (typeof gateways)[number]];

    // Earn credit with an exact call at gateway a.
    const client = new x402Client().register(NETWORK, new ExactEvmScheme(account)).setSpendControls({ allowedAssets: [{ network: NETWORK, asset: chain.token }] });
    const earned = await wrapFetchWithPayment(fetch, client)(`${a.url}/v1/chat/completions`, chat("Earn credit at a", 16_000));
    expect(earned.status).toBe(200);
    const balance = await ledger.creditBalance(account.address);
    expect(balance).toBeGreaterThan(0n);

    const body = (i: number) => chat(`Race across gateways ${String(i).padStart(2, "0")}`, 2_000);
    const quote = await fetch(`${b.url}/v1/chat/completions`, body(0));
    const price = BigInt(decodePaymentRequiredHeader(quote.headers.get("PAYMENT-REQUIRED") ?? "").accepts[0]?.amount ?? "0");
    const fits = Number(balance / price);
    expect(fits).toBeGreaterThanOrEqual(2);

    // Every hold is taken while the upstream holds its answer, so no change comes back mid-race.
    const signIn = wrapFetchWithSIWx(fetch, account);
    const responses = await raceOnHeldUpstream(upstream, () => Array.from({ length: fits + 6 }, (_, i) => signIn(`${(i % 2 === 0 ? a : b).url}/v1/chat/completions`, body(i + 1))), 6, CONTENT);
    expect(responses.filter((res) => res.status === 200)).toHaveLength(fits);
    expect(responses.filter((res) => res.status === 402)).toHaveLength(6);
    const rows = await Promise.all(responses.filter((res) => res.status === 200).map((res) => ledger.get(res.headers.get("x-tollgate-request-id") ?? "")));
    expect(rows.every((row) => row?.status === "settled" && row.amount === 0n && row.txHash === null)).toBe(true);
    const costs = rows.reduce((sum, row) => sum + (row?.cost ?? 0n), 0n);
    expect(await ledger.creditBalance(account.address)).toBe(balance - costs);
  });
});
