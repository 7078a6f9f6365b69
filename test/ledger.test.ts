import { randomBytes, randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { openLedger, type OpenLedgerOptions } from "../src/ledger/open.ts";
import type { CallUpdate, Ledger, NewCall } from "../src/ledger/types.ts";

const POSTGRES_URL = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

/** Where a test's ledger lives. Each `fresh()` is an empty database of its own. */
interface Backend {
  name: string;
  fresh(): Promise<OpenLedgerOptions>;
  cleanup(): Promise<void>;
}

function sqliteBackend(): Backend {
  const dirs: string[] = [];
  return {
    name: "sqlite",
    async fresh() {
      const dataDir = await mkdtemp(join(tmpdir(), "tollgate-ledger-"));
      dirs.push(dataDir);
      // A subdirectory that does not exist yet: openLedger must create it.
      return { dataDir: join(dataDir, "data") };
    },
    async cleanup() {
      await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
    },
  };
}

/** One throwaway schema per fresh(), chosen through search_path so the ledger code sees only it. */
function postgresBackend(): Backend {
  const schemas: string[] = [];
  async function admin<T>(run: (client: pg.Client) => Promise<T>): Promise<T> {
    const client = new pg.Client({ connectionString: POSTGRES_URL });
    await client.connect();
    try {
      return await run(client);
    } finally {
      await client.end();
    }
  }
  return {
    name: "postgres",
    async fresh() {
      const schema = `tollgate_test_${randomBytes(6).toString("hex")}`;
      await admin((client) => client.query(`create schema ${schema}`));
      schemas.push(schema);
      const url = new URL(POSTGRES_URL);
      url.searchParams.set("options", `-c search_path=${schema}`);
      return { databaseUrl: url.toString(), dataDir: join(tmpdir(), "tollgate-unused") };
    },
    async cleanup() {
      await admin(async (client) => {
        for (const schema of schemas) await client.query(`drop schema if exists ${schema} cascade`);
      });
    },
  };
}

function hex(bytes: number): `0x${string}` {
  return `0x${randomBytes(bytes).toString("hex")}`;
}

/** The same hex, spelled the other way round: what a checksummed or sloppy client might send. */
function upper(value: `0x${string}`): `0x${string}` {
  return `0x${value.slice(2).toUpperCase()}`;
}

function newCall(overrides: Partial<NewCall> = {}): NewCall {
  return {
    id: randomUUID(),
    payer: hex(20),
    nonce: hex(32),
    network: "eip155:84532",
    asset: "0x036CbD53842c5426634e7929541eC2318f3dCF7e",
    payTo: hex(20),
    amount: 1_500n,
    model: "gpt-4o-mini",
    strategy: "cost",
    task: "chat",
    validBefore: 1_714_560_000,
    createdAt: new Date("2024-05-01T10:00:00.000Z"),
    payment: '{"x402Version":2}',
    ...overrides,
  };
}

function settled(at: Date, fields: Omit<CallUpdate, "status" | "at"> = {}): CallUpdate {
  return { status: "settled", at, ...fields };
}

describe.each([sqliteBackend(), postgresBackend()])("ledger on $name", (backend) => {
  const open: Ledger[] = [];
  async function openAt(options: OpenLedgerOptions): Promise<Ledger> {
    const ledger = await openLedger(options);
    open.push(ledger);
    return ledger;
  }
  async function freshLedger(): Promise<Ledger> {
    return openAt(await backend.fresh());
  }

  afterEach(async () => {
    await Promise.all(open.splice(0).map((ledger) => ledger.close()));
  });
  afterAll(async () => {
    await backend.cleanup();
  });

  it("refuses a second use of a (payer, nonce) and returns the call that holds it", async () => {
    const ledger = await freshLedger();
    const first = newCall();
    expect(await ledger.reserve(first)).toEqual({ kind: "reserved" });

    // Same payment spelled in upper case: hex case must not buy a second call.
    const replay = newCall({ payer: upper(first.payer), nonce: upper(first.nonce), model: "gpt-4o" });
    const outcome = await ledger.reserve(replay);

    expect(outcome.kind).toBe("duplicate");
    if (outcome.kind !== "duplicate") return;
    expect(outcome.existing).toMatchObject({
      id: first.id,
      payer: first.payer,
      nonce: first.nonce,
      model: "gpt-4o-mini",
      amount: 1_500n,
      status: "reserved",
      createdAt: first.createdAt,
    });
    expect(await ledger.get(replay.id)).toBeUndefined();
  });

  it("keeps credit: a hold is taken with the reservation or not at all, returned once, and change is credited once", async () => {
    const location = await backend.fresh();
    // Postgres: two pools, the race crosses connections as across replicas. SQLite: one process
    // keeps one connection; a second one here would block this thread in its busy wait while the
    // first waits between statements (two processes race fine: test/credit-postgres covers the idea).
    const one = await openAt(location);
    const two = backend.name === "postgres" ? await openAt(location) : one;
    const payer = hex(20);
    const at = new Date("2024-05-01T10:00:00.000Z");
    // Credit comes only from a paid call's change: earn 1,000.
    const earner = newCall({ payer, amount: 1_500n });
    await one.reserve(earner);
    await one.transition(earner.id, ["reserved"], settled(at, { charged: 1_500n, cost: 500n }), { kind: "change", amount: 1_000n });
    // Recording the same movement again (a retried settlement) counts once.
    await one.transition(earner.id, ["settled"], settled(at), { kind: "change", amount: 1_000n });
    expect(await two.creditBalance(upper(payer))).toBe(1_000n);

    // Twenty holds of 300 race across two connections: exactly three fit, the rest write nothing.
    const racers = Array.from({ length: 20 }, () => newCall({ payer, amount: 0n, creditUsed: 300n }));
    const outcomes = await Promise.all(racers.map((call, i) => (i % 2 === 0 ? one : two).reserve(call)));
    expect(outcomes.filter((o) => o.kind === "reserved")).toHaveLength(3);
    expect(outcomes.filter((o) => o.kind === "insufficient_credit")).toHaveLength(17);
    expect(await one.creditBalance(payer)).toBe(100n);
    const refused = racers.filter((_, i) => outcomes[i]?.kind !== "reserved");
    expect(await Promise.all(refused.map((call) => one.get(call.id)))).toEqual(refused.map(() => undefined));

    // A call released before serving gives its hold back, once.
    const winner = racers[outcomes.findIndex((o) => o.kind === "reserved")]!;
    expect(await one.transition(winner.id, ["reserved"], { status: "released", at }, { kind: "returned" })).toBe(true);
    expect(await two.transition(winner.id, ["reserved"], { status: "released", at }, { kind: "returned" })).toBe(false);
    expect(await one.creditBalance(payer)).toBe(400n);
    expect((await one.creditEntries(payer, 10)).map((e) => [e.kind, e.delta]).sort()).toEqual(
      [["change", 1_000n], ["hold", -300n], ["hold", -300n], ["hold", -300n], ["returned", 300n]].sort(),
    );
  });

  it("records a sign-in proof's nonce once", async () => {
    const ledger = await freshLedger();
    const wallet = hex(20);
    expect(await ledger.useProof("abc123", wallet, new Date())).toBe(true);
    expect(await ledger.useProof("abc123", wallet, new Date())).toBe(false);
  });

  it("lets exactly one of 50 concurrent reserves of one payment through", async () => {
    const location = await backend.fresh();
    // Two ledgers on one database: the race crosses connections, as it would across replicas.
    const ledgers = [await openAt(location), await openAt(location)];
    const payer = hex(20);
    const nonce = hex(32);
    const calls = Array.from({ length: 50 }, () => newCall({ payer, nonce }));

    const outcomes = await Promise.all(calls.map((call, i) => ledgers[i % 2]!.reserve(call)));

    const winners = calls.filter((_, i) => outcomes[i]?.kind === "reserved");
    expect(winners).toHaveLength(1);
    const winner = winners[0]!;
    for (const outcome of outcomes) {
      if (outcome.kind === "duplicate") expect(outcome.existing.id).toBe(winner.id);
    }
    const stored = await Promise.all(calls.map((call) => ledgers[0]!.get(call.id)));
    expect(stored.filter((row) => row !== undefined).map((row) => row.id)).toEqual([winner.id]);
  });

  it("accepts the same nonce from a different payer", async () => {
    const ledger = await freshLedger();
    const nonce = hex(32);
    expect(await ledger.reserve(newCall({ nonce }))).toEqual({ kind: "reserved" });
    expect(await ledger.reserve(newCall({ nonce }))).toEqual({ kind: "reserved" });
  });

  it("moves a call through its statuses, stamping each and keeping fields an update leaves out", async () => {
    const ledger = await freshLedger();
    const call = newCall({ payer: upper(hex(20)) });
    await ledger.reserve(call);

    const reserved = await ledger.get(call.id);
    expect(reserved).toMatchObject({
      payer: call.payer.toLowerCase(),
      asset: call.asset.toLowerCase(),
      status: "reserved",
      provider: null,
      promptTokens: null,
      usageEstimated: false,
      upstreamCost: null,
      txHash: null,
      verifiedAt: null,
      servedAt: null,
      settledAt: null,
      updatedAt: call.createdAt,
      validBefore: call.validBefore,
    });

    const verifiedAt = new Date("2024-05-01T10:00:01.000Z");
    await ledger.update(call.id, { status: "verified", at: verifiedAt });
    const servedAt = new Date("2024-05-01T10:00:03.250Z");
    await ledger.update(call.id, {
      status: "served",
      at: servedAt,
      provider: "openai",
      promptTokens: 120,
      completionTokens: 80,
      cachedPromptTokens: 64,
      reasoningTokens: 16,
      usageEstimated: true,
      upstreamCost: 90n,
      latencyMs: 2250,
      ttftMs: 310,
    });
    const txHash = hex(32);
    const settledAt = new Date("2024-05-01T10:00:05.000Z");
    await ledger.update(call.id, settled(settledAt, { txHash: upper(txHash) }));

    expect(await ledger.get(call.id)).toMatchObject({
      status: "settled",
      provider: "openai",
      promptTokens: 120,
      completionTokens: 80,
      cachedPromptTokens: 64,
      reasoningTokens: 16,
      usageEstimated: true,
      upstreamCost: 90n,
      txHash,
      latencyMs: 2250,
      ttftMs: 310,
      error: null,
      verifiedAt,
      servedAt,
      settledAt,
      updatedAt: settledAt,
      createdAt: call.createdAt,
    });

    const failedAt = new Date("2024-05-01T10:00:06.000Z");
    await ledger.update(call.id, { status: "failed", at: failedAt, error: "settlement_failed" });
    expect(await ledger.get(call.id)).toMatchObject({ status: "failed", error: "settlement_failed", settledAt, updatedAt: failedAt });
  });

  it("refuses to update a call it never reserved", async () => {
    const ledger = await freshLedger();
    await expect(ledger.update("no-such-call", { status: "verified", at: new Date() })).rejects.toThrow(/no call with id/);
  });

  it("round-trips amounts above 2^53 exactly, in rows and in sums", async () => {
    const ledger = await freshLedger();
    const amount = 2n ** 53n + 1n;
    const upstreamCost = 2n ** 60n + 3n;
    const payer = hex(20);
    const calls = [newCall({ payer, amount }), newCall({ payer, amount })];
    for (const call of calls) {
      await ledger.reserve(call);
      await ledger.update(call.id, settled(new Date("2024-05-01T11:00:00.000Z"), { upstreamCost }));
    }

    expect(await ledger.get(calls[0]!.id)).toMatchObject({ amount, upstreamCost });
    const [summary] = await ledger.wallets();
    expect(summary).toMatchObject({ wallet: payer, spent: 2n * amount, upstreamCost: 2n * upstreamCost });
  });

  it("counts what a settled call was charged, not the maximum it signed, and keeps both", async () => {
    const ledger = await freshLedger();
    const payer = hex(20);
    const [charged, exact] = [newCall({ payer, amount: 5_000n }), newCall({ payer, amount: 700n })];
    for (const call of [charged, exact]) await ledger.reserve(call);
    await ledger.update(charged.id, settled(new Date("2024-05-01T11:00:00.000Z"), { charged: 1_234n }));
    await ledger.update(exact.id, settled(new Date("2024-05-01T11:00:01.000Z")));
    expect(await ledger.get(charged.id)).toMatchObject({ amount: 5_000n, charged: 1_234n });
    expect(await ledger.get(exact.id)).toMatchObject({ amount: 700n, charged: null });
    expect((await ledger.wallets())[0]).toMatchObject({ wallet: payer, spent: 1_234n + 700n });
  });

  it("lists wallets biggest spender first, counting every call but only settled spend", async () => {
    const ledger = await freshLedger();
    const small = hex(20);
    const big = hex(20);
    const idle = hex(20);
    const at = (minute: number) => new Date(Date.UTC(2024, 4, 1, 12, minute));

    const smallSettled = newCall({ payer: small, amount: 100n, createdAt: at(1) });
    const smallFailed = newCall({ payer: small, amount: 5_000n, createdAt: at(2) });
    const bigSettled = newCall({ payer: big, amount: 700n, createdAt: at(3) });
    const idleReserved = newCall({ payer: idle, amount: 9_000n, createdAt: at(4) });
    for (const call of [smallSettled, smallFailed, bigSettled, idleReserved]) await ledger.reserve(call);
    await ledger.update(smallSettled.id, settled(at(5), { promptTokens: 10, completionTokens: 5, upstreamCost: 40n }));
    await ledger.update(smallFailed.id, { status: "failed", at: at(6), promptTokens: 7, upstreamCost: 3n, error: "boom" });
    await ledger.update(bigSettled.id, settled(at(7), { promptTokens: 1, completionTokens: 2, upstreamCost: 300n }));

    expect(await ledger.wallets()).toEqual([
      { wallet: big, calls: 1, spent: 700n, upstreamCost: 300n, promptTokens: 1, completionTokens: 2, lastCallAt: at(3) },
      { wallet: small, calls: 2, spent: 100n, upstreamCost: 43n, promptTokens: 17, completionTokens: 5, lastCallAt: at(2) },
      { wallet: idle, calls: 1, spent: 0n, upstreamCost: 0n, promptTokens: 0, completionTokens: 0, lastCallAt: at(4) },
    ]);
  });

  it("breaks a wallet's spend down by model and UTC day, with its recent calls newest first", async () => {
    const ledger = await freshLedger();
    const payer = hex(20);
    const lateMay1 = newCall({ payer, model: "claude-3-5-haiku", amount: 50n, createdAt: new Date("2024-05-01T23:59:59.999Z") });
    const earlyMay1 = newCall({ payer, model: "gpt-4o-mini", amount: 100n, createdAt: new Date("2024-05-01T10:00:00.000Z") });
    const may2 = newCall({ payer, model: "gpt-4o-mini", amount: 200n, createdAt: new Date("2024-05-02T00:00:00.000Z") });
    const someoneElse = newCall({ model: "gpt-4o", amount: 999n });
    for (const call of [lateMay1, earlyMay1, may2, someoneElse]) await ledger.reserve(call);
    await ledger.update(earlyMay1.id, settled(new Date("2024-05-01T10:00:02.000Z"), { promptTokens: 3, completionTokens: 4, upstreamCost: 20n }));
    await ledger.update(may2.id, settled(new Date("2024-05-02T00:00:02.000Z"), { promptTokens: 5, completionTokens: 6, upstreamCost: 30n }));
    await ledger.update(someoneElse.id, settled(new Date("2024-05-02T00:00:02.000Z")));

    const detail = await ledger.wallet(upper(payer));

    expect(detail).toBeDefined();
    if (detail === undefined) return;
    expect(detail.wallet).toBe(payer);
    expect(detail.totals).toEqual({ calls: 3, spent: 300n, upstreamCost: 50n, promptTokens: 8, completionTokens: 10 });
    expect(detail.byModel).toEqual([
      { model: "gpt-4o-mini", calls: 2, spent: 300n, upstreamCost: 50n, promptTokens: 8, completionTokens: 10 },
      { model: "claude-3-5-haiku", calls: 1, spent: 0n, upstreamCost: 0n, promptTokens: 0, completionTokens: 0 },
    ]);
    expect(detail.byDay).toEqual([
      { day: "2024-05-02", calls: 1, spent: 200n, upstreamCost: 30n, promptTokens: 5, completionTokens: 6 },
      { day: "2024-05-01", calls: 2, spent: 100n, upstreamCost: 20n, promptTokens: 3, completionTokens: 4 },
    ]);
    expect(detail.recent.map((row) => row.id)).toEqual([may2.id, lateMay1.id, earlyMay1.id]);
    expect(detail.recent[0]).toMatchObject({ status: "settled", amount: 200n, payer });
  });

  it("shows a wallet's 30 most recent active days and as many recent calls as asked", async () => {
    const ledger = await freshLedger();
    const payer = hex(20);
    // 31 active days, two weeks apart so "days of activity" and "calendar days" differ.
    const calls = Array.from({ length: 31 }, (_, i) => newCall({ payer, createdAt: new Date(Date.UTC(2023, 0, 1 + 14 * i, 8)) }));
    for (const call of calls) await ledger.reserve(call);

    const detail = await ledger.wallet(payer);
    expect(detail?.byDay).toHaveLength(30);
    expect(detail?.byDay[0]?.day).toBe(calls[30]!.createdAt.toISOString().slice(0, 10));
    expect(detail?.byDay.at(-1)?.day).toBe(calls[1]!.createdAt.toISOString().slice(0, 10));
    expect(detail?.recent.map((row) => row.id)).toEqual(calls.slice(11).reverse().map((call) => call.id));
    expect(detail?.totals.calls).toBe(31);

    const three = await ledger.wallet(payer, { recent: 3 });
    expect(three?.recent.map((row) => row.id)).toEqual(calls.slice(28).reverse().map((call) => call.id));
  });

  it("lists the calls settled in a time window, oldest settlement first, and no others", async () => {
    const ledger = await freshLedger();
    const at = (minute: number) => new Date(Date.UTC(2024, 4, 1, 9, minute));
    const [before, atCutoff, later, latest, failed, reserved] = Array.from({ length: 6 }, () => newCall({ amount: 2n ** 60n + 7n }));
    for (const call of [before, atCutoff, later, latest, failed, reserved]) await ledger.reserve(call!);
    await ledger.update(before!.id, settled(at(9), { txHash: hex(32) }));
    await ledger.update(latest!.id, settled(at(30), { txHash: hex(32) }));
    await ledger.update(atCutoff!.id, settled(at(10), { txHash: hex(32) }));
    await ledger.update(later!.id, settled(at(20), { txHash: hex(32) }));
    await ledger.update(failed!.id, { status: "failed", at: at(25), error: "settle: boom" });

    const rows = await ledger.listSettled({ since: at(10) });

    expect(rows.map((row) => row.id)).toEqual([atCutoff!.id, later!.id, latest!.id]);
    expect(rows[0]).toMatchObject({ status: "settled", amount: 2n ** 60n + 7n, settledAt: at(10), payer: atCutoff!.payer });
    expect(rows[0]?.txHash).toMatch(/^0x[0-9a-f]{64}$/);
    expect((await ledger.listSettled({ since: at(10), until: at(20) })).map((row) => row.id)).toEqual([atCutoff!.id, later!.id]);
    expect(await ledger.listSettled({ since: at(31) })).toEqual([]);
  });

  it("knows nothing of a wallet that never called", async () => {
    const ledger = await freshLedger();
    await ledger.reserve(newCall());
    expect(await ledger.wallet(hex(20))).toBeUndefined();
  });

  it("migrates idempotently when the same database is opened again, and keeps its data across close", async () => {
    const location = await backend.fresh();
    const first = await openLedger(location);
    const call = newCall({ amount: 2n ** 62n });
    await first.reserve(call);
    await first.update(call.id, settled(new Date("2024-05-01T10:00:05.000Z"), { promptTokens: 9 }));
    await first.close();

    const reopened = await openAt(location);
    const again = await openAt(location);
    expect(await reopened.get(call.id)).toMatchObject({ status: "settled", amount: 2n ** 62n, promptTokens: 9 });
    expect(await again.reserve(newCall({ payer: call.payer, nonce: call.nonce }))).toMatchObject({ kind: "duplicate" });
  });

  it("lets several replicas start and migrate a new database at once", async () => {
    const location = await backend.fresh();
    const ledgers = await Promise.all([openAt(location), openAt(location), openAt(location)]);
    await ledgers[0]!.reserve(newCall());
    expect(await ledgers[2]!.wallets()).toHaveLength(1);
  });

  it("is bound to the first chain and token recorded, and answers that binding to every later or concurrent start", async () => {
    const location = await backend.fresh();
    const first = await openAt(location);
    expect(await first.chainBinding()).toBeUndefined();
    const devnet = { chainId: 84532, genesisHash: hex(32), asset: upper(hex(20)), spawned: true };
    const other = { chainId: 84532, genesisHash: hex(32), asset: hex(20), spawned: false };
    // Two replicas binding a new ledger at once: one wins, both read the winner back.
    const [a, b] = await Promise.all([first.bindChain(devnet, new Date()), (await openAt(location)).bindChain(other, new Date())]);
    expect(a).toEqual(b);
    const winner = a.genesisHash === devnet.genesisHash.toLowerCase() ? devnet : other;
    expect(a).toEqual({ chainId: 84532, genesisHash: winner.genesisHash.toLowerCase(), asset: winner.asset.toLowerCase(), spawned: winner.spawned });
    const reopened = await openAt(location);
    expect(await reopened.chainBinding()).toEqual(a);
    expect(await reopened.bindChain({ chainId: 8453, genesisHash: null, asset: hex(20), spawned: false }, new Date())).toEqual(a);
  });
});
