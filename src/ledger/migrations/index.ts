/**
 * Every ledger migration, in code rather than found by a folder scan, so the set is the same under
 * tsx, a bundler or a compiled build. Kysely runs them in key order: keep the numeric prefix.
 */
import type { Migration, MigrationProvider } from "kysely";
import { calls0001 } from "./0001_calls.ts";
import { charged0002 } from "./0002_charged.ts";
import { credits0003 } from "./0003_credits.ts";
import { chainBinding0004 } from "./0004_chain_binding.ts";

export const LEDGER_MIGRATIONS: Readonly<Record<string, Migration>> = Object.freeze({
  "0001_calls": calls0001,
  "0002_charged": charged0002,
  "0003_credits": credits0003,
  "0004_chain_binding": chainBinding0004,
});

export const ledgerMigrationProvider: MigrationProvider = {
  getMigrations: async () => ({ ...LEDGER_MIGRATIONS }),
};
