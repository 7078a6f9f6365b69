import SQLite from "better-sqlite3";
import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createPublicClient, http, type PublicClient } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { devnetAccounts, devnetTestAccount } from "../src/devnet/accounts.ts";
import { devnetChain } from "../src/devnet/chain.ts";
import { devUsdcAbi } from "../contracts-abi/abi.ts";
import { startHardhatNode, type HardhatNode } from "../src/devnet/hardhat.ts";
import { openLedger } from "../src/ledger/open.ts";
import { startGatewayOnChain, startTestGateway } from "./support/gateway.ts";
import { capturingLogger } from "./support/log-capture.ts";

/**
 * A gateway restarted against a devnet chain that outlived it (docker-compose's `chain` service)
 * keeps the token it deployed, and a ledger bound to one chain and token refuses any other.
 * Real hardhat node processes; the refusal also through the gateway process itself.
 */
let chain: HardhatNode;
let otherChain: HardhatNode;
let client: PublicClient;
const dataDir = mkdtempSync(join(tmpdir(), "tollgate-binding-"));
const deployer = devnetAccounts().deployer.address;
let token: `0x${string}`;

beforeAll(async () => {
  [chain, otherChain] = await Promise.all([startHardhatNode(), startHardhatNode()]);
  client = createPublicClient({ chain: devnetChain(chain.rpcUrl), transport: http(chain.rpcUrl, { retryCount: 0 }) });
});

afterAll(async () => {
  await Promise.all([chain?.stop(), otherChain?.stop()]);
});

function runGatewayProcess(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  const full = { PATH: process.env["PATH"] ?? "", PORT: "0", LOG_LEVEL: "silent", ...env };
  return new Promise((resolve) => {
    execFile(process.execPath, ["--import", "tsx", "src/main.ts"], { cwd: join(import.meta.dirname, ".."), env: full, timeout: 60_000 }, (error, _stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : null, stderr });
    });
  });
}

describe("the devnet token across gateway restarts", () => {
  it("deploys the token on the first start and reuses it, without deploying or minting again, on the next", async () => {
    const first = await startTestGateway({ DEVNET_RPC_URL: chain.rpcUrl, DATA_DIR: dataDir });
    token = first.dev.info.asset;
    await first.close();
    const transactionsBefore = await client.getTransactionCount({ address: deployer });

    const second = await startTestGateway({ DEVNET_RPC_URL: chain.rpcUrl, DATA_DIR: dataDir });
    try {
      expect(second.dev.info.asset).toBe(token);
      expect(second.runtime.deps.terms.asset).toBe(token);
      // Neither a new deployment nor the demo agent's funding again.
      expect(await client.getTransactionCount({ address: deployer })).toBe(transactionsBefore);
      // The faucet still mints with the reused token.
      const agent = devnetTestAccount(5).address;
      await second.dev.faucet(agent, 7n);
      expect(await client.readContract({ address: token, abi: devUsdcAbi, functionName: "balanceOf", args: [agent] })).toBe(7n);
    } finally {
      await second.close();
    }
  });

  it("deploys a token of its own for a fresh ledger on the same chain", async () => {
    const fresh = await startTestGateway({ DEVNET_RPC_URL: chain.rpcUrl });
    try {
      expect(fresh.dev.info.asset).not.toBe(token);
    } finally {
      await fresh.close();
    }
  });
});

describe("a ledger bound to one chain and token", () => {
  it("makes the gateway process refuse another devnet chain (exit 78), saying how to start fresh, and stays bound", async () => {
    const outcome = await runGatewayProcess({ DEVNET_RPC_URL: otherChain.rpcUrl, DATA_DIR: dataDir });
    expect(outcome.code).toBe(78);
    expect(outcome.stderr).toContain(`DATA_DIR: the SQLite ledger ${join(dataDir, "tollgate.sqlite")} belongs to chain 84532 (genesis 0x`);
    // Hardhat's genesis differs by start second: a chain started in the same second as the first
    // has the same one, and is told apart by the token missing from it.
    expect(outcome.stderr).toMatch(new RegExp(`token ${token.toLowerCase()}, but this gateway runs on (chain 84532 \\(genesis 0x[0-9a-f]{8}…\\), token 0x[0-9a-f]{40}|a chain without that token \\(no DevUSDC at ${token})`));
    expect(outcome.stderr).toContain("To start fresh, set DATA_DIR to an empty directory");
    const ledger = await openLedger({ dataDir });
    try {
      expect((await ledger.chainBinding())?.asset).toBe(token.toLowerCase());
    } finally {
      await ledger.close();
    }
    // A process start: tsx, the tokenizer and a hardhat round trip, on a machine shared with other suites.
  }, 120_000);

  it("refuses another token on its own chain (a gateway on NETWORK with a different ASSET)", async () => {
    const start = startGatewayOnChain({
      rpcUrl: chain.rpcUrl,
      asset: "0x036CbD53842c5426634e7929541eC2318f3dCF7e",
      payTo: devnetAccounts().payTo.address,
      facilitatorUrls: ["http://127.0.0.1:9"],
      dataDir,
      env: { OPENAI_API_KEY: "sk-test" },
    });
    await expect(start).rejects.toThrow(/belongs to chain 84532 \(genesis 0x[0-9a-f]{8}…\), token 0x[0-9a-f]{40}, but this gateway runs on chain 84532, token 0x036CbD53842c5426634e7929541eC2318f3dCF7e/);
  });

  it("lets a gateway in NETWORK mode start on the ledger's own chain and token", async () => {
    const same = await startGatewayOnChain({ rpcUrl: chain.rpcUrl, asset: token, payTo: devnetAccounts().payTo.address, facilitatorUrls: ["http://127.0.0.1:9"], dataDir, env: { OPENAI_API_KEY: "sk-test" } });
    try {
      expect(same.runtime.deps.terms.asset).toBe(token);
    } finally {
      await same.close();
    }
  });
});

describe("the zero-config start's own devnet", () => {
  it("moves the previous run's ledger aside on a restart, its chain being gone, and starts a new one bound to the new chain", async () => {
    const ownDir = mkdtempSync(join(tmpdir(), "tollgate-spawned-"));
    const first = await startTestGateway({ DATA_DIR: ownDir });
    const firstChain = await first.runtime.deps.ledger.chainBinding();
    await first.close();

    const { logger, lines } = capturingLogger("warn");
    const second = await startTestGateway({ DATA_DIR: ownDir }, { logger });
    try {
      const secondChain = await second.runtime.deps.ledger.chainBinding();
      expect(secondChain?.spawned).toBe(true);
      expect(secondChain?.genesisHash).not.toBe(firstChain?.genesisHash);
      const archived = readdirSync(ownDir).filter((name) => /^tollgate\.84532-[0-9a-f]{8}\.\d{8}T\d{6}Z\.sqlite$/.test(name));
      expect(archived).toHaveLength(1);
      expect(lines.join("\n")).toContain(archived[0]);
      // The old ledger is kept whole, with its own binding.
      const old = new SQLite(join(ownDir, archived[0] ?? ""), { readonly: true });
      try {
        expect(old.prepare("select genesis_hash, asset, spawned from ledger_chain").get()).toEqual({ genesis_hash: firstChain?.genesisHash, asset: firstChain?.asset, spawned: 1 });
      } finally {
        old.close();
      }
    } finally {
      await second.close();
    }
  });

  it("still refuses a ledger bound to a chain that outlives the gateway, naming DEVNET_RPC_URL", async () => {
    await expect(startTestGateway({ DATA_DIR: dataDir })).rejects.toThrow(/belongs to chain 84532 .*DEVNET_RPC_URL attaches to one that outlives it/s);
  });
});
