import { mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openLedger } from "../ledger/open.ts";
import type { Ledger, NewCall } from "../ledger/types.ts";
import { callSteps, markRepaid, recordSettlement, reserveCall } from "./lifecycle.ts";

const usage = { promptTokens: 10, completionTokens: 5, cachedPromptTokens: 0, reasoningTokens: 0, estimated: false };
const rates = { inputPerMTok: 150_000n, outputPerMTok: 600_000n };
const now = () => Date.parse("2026-12-01T10:00:00Z");

let ledger: Ledger;
let n = 0;

beforeEach(async () => {
  ledger = await openLedger({ databaseUrl: undefined, dataDir: mkdtempSync(join(tmpdir(), "tollgate-lifecycle-")) });
});
afterEach(async () => {
  await ledger.close();
});

async function reserved(): Promise<string> {
  n += 1;
  const call: NewCall = {
    id: `req_${n}`,
    payer: "0x90f79bf6eb2c4f870365e785982e1f101e93b906",
    nonce: `0x${n.toString(16).padStart(64, "0")}`,
    network: "eip155:84532",
    asset: "0x5fbdb2315678afecb367f032d93f642f64180aa3",
    payTo: "0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc",
    amount: 350n,
    model: "gpt-4o-mini",
    strategy: "explicit",
    task: "chat",
    validBefore: 2_000_000_000,
    createdAt: new Date(now()),
    payment: "{}",
  };
  expect((await reserveCall(ledger, call)).kind).toBe("reserved");
  return call.id;
}

describe("the paid call's state machine", () => {
  it("walks reserved -> verified -> served -> settled, recording usage and the upstream cost", async () => {
    const id = await reserved();
    const steps = callSteps(ledger, id, now);
    await steps.verified();
    await steps.served({ provider: "openai", rates, usage, latencyMs: 12, charged: 300n, cost: 300n });
    const row = await ledger.get(id);
    expect(row).toMatchObject({ status: "served", provider: "openai", promptTokens: 10, completionTokens: 5, latencyMs: 12 });
    expect(row?.upstreamCost).toBeGreaterThan(0n);
    const tx = `0x${"ab".repeat(32)}` as const;
    expect(await recordSettlement(ledger, row!, { kind: "settled", response: { success: true, transaction: tx, network: "eip155:84532" } }, new Date(now()))).toBe(true);
    expect(await ledger.get(id)).toMatchObject({ status: "settled", txHash: tx, settleAttempts: 1 });
  });

  it("refuses a step out of order, and says where the call is", async () => {
    const id = await reserved();
    const steps = callSteps(ledger, id, now);
    await expect(steps.served({ provider: "openai", rates, usage, latencyMs: 1, charged: 300n, cost: 300n })).rejects.toThrow(/cannot become served from reserved/);
    await steps.verified();
    await steps.failed("no provider");
    await expect(steps.served({ provider: "openai", rates, usage, latencyMs: 1, charged: 300n, cost: 300n })).rejects.toThrow(/cannot become served from failed/);
    await expect(steps.verified()).rejects.toThrow(/cannot become verified from failed/);
  });

  it("records one settlement outcome per call: a second worker's record is refused", async () => {
    const id = await reserved();
    const steps = callSteps(ledger, id, now);
    await steps.verified();
    await steps.served({ provider: "openai", rates, usage, latencyMs: 1, charged: 300n, cost: 300n });
    const row = (await ledger.get(id))!;
    expect(await recordSettlement(ledger, row, { kind: "unpaid", reason: "authorization cancelled by the payer" }, new Date(now()))).toBe(true);
    expect(await recordSettlement(ledger, row, { kind: "settled", response: { success: true, transaction: `0x${"cd".repeat(32)}`, network: "eip155:84532" } }, new Date(now()))).toBe(false);
    expect(await ledger.get(id)).toMatchObject({ status: "unpaid", txHash: null });
    await markRepaid(ledger, [(await ledger.get(id))!], "req_debt", new Date(now()));
    expect((await ledger.get(id))?.status).toBe("repaid");
  });
});

describe("one owner of status changes", () => {
  it("no module outside call/lifecycle.ts and ledger/ reserves, updates or transitions a call row", () => {
    const root = fileURLToPath(new URL("../", import.meta.url));
    const offenders: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) {
          if (name !== "ledger") walk(path);
          continue;
        }
        if (!name.endsWith(".ts") || name.endsWith(".test.ts") || path.endsWith(join("call", "lifecycle.ts"))) continue;
        if (/ledger\??\.(update|transition|reserve|releaseAbandoned)\(/.test(readFileSync(path, "utf8"))) offenders.push(path.slice(root.length));
      }
    };
    walk(root);
    expect(offenders).toEqual([]);
  });
});
