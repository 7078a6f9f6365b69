import type { ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodePaymentRequiredHeader } from "@x402/core/http";
import { parseAbiItem } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { devnetTestAccount } from "../src/devnet/accounts.ts";
import { startDevChain, type DevChain } from "../src/devnet/chain.ts";
import { mintUsdc } from "../src/devnet/contracts.ts";
import { findFreePort } from "../src/devnet/hardhat.ts";
import { openLedger } from "../src/ledger/open.ts";
import type { CallRow } from "../src/ledger/types.ts";
import { startFakeOpenAI, type FakeOpenAI } from "./fakes/openai-upstream.ts";
import { startFacilitatorServer, type FacilitatorServer } from "./support/facilitator-server.ts";
import { spawnGateway } from "./support/gateway-process.ts";
import { base64Json, signAuthorization } from "./support/sign-payment.ts";

/**
 * SIGKILL the gateway while paid calls are in flight (some in the upstream, some waiting for a
 * slow settlement), restart it on the same ledger, and check the money: every transfer to payTo
 * has exactly one ledger row, nothing was settled for a call that was not served, and no served
 * call is left unsettled while its authorization is valid.
 */

const CALLS = 12;
let chain: DevChain;
let upstream: FakeOpenAI;
let facilitator: FacilitatorServer;
const dataDir = mkdtempSync(join(tmpdir(), "tollgate-crash-"));
let port: number;
let gateway: ChildProcess | undefined;

beforeAll(async () => {
  chain = await startDevChain();
  upstream = await startFakeOpenAI({ delayFirstByteMs: 300, content: "served" });
  facilitator = await startFacilitatorServer(chain);
  port = await findFreePort();
});

afterAll(async () => {
  gateway?.kill("SIGKILL");
  await facilitator?.close();
  await upstream?.close();
  await chain?.stop();
});

function startGateway(): Promise<ChildProcess> {
  return spawnGateway({
    port,
    chain,
    facilitatorUrl: facilitator.url,
    env: { DATA_DIR: dataDir, QUOTE_SECRET: "crash-test-quote-secret-0123456789abcdef", OPENAI_API_KEY: "sk-test", OPENAI_BASE_URL: upstream.url },
  });
}

describe("crash safety", () => {
  it("keeps every transfer matched to one ledger row across a SIGKILL with calls in flight", async () => {
    const agent = devnetTestAccount(14);
    await mintUsdc({ walletClient: chain.walletClientFor(chain.accounts.deployer), publicClient: chain.publicClient, token: chain.token, to: agent.address, amount: 10_000_000n });
    const fromBlock = await chain.publicClient.getBlockNumber({ cacheTime: 0 });
    gateway = await startGateway();
    const url = `http://127.0.0.1:${port}/v1/chat/completions`;

    // Sign every payment first, so the calls can be fired quickly.
    const payments = [];
    for (let i = 0; i < CALLS; i++) {
      const body = JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: `call ${i}` }], max_tokens: 16 });
      const challenge = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body });
      const accepted = decodePaymentRequiredHeader(challenge.headers.get("PAYMENT-REQUIRED") ?? "").accepts.find((a) => a.scheme === "exact");
      if (accepted === undefined) throw new Error("no requirement");
      const signed = await signAuthorization(agent, { asset: chain.token, chainId: 84532 }, { to: accepted.payTo as `0x${string}`, value: BigInt(accepted.amount) });
      payments.push({ body, header: base64Json({ x402Version: 2, accepted, payload: signed }) });
    }

    facilitator.fault.settle = { kind: "delay", ms: 1_000 };
    const inFlight = payments.map((p, i) =>
      new Promise((r) => setTimeout(r, i * 60)).then(() =>
        fetch(url, { method: "POST", headers: { "content-type": "application/json", "PAYMENT-SIGNATURE": p.header }, body: p.body }).then(
          (res) => res.status,
          () => "killed",
        ),
      ),
    );
    // Kill once a few settlements are under way and other calls are still upstream.
    while (facilitator.calls.settle < 3) await new Promise((r) => setTimeout(r, 20));
    gateway.kill("SIGKILL");
    const outcomes = await Promise.all(inFlight);
    expect(outcomes.filter((o) => o === "killed").length).toBeGreaterThan(0);
    // Let the settlements the dead gateway had started finish at the facilitator.
    await new Promise((r) => setTimeout(r, 1_500));

    facilitator.fault.settle = { kind: "none" };
    gateway = await startGateway(); // start-up recovery runs before it reports ready
    gateway.kill("SIGTERM");
    await new Promise((r) => gateway?.once("exit", r));

    const transfers = await chain.publicClient.getLogs({
      address: chain.token,
      event: parseAbiItem("event Transfer(address indexed from, address indexed to, uint256 value)"),
      args: { to: chain.accounts.payTo.address },
      fromBlock,
      toBlock: "latest",
    });
    const ledger = await openLedger({ dataDir });
    let rows: CallRow[];
    try {
      const wallet = await ledger.wallet(agent.address, { recent: 100 });
      rows = wallet?.recent ?? [];
    } finally {
      await ledger.close();
    }
    const statuses = rows.reduce<Record<string, number>>((acc, r) => ({ ...acc, [r.status]: (acc[r.status] ?? 0) + 1 }), {});
    console.log(`crash test: ${CALLS} calls, outcomes ${JSON.stringify(outcomes)}, ledger ${JSON.stringify(statuses)}, transfers ${transfers.length}`);

    expect(rows).toHaveLength(new Set(rows.map((r) => r.nonce)).size);
    expect(transfers.length).toBeGreaterThan(0);
    // Every on-chain transfer to payTo has exactly one ledger row, settled, for the same amount.
    for (const transfer of transfers) {
      const matching = rows.filter((r) => r.txHash === transfer.transactionHash);
      expect(matching, `transfer ${transfer.transactionHash}`).toHaveLength(1);
      expect(matching[0]?.status).toBe("settled");
      expect(matching[0]?.amount).toBe(transfer.args.value);
    }
    // Nothing settled for a call that was not served, and every settled row has its transfer.
    for (const row of rows.filter((r) => r.status === "settled")) {
      expect(row.servedAt, `call ${row.id}`).not.toBeNull();
      expect(transfers.some((t) => t.transactionHash === row.txHash)).toBe(true);
    }
    // No served call left unsettled while its authorization is still valid.
    const now = Math.floor(Date.now() / 1000);
    expect(rows.filter((r) => (r.status === "served" || r.status === "pending") && r.validBefore > now + 6)).toEqual([]);
  });
});
