/**
 * `ledger_chain`: the one chain and token this ledger's money is on. Its rows name payers, nonces
 * and transactions that mean something on that chain only; a gateway on another chain or token
 * is refused at start (ledger/chain-binding.ts). One row at most (`id` = 1). `genesis_hash` tells
 * two devnets apart, which share chain id 84532 and even the token's address; it is null where the
 * gateway takes payments on a public network, named by its chain id. `spawned` marks a devnet the
 * gateway started itself, which ended with it: nothing on that chain can settle any more.
 */
import { sql, type Migration } from "kysely";

export const chainBinding0004: Migration = {
  up: async (db) => {
    await db.schema
      .createTable("ledger_chain")
      .addColumn("id", "integer", (col) => col.primaryKey().check(sql`id = 1`))
      .addColumn("chain_id", "bigint", (col) => col.notNull())
      .addColumn("genesis_hash", "text")
      .addColumn("asset", "text", (col) => col.notNull())
      .addColumn("spawned", "integer", (col) => col.notNull().defaultTo(0).check(sql`spawned in (0, 1)`))
      .addColumn("bound_at", "bigint", (col) => col.notNull())
      .execute();
  },
  down: async (db) => {
    await db.schema.dropTable("ledger_chain").execute();
  },
};
