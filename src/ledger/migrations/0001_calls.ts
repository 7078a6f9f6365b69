/**
 * The `calls` table. A migration is a frozen snapshot: it spells out its own status list rather
 * than importing CALL_STATUSES, so a later change to the port cannot rewrite history.
 */
import { sql, type Migration } from "kysely";

export const calls0001: Migration = {
  up: async (db) => {
    await db.schema
      .createTable("calls")
      .addColumn("id", "text", (col) => col.primaryKey())
      .addColumn("payer", "text", (col) => col.notNull())
      .addColumn("nonce", "text", (col) => col.notNull())
      .addColumn("network", "text", (col) => col.notNull())
      .addColumn("asset", "text", (col) => col.notNull())
      .addColumn("pay_to", "text", (col) => col.notNull())
      .addColumn("amount", "bigint", (col) => col.notNull().check(sql`amount >= 0`))
      .addColumn("model", "text", (col) => col.notNull())
      .addColumn("strategy", "text", (col) => col.notNull())
      .addColumn("task", "text", (col) => col.notNull())
      .addColumn("valid_before", "bigint", (col) => col.notNull())
      .addColumn("status", "text", (col) =>
        col
          .notNull()
          .check(sql`status in ('reserved', 'verified', 'served', 'settled', 'failed', 'released', 'pending', 'expired', 'unpaid', 'repaid')`),
      )
      .addColumn("provider", "text")
      .addColumn("prompt_tokens", "integer")
      .addColumn("completion_tokens", "integer")
      .addColumn("cached_prompt_tokens", "integer")
      .addColumn("reasoning_tokens", "integer")
      .addColumn("usage_estimated", "integer", (col) => col.notNull().defaultTo(0).check(sql`usage_estimated in (0, 1)`))
      .addColumn("upstream_cost", "bigint")
      .addColumn("tx_hash", "text")
      .addColumn("latency_ms", "integer")
      .addColumn("ttft_ms", "integer")
      .addColumn("error", "text")
      // Epoch milliseconds: integer ordering and day arithmetic read the same in both dialects.
      .addColumn("created_at", "bigint", (col) => col.notNull())
      .addColumn("verified_at", "bigint")
      .addColumn("served_at", "bigint")
      .addColumn("settled_at", "bigint")
      .addColumn("closed_at", "bigint")
      // x402 payload + requirements (JSON) so settlement survives faults and restarts.
      .addColumn("payment", "text", (col) => col.notNull())
      .addColumn("settle_attempts", "integer", (col) => col.notNull().defaultTo(0))
      .addColumn("updated_at", "bigint", (col) => col.notNull())
      // The replay guard: one signed payment (payer, nonce) buys at most one call.
      .addUniqueConstraint("calls_payer_nonce_key", ["payer", "nonce"])
      .execute();
    await db.schema.createIndex("calls_payer_created_at_idx").on("calls").columns(["payer", "created_at"]).execute();
    await db.schema.createIndex("calls_status_idx").on("calls").column("status").execute();
  },
  down: async (db) => {
    await db.schema.dropTable("calls").execute();
  },
};
