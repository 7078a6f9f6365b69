/**
 * The ledger port over Kysely: one set of queries for SQLite and Postgres. Both engines support
 * ON CONFLICT, RETURNING, aggregate FILTER and integer division, which is all it needs.
 */
import { sql, type Kysely, type Transaction } from "kysely";
import type { CallRow, CallStatus, CallUpdate, CreditMove, Ledger, NewCall, ReserveOutcome, WalletDetail, WalletSummary } from "./types.ts";
import type { Database, DriverInteger } from "./schema.ts";
import { lowerHex, toCallInsert, toCallPatch, toCallRow } from "./call-row.ts";
import { addSpendTotals, readSpendTotals, spendTotalsColumns, ZERO_SPEND } from "./spend-totals.ts";
import { readBigint, readDate, readHex, readNumber } from "./driver-values.ts";
import { bindChain, readChainBinding } from "./chain-binding.ts";

const MS_PER_DAY = 86_400_000;
const DAYS_SHOWN = 30;
const DEFAULT_RECENT = 20;

/**
 * UTC day number of created_at. Integer division of epoch milliseconds truncates in both dialects
 * (and truncation is floor for post-1970 times), so one expression buckets days everywhere.
 */
const createdDay = sql<DriverInteger>`${sql.ref("created_at")} / ${sql.lit(MS_PER_DAY)}`;

export function createSqlLedger(db: Kysely<Database>): Ledger {
  async function findByPayerNonce(payer: `0x${string}`, nonce: `0x${string}`): Promise<CallRow | undefined> {
    const row = await db
      .selectFrom("calls")
      .selectAll()
      .where("payer", "=", lowerHex(payer))
      .where("nonce", "=", lowerHex(nonce))
      .executeTakeFirst();
    return row === undefined ? undefined : toCallRow(row);
  }

  return {
    async reserve(call: NewCall): Promise<ReserveOutcome> {
      const hold = call.creditUsed ?? 0n;
      // The UNIQUE (payer, nonce) constraint arbitrates concurrent reserves inside the database;
      // DO NOTHING turns the loser into "no row returned" instead of an error to decode per
      // driver. Postgres makes the loser wait for the winner's commit, so the lookup sees it.
      const insert = (trx: Kysely<Database>) =>
        trx
          .insertInto("calls")
          .values(toCallInsert(call))
          .onConflict((conflict) => conflict.columns(["payer", "nonce"]).doNothing())
          .returning("id")
          .executeTakeFirst();
      if (hold === 0n) {
        if ((await insert(db)) !== undefined) return { kind: "reserved" };
      } else {
        const outcome = await db.transaction().execute(async (trx) => {
          if ((await insert(trx)) === undefined) return "duplicate" as const;
          if (await debitCredit(trx, call.payer, hold, call.createdAt)) {
            await journal(trx, call.payer, call.id, "hold", -hold, call.createdAt);
            return "reserved" as const;
          }
          // Roll the row back with the transaction: the payment's nonce stays unused.
          throw new InsufficientCredit();
        }).catch(async (error: unknown) => {
          if (error instanceof InsufficientCredit) return { kind: "insufficient_credit" as const, balance: await balanceOf(db, call.payer) };
          throw error;
        });
        if (outcome === "reserved") return { kind: "reserved" };
        if (typeof outcome === "object") return outcome;
      }
      const existing = await findByPayerNonce(call.payer, call.nonce);
      if (existing === undefined) {
        throw new Error(`ledger: reserve of call ${call.id} conflicted but no row holds its (payer, nonce)`);
      }
      return { kind: "duplicate", existing };
    },

    async update(id: string, update: CallUpdate): Promise<void> {
      const result = await db.updateTable("calls").set(toCallPatch(update)).where("id", "=", id).executeTakeFirst();
      // A missing row means the pipeline lost track of a call it reserved: a bug, not an outcome.
      if (result.numUpdatedRows === 0n) throw new Error(`ledger: no call with id ${id}`);
    },

    async transition(id: string, from: readonly CallStatus[], update: CallUpdate, credit?: CreditMove): Promise<boolean> {
      const move = (trx: Kysely<Database>) =>
        trx
          .updateTable("calls")
          .set(toCallPatch(update))
          .where("id", "=", id)
          .where("status", "in", [...from])
          .returning(["payer", "credit_used"])
          .executeTakeFirst();
      if (credit === undefined) return (await move(db)) !== undefined;
      return db.transaction().execute(async (trx) => {
        const moved = await move(trx);
        if (moved === undefined) return false;
        const payer = readHex(moved.payer, "payer");
        const amount = credit.kind === "change" ? credit.amount : readBigint(moved.credit_used ?? 0, "credit_used");
        if (amount > 0n && (await journal(trx, payer, id, credit.kind, amount, update.at))) await creditWallet(trx, payer, amount, update.at);
        return true;
      });
    },

    async releaseAbandoned(olderThan: Date, at: Date): Promise<number> {
      const abandoned = { status: "released", at, error: "abandoned: the gateway stopped before serving it" } as const;
      const result = await db
        .updateTable("calls")
        .set(toCallPatch(abandoned))
        .where("status", "in", ["reserved", "verified"])
        .where("created_at", "<", olderThan.getTime())
        .where("credit_used", "is", null)
        .executeTakeFirst();
      // A call that held credit gives it back in the same transaction as its release.
      const holding = await db
        .selectFrom("calls")
        .select("id")
        .where("status", "in", ["reserved", "verified"])
        .where("created_at", "<", olderThan.getTime())
        .where("credit_used", "is not", null)
        .execute();
      let released = Number(result.numUpdatedRows);
      for (const { id } of holding) {
        if (await this.transition(id, ["reserved", "verified"], abandoned, { kind: "returned" })) released += 1;
      }
      return released;
    },

    creditBalance: (address) => balanceOf(db, address),

    async creditEntries(address, limit) {
      const rows = await db
        .selectFrom("credit_entries")
        .selectAll()
        .where("wallet", "=", lowerHex(address))
        .orderBy("created_at", "desc")
        .orderBy("id", "desc")
        .limit(limit)
        .execute();
      return rows.map((row) => ({ callId: row.call_id, kind: row.kind, delta: readBigint(row.delta, "delta"), at: readDate(row.created_at, "created_at") }));
    },

    async useProof(nonce, wallet, at) {
      const inserted = await db
        .insertInto("siwx_proofs")
        .values({ nonce, wallet: lowerHex(wallet), used_at: at.getTime() })
        .onConflict((conflict) => conflict.column("nonce").doNothing())
        .returning("nonce")
        .executeTakeFirst();
      return inserted !== undefined;
    },

    async unsettled(): Promise<CallRow[]> {
      const rows = await db.selectFrom("calls").selectAll().where("status", "in", ["served", "pending"]).orderBy("created_at").orderBy("id").execute();
      return rows.map(toCallRow);
    },

    async debts(address: `0x${string}`): Promise<CallRow[]> {
      const rows = await db.selectFrom("calls").selectAll().where("payer", "=", lowerHex(address)).where("status", "=", "unpaid").orderBy("created_at").execute();
      return rows.map(toCallRow);
    },

    async get(id: string): Promise<CallRow | undefined> {
      const row = await db.selectFrom("calls").selectAll().where("id", "=", id).executeTakeFirst();
      return row === undefined ? undefined : toCallRow(row);
    },

    async wallets(): Promise<WalletSummary[]> {
      const rows = await db
        .selectFrom("calls")
        .select((eb) => [eb.ref("payer").as("wallet"), eb.fn.max("created_at").as("last_call_at"), ...spendTotalsColumns(eb)])
        .groupBy("payer")
        .orderBy("spent", "desc")
        .orderBy("payer")
        .execute();
      return rows.map((row) => ({
        wallet: readHex(row.wallet, "payer"),
        lastCallAt: readDate(row.last_call_at, "created_at"),
        ...readSpendTotals(row),
      }));
    },

    async wallet(address: `0x${string}`, options: { recent?: number } = {}): Promise<WalletDetail | undefined> {
      const recent = options.recent ?? DEFAULT_RECENT;
      if (!Number.isSafeInteger(recent) || recent < 0) throw new RangeError(`recent must be a non-negative integer, got ${recent}`);
      const wallet = lowerHex(address);

      const modelRows = await db
        .selectFrom("calls")
        .select((eb) => [eb.ref("model").as("model"), ...spendTotalsColumns(eb)])
        .where("payer", "=", wallet)
        .groupBy("model")
        .orderBy("spent", "desc")
        .orderBy("model")
        .execute();
      if (modelRows.length === 0) return undefined;

      const [dayRows, recentRows] = await Promise.all([
        db
          .selectFrom("calls")
          .select((eb) => [createdDay.as("day"), ...spendTotalsColumns(eb)])
          .where("payer", "=", wallet)
          .groupBy(createdDay)
          .orderBy("day", "desc")
          .limit(DAYS_SHOWN)
          .execute(),
        recent === 0
          ? Promise.resolve([])
          : db
              .selectFrom("calls")
              .selectAll()
              .where("payer", "=", wallet)
              .orderBy("created_at", "desc")
              .orderBy("id", "desc")
              .limit(recent)
              .execute(),
      ]);

      const byModel = modelRows.map((row) => ({ model: row.model, ...readSpendTotals(row) }));
      return {
        wallet,
        // Every call has exactly one model, so the per-model rows add up to the wallet's totals.
        totals: byModel.reduce(addSpendTotals, ZERO_SPEND),
        byModel,
        byDay: dayRows.map((row) => ({ day: dayString(readNumber(row.day, "day")), ...readSpendTotals(row) })),
        recent: recentRows.map(toCallRow),
      };
    },

    async listSettled(window: { since: Date; until?: Date }): Promise<CallRow[]> {
      let query = db.selectFrom("calls").selectAll().where("status", "=", "settled").where("settled_at", ">=", window.since.getTime());
      if (window.until !== undefined) query = query.where("settled_at", "<=", window.until.getTime());
      const rows = await query
        .orderBy("settled_at")
        .orderBy("id")
        .execute();
      return rows.map(toCallRow);
    },

    chainBinding: () => readChainBinding(db),
    bindChain: (binding, at) => bindChain(db, binding, at),

    async close(): Promise<void> {
      await db.destroy();
    },
  };
}

class InsufficientCredit extends Error {}

/**
 * Takes `amount` from the wallet's credit only if the balance covers it, in one conditional
 * UPDATE: Postgres re-checks the condition on the row it locked, SQLite runs one writer at a time,
 * so two calls racing for the same credit can never both take it.
 */
async function debitCredit(trx: Transaction<Database>, wallet: `0x${string}`, amount: bigint, at: Date): Promise<boolean> {
  const result = await trx
    .updateTable("credits")
    .set({ balance: sql`balance - ${amount}`, updated_at: at.getTime() })
    .where("wallet", "=", lowerHex(wallet))
    .where("balance", ">=", amount)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

async function creditWallet(trx: Kysely<Database>, wallet: `0x${string}`, amount: bigint, at: Date): Promise<void> {
  await trx
    .insertInto("credits")
    .values({ wallet: lowerHex(wallet), balance: amount, updated_at: at.getTime() })
    .onConflict((conflict) => conflict.column("wallet").doUpdateSet({ balance: sql`credits.balance + ${amount}`, updated_at: at.getTime() }))
    .execute();
}

/** Writes one journal entry; false when the call already has an entry of this kind. */
async function journal(trx: Kysely<Database>, wallet: `0x${string}`, callId: string, kind: "hold" | "returned" | "change", delta: bigint, at: Date): Promise<boolean> {
  const inserted = await trx
    .insertInto("credit_entries")
    .values({ id: `${callId}:${kind}`, wallet: lowerHex(wallet), call_id: callId, kind, delta, created_at: at.getTime() })
    .onConflict((conflict) => conflict.column("id").doNothing())
    .returning("id")
    .executeTakeFirst();
  return inserted !== undefined;
}

async function balanceOf(db: Kysely<Database>, wallet: `0x${string}`): Promise<bigint> {
  const row = await db.selectFrom("credits").select("balance").where("wallet", "=", lowerHex(wallet)).executeTakeFirst();
  return row === undefined ? 0n : readBigint(row.balance, "balance");
}

function dayString(dayNumber: number): string {
  return new Date(dayNumber * MS_PER_DAY).toISOString().slice(0, 10);
}
