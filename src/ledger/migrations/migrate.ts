import { Migrator, sql, type Kysely } from "kysely";
import type { LedgerDialect } from "../schema.ts";
import { ledgerMigrationProvider } from "./index.ts";
import { messageOf } from "../../lib/errors.ts";

export class LedgerMigrationError extends Error {
  override readonly name = "LedgerMigrationError";
  /** The migration that failed, when Kysely got as far as running one. */
  readonly migration: string | undefined;

  constructor(migration: string | undefined, cause: unknown) {
    const reason = messageOf(cause);
    super(`ledger migration ${migration ?? "setup"} failed: ${reason}`, { cause });
    this.migration = migration;
  }
}

/**
 * Brings the schema to the latest migration. Safe to run on every start and from many replicas at
 * once: Kysely takes a migration lock and skips what already ran.
 */
export async function migrateToLatest<DB>(db: Kysely<DB>, dialect: LedgerDialect): Promise<void> {
  const migrator = new Migrator({
    db,
    provider: ledgerMigrationProvider,
    ...(dialect === "postgres" && { migrationTableSchema: await currentSchema(db) }),
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error === undefined) return;
  const failed = results?.find((result) => result.status === "Error");
  throw new LedgerMigrationError(failed?.migrationName, error);
}

/**
 * Kysely decides whether its bookkeeping table exists by looking across every Postgres schema, so
 * a `kysely_migration` table in another schema would make it skip creating one in ours. Naming
 * the search_path's schema explicitly keeps each schema's migrations its own.
 */
async function currentSchema<DB>(db: Kysely<DB>): Promise<string> {
  const { rows } = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(db);
  const schema = rows[0]?.schema;
  if (typeof schema !== "string") {
    throw new LedgerMigrationError(undefined, new Error("Postgres search_path names no existing schema"));
  }
  return schema;
}
