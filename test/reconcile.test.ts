import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import SQLite from "better-sqlite3";
import { createWalletClient, http } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { devUsdcAbi } from "../contracts-abi/abi.ts";
import { createPayingFetch } from "../examples/paying-fetch.ts";
import { devnetPrivateKey, devnetTestAccount } from "../src/devnet/accounts.ts";
import { devnetChain } from "../src/devnet/chain.ts";
import { SQLITE_FILE_NAME } from "../src/ledger/open.ts";
import type { MismatchLine } from "../src/ledger/reconcile-report.ts";
import { runReconcileCli } from "../src/reconcile-cli.ts";
import { startFakeOpenAI, type FakeOpenAI } from "./fakes/openai-upstream.ts";
import { startTestGateway, type TestGateway } from "./support/gateway.ts";
import { relayDecoy } from "./support/sign-payment.ts";

/**
 * `npm run reconcile` against the devnet after real paid calls: the CLI is run as a process, the
 * way an operator runs it, and the ledger is tampered with through its SQLite file directly.
 * Hardhat's eth_getLogs has no block-range limit, so chunking is forced small here; on real RPCs
 * the default of 2,000 blocks per call keeps under the providers' caps.
 */

const REPO = fileURLToPath(new URL("..", import.meta.url));
const agent = devnetTestAccount(12);
const chat = (content: string) => ({ model: "gpt-4o-mini", messages: [{ role: "user", content }], max_tokens: 16 });

let gateway: TestGateway;
let upstream: FakeOpenAI;
/** The three paid calls, as the gateway recorded them. */
const paid: Array<{ requestId: string; txHash: `0x${string}` }> = [];
let firstBlock: bigint;
let lastCallBlock: bigint;

beforeAll(async () => {
  upstream = await startFakeOpenAI({ content: "Reconciled." });
  gateway = await startTestGateway({ OPENAI_API_KEY: "sk-test", OPENAI_BASE_URL: upstream.url });
  await gateway.dev.faucet(agent.address, 10_000_000n);
  firstBlock = (await gateway.publicClient.getBlockNumber({ cacheTime: 0 })) + 1n;
  const paying = createPayingFetch({ privateKey: devnetPrivateKey(agent), allowedAsset: { network: "eip155:84532", asset: gateway.dev.info.asset } });
  for (const question of ["What is a ledger?", "What is a block?", "What is a toll?"]) {
    const res = await paying.fetch(`${gateway.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(chat(question)) });
    expect(res.status).toBe(200);
    await res.text();
    paid.push({ requestId: res.headers.get("x-tollgate-request-id") ?? "", txHash: (paying.receipts.at(-1)?.transaction ?? "0x") as `0x${string}` });
  }
  lastCallBlock = await gateway.publicClient.getBlockNumber({ cacheTime: 0 });
});

afterAll(async () => {
  await gateway?.close();
  await upstream?.close();
});

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The environment the command sees: none of the gateway's settings, so only flags count. */
const CLEAN_ENV = Object.fromEntries(Object.entries(process.env).filter(([name]) => !["RPC_URL", "ASSET", "PAY_TO", "DATA_DIR", "DATABASE_URL"].includes(name)));

/** The command in this process: fast enough to run after every tampering. */
async function reconcileCli(args: string[]): Promise<CliResult> {
  let stdout = "";
  let stderr = "";
  const code = await runReconcileCli(args, CLEAN_ENV, { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text) });
  return { code, stdout, stderr };
}

/** The command as `npm run reconcile` runs it (tsx), for its real exit code and streams. */
function reconcileProcess(args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, ["--import", "tsx", "src/reconcile-cli.ts", ...args], { cwd: REPO, env: CLEAN_ENV }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : Number(error.code ?? -1), stdout, stderr });
    });
  });
}

function chainArgs(): string[] {
  return ["--rpc", gateway.dev.info.rpcUrl, "--token", gateway.dev.info.asset, "--pay-to", gateway.dev.info.payTo, "--data-dir", gateway.dataDir];
}

interface JsonReport {
  transfers: number;
  settledRows: number;
  outsideRange: number;
  matched: number;
  clean: boolean;
  mismatches: MismatchLine[];
}

async function reconcileJson(fromBlock: bigint, toBlock?: bigint): Promise<{ code: number; report: JsonReport }> {
  const range = ["--from-block", String(fromBlock), ...(toBlock === undefined ? [] : ["--to-block", String(toBlock)])];
  const result = await reconcileCli([...range, ...chainArgs(), "--json", "--chunk-blocks", "2"]);
  expect(result.stderr).toBe("");
  return { code: result.code, report: JSON.parse(result.stdout) as JsonReport };
}

/** Edits the gateway's ledger file behind its back, and puts the row back afterwards. */
async function withTamperedRow(requestId: string, tamper: (db: SQLite.Database) => void, check: () => Promise<void>): Promise<void> {
  const db = new SQLite(join(gateway.dataDir, SQLITE_FILE_NAME)).defaultSafeIntegers(true);
  const original = db.prepare("select * from calls where id = ?").get(requestId) as Record<string, unknown> | undefined;
  expect(original).toBeDefined();
  try {
    tamper(db);
    await check();
  } finally {
    const columns = Object.keys(original ?? {});
    db.prepare("delete from calls where id = ?").run(requestId);
    db.prepare(`insert into calls (${columns.join(", ")}) values (${columns.map((c) => `@${c}`).join(", ")})`).run(original);
    db.close();
  }
}

/** The agent as reports spell addresses: lowercase, like the ledger. */
const payer = () => agent.address.toLowerCase();

const call = (n: number) => {
  const found = paid[n];
  if (found === undefined) throw new Error(`no paid call ${n}`);
  return found;
};

describe("npm run reconcile on the devnet", () => {
  it("finds the ledger and the chain in agreement after real paid calls", async () => {
    const { code, report } = await reconcileJson(firstBlock, lastCallBlock);
    expect(code).toBe(0);
    expect(report).toMatchObject({ transfers: 3, settledRows: 3, outsideRange: 0, matched: 3, clean: true, mismatches: [] });

    const table = await reconcileCli(["--from-block", String(firstBlock), "--to-block", String(lastCallBlock), ...chainArgs()]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/3 transfers to payTo, 3 settled ledger rows: 3 matched, 0 mismatches/);
    expect(table.stdout).toMatch(/Clean/);
  });

  it("reports a transfer whose ledger row was deleted", async () => {
    const lost = call(0);
    await withTamperedRow(
      lost.requestId,
      (db) => db.prepare("delete from calls where id = ?").run(lost.requestId),
      async () => {
        const { code, report } = await reconcileJson(firstBlock, lastCallBlock);
        expect(code).toBe(1);
        expect(report.matched).toBe(2);
        expect(report.mismatches).toEqual([
          expect.objectContaining({ kind: "transfer_without_row", txHash: lost.txHash, payer: payer(), ledgerAmount: null, callId: null }),
        ]);
        expect(BigInt(report.mismatches[0]?.chainAmount ?? "0")).toBeGreaterThan(0n);

        const table = await reconcileCli(["--from-block", String(firstBlock), "--to-block", String(lastCallBlock), ...chainArgs()]);
        expect(table.code).toBe(1);
        expect(table.stdout).toMatch(/KIND\s+TX HASH\s+BLOCK\s+PAYER/);
        expect(table.stdout).toMatch(new RegExp(`transfer_without_row\\s+${lost.txHash}`));
      },
    );
  });

  it("reports an amount the ledger recorded differently from the chain", async () => {
    const edited = call(1);
    await withTamperedRow(
      edited.requestId,
      (db) => db.prepare("update calls set amount = amount + 1, charged = charged + 1 where id = ?").run(edited.requestId),
      async () => {
        const { code, report } = await reconcileJson(firstBlock, lastCallBlock);
        expect(code).toBe(1);
        expect(report.mismatches).toHaveLength(1);
        const [mismatch] = report.mismatches;
        expect(mismatch).toMatchObject({ kind: "amount_mismatch", txHash: edited.txHash, callId: edited.requestId });
        expect(BigInt(mismatch?.ledgerAmount ?? "0") - BigInt(mismatch?.chainAmount ?? "0")).toBe(1n);
      },
    );
  });

  it("reports a settled row whose transaction the chain does not know", async () => {
    const forged = call(2);
    const bogusHash = `0x${randomBytes(32).toString("hex")}`;
    await withTamperedRow(
      forged.requestId,
      (db) => db.prepare("update calls set tx_hash = ? where id = ?").run(bogusHash, forged.requestId),
      async () => {
        const { code, report } = await reconcileJson(firstBlock, lastCallBlock);
        expect(code).toBe(1);
        expect(report.mismatches).toEqual([
          expect.objectContaining({ kind: "row_without_transfer", txHash: bogusHash, callId: forged.requestId, note: "no such transaction on chain" }),
          expect.objectContaining({ kind: "transfer_without_row", txHash: forged.txHash }),
        ]);
      },
    );
  });

  it("reports a transfer to payTo made directly on chain, with no call behind it", async () => {
    const wallet = createWalletClient({ account: agent, chain: devnetChain(gateway.dev.info.rpcUrl), transport: http(gateway.dev.info.rpcUrl, { retryCount: 0 }) });
    const hash = await wallet.writeContract({ address: gateway.dev.info.asset, abi: devUsdcAbi, functionName: "transfer", args: [gateway.dev.info.payTo, 12_345n] });
    const receipt = await gateway.publicClient.waitForTransactionReceipt({ hash });

    // Only the new block: the three calls settled in the time window but were mined before it.
    const after = await reconcileJson(lastCallBlock + 1n);
    expect(after.code).toBe(1);
    expect(after.report).toMatchObject({ transfers: 1, settledRows: 0, outsideRange: 3, matched: 0 });
    expect(after.report.mismatches).toEqual([
      { kind: "transfer_without_row", txHash: hash, block: String(receipt.blockNumber), payer: payer(), ledgerAmount: null, chainAmount: "12345", chainFrom: payer(), callId: null, note: null },
    ]);

    const everything = await reconcileJson(firstBlock);
    expect(everything.report).toMatchObject({ transfers: 4, matched: 3 });
    expect(everything.report.mismatches.map((m) => m.txHash)).toEqual([hash]);
  });

  it("reports a settlement whose transaction used the call's nonce without paying payTo, and --apply makes it a debt", async () => {
    // What the settlement hole of old recorded: the payer's decoy authorization, same nonce,
    // paid to itself, with its transaction taken for the call's settlement.
    const nonce = `0x${randomBytes(32).toString("hex")}` as `0x${string}`;
    const relayer = createWalletClient({ account: devnetTestAccount(13), chain: devnetChain(gateway.dev.info.rpcUrl), transport: http(gateway.dev.info.rpcUrl, { retryCount: 0 }) });
    const decoyHash = await relayDecoy({ payer: agent, nonce, token: { asset: gateway.dev.info.asset, chainId: 84532 }, relayer, publicClient: gateway.publicClient });

    const fooled = call(1);
    await withTamperedRow(
      fooled.requestId,
      (db) => db.prepare("update calls set tx_hash = ?, nonce = ? where id = ?").run(decoyHash, nonce, fooled.requestId),
      async () => {
        const args = ["--from-block", String(firstBlock), ...chainArgs(), "--json"];
        const report = await reconcileCli(args);
        expect(report.code).toBe(1);
        const mismatches = (JSON.parse(report.stdout) as JsonReport).mismatches;
        expect(mismatches).toContainEqual(expect.objectContaining({ kind: "unproven_settlement", txHash: decoyHash, callId: fooled.requestId, note: expect.stringMatching(/moved 1 units/) }));
        expect(mismatches).toContainEqual(expect.objectContaining({ kind: "transfer_without_row", txHash: fooled.txHash }));
        expect((await gateway.runtime.deps.ledger.get(fooled.requestId))?.status).toBe("settled");

        const applied = await reconcileCli([...args, "--apply"]);
        expect(applied.code).toBe(1);
        expect(applied.stderr).toMatch(/--apply: 1 unproven settlement\(s\) recorded as debts/);
        const row = await gateway.runtime.deps.ledger.get(fooled.requestId);
        expect(row?.status).toBe("unpaid");
        expect(row?.error).toMatch(/^reconcile: settled by 0x[0-9a-f]{64}, which did not pay/);
        expect((await gateway.runtime.deps.ledger.debts(agent.address)).map((d) => d.id)).toEqual([fooled.requestId]);
      },
    );
  });

  it("exits 2 on usage errors and 3 when the chain cannot be read, naming the problem", async () => {
    const [missing, beyond, noLedger, both, unreachable] = await Promise.all([
      reconcileProcess(chainArgs()),
      reconcileCli(["--from-block", "0", "--to-block", "99999999", ...chainArgs()]),
      reconcileCli(["--from-block", "0", ...chainArgs().slice(0, -2), "--data-dir", join(gateway.dataDir, "nowhere")]),
      reconcileCli(["--from-block", "0", ...chainArgs(), "--database-url", "postgres://user:secret@127.0.0.1/db"]),
      reconcileCli(["--from-block", "0", "--rpc", "http://127.0.0.1:9/api-key-in-path", "--pay-to", gateway.dev.info.payTo, "--token", gateway.dev.info.asset, "--data-dir", gateway.dataDir]),
    ]);
    expect([missing.code, beyond.code, noLedger.code, both.code, unreachable.code]).toEqual([2, 2, 2, 2, 3]);
    expect(missing.stderr).toMatch(/--from-block: required/);
    expect(beyond.stderr).toMatch(/--to-block 99999999 is beyond the chain's latest block/);
    expect(noLedger.stderr).toMatch(/no ledger at .*nowhere/);
    expect(both.stderr).toMatch(/--data-dir and --database-url are exclusive/);
    expect(both.stderr).not.toMatch(/secret/);
    expect(unreachable.stderr).toMatch(/^reconcile failed: /);
    expect(unreachable.stderr).not.toMatch(/api-key-in-path/);
  });
});
