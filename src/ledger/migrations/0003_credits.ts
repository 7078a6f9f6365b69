/**
 * Wallet credit (issue 12): an `exact` payer pays the quoted maximum, and what the call did not
 * cost becomes credit it can spend on later calls.
 *
 * - `calls.credit_used`: credit held for the call at its reservation (null: none). A call paid
 *   wholly by credit has `amount` 0: nothing of it is on chain.
 * - `calls.cost`: what the call's usage cost the agent at the gateway's prices (at most the
 *   maximum). Under `upto` it is what settled; under `exact` the rest became credit.
 * - `credits`: one balance per wallet, never negative; debited only by a conditional update.
 * - `credit_entries`: the journal. One row per movement, keyed `<call id>:<kind>`, so a movement
 *   recorded twice (a retried settlement, recovery) counts once; the balances are its sums.
 * - `siwx_proofs`: sign-in-with-x proofs already used, so none is accepted twice.
 */
import { sql, type Migration } from "kysely";

export const credits0003: Migration = {
  up: async (db) => {
    await db.schema.alterTable("calls").addColumn("credit_used", "bigint", (col) => col.check(sql`credit_used >= 0`)).execute();
    await db.schema.alterTable("calls").addColumn("cost", "bigint", (col) => col.check(sql`cost >= 0`)).execute();
    await db.schema
      .createTable("credits")
      .addColumn("wallet", "text", (col) => col.primaryKey())
      .addColumn("balance", "bigint", (col) => col.notNull().check(sql`balance >= 0`))
      .addColumn("updated_at", "bigint", (col) => col.notNull())
      .execute();
    await db.schema
      .createTable("credit_entries")
      .addColumn("id", "text", (col) => col.primaryKey())
      .addColumn("wallet", "text", (col) => col.notNull())
      .addColumn("call_id", "text", (col) => col.notNull())
      .addColumn("kind", "text", (col) => col.notNull().check(sql`kind in ('hold', 'returned', 'change')`))
      .addColumn("delta", "bigint", (col) => col.notNull())
      .addColumn("created_at", "bigint", (col) => col.notNull())
      .execute();
    await db.schema.createIndex("credit_entries_wallet_idx").on("credit_entries").columns(["wallet", "created_at"]).execute();
    await db.schema
      .createTable("siwx_proofs")
      .addColumn("nonce", "text", (col) => col.primaryKey())
      .addColumn("wallet", "text", (col) => col.notNull())
      .addColumn("used_at", "bigint", (col) => col.notNull())
      .execute();
  },
  down: async (db) => {
    await db.schema.dropTable("siwx_proofs").execute();
    await db.schema.dropTable("credit_entries").execute();
    await db.schema.dropTable("credits").execute();
    await db.schema.alterTable("calls").dropColumn("cost").execute();
    await db.schema.alterTable("calls").dropColumn("credit_used").execute();
  },
};
