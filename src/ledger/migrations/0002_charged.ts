/**
 * `charged`: what a settled call really cost the agent, beside `amount`, the maximum it signed.
 * Under `exact` the two are equal; under `upto` (issue 12) the charge is the actual cost. Rows
 * settled before this migration were charged their amount.
 */
import { sql, type Migration } from "kysely";

export const charged0002: Migration = {
  up: async (db) => {
    await db.schema
      .alterTable("calls")
      .addColumn("charged", "bigint", (col) => col.check(sql`charged >= 0`))
      .execute();
    await db.updateTable("calls").set({ charged: sql`amount` }).where("status", "=", "settled").execute();
  },
  down: async (db) => {
    await db.schema.alterTable("calls").dropColumn("charged").execute();
  },
};
