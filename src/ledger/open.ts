import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import SQLite from "better-sqlite3";
import { Kysely, PostgresDialect, SqliteDialect, type SqliteDatabase } from "kysely";
import pg from "pg";
import type { Database } from "./schema.ts";
import type { Ledger } from "./types.ts";
import { migrateToLatest } from "./migrations/migrate.ts";
import { createSqlLedger } from "./sql-ledger.ts";

export interface OpenLedgerOptions {
  /** A postgres:// or postgresql:// URL; without one the ledger is a SQLite file in dataDir. */
  databaseUrl?: string | undefined;
  dataDir: string;
  /**
   * Told about errors outside any query, such as an idle Postgres connection dropping. The pool
   * replaces that connection itself, so this is for logging, not recovery.
   */
  onBackgroundError?: ((error: Error) => void) | undefined;
}

export const SQLITE_FILE_NAME = "tollgate.sqlite";

/** Opens the ledger the options point at and migrates it to the latest schema before returning. */
export async function openLedger(options: OpenLedgerOptions): Promise<Ledger> {
  const { db, dialect } =
    options.databaseUrl === undefined
      ? { db: await openSqlite(options.dataDir), dialect: "sqlite" as const }
      : { db: openPostgres(options.databaseUrl, options.onBackgroundError), dialect: "postgres" as const };
  try {
    await migrateToLatest(db, dialect);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  return createSqlLedger(db);
}

async function openSqlite(dataDir: string): Promise<Kysely<Database>> {
  await mkdir(dataDir, { recursive: true });
  // Safe integers: BIGINT money above 2^53 must come back exact, as bigint.
  const database = new SQLite(join(dataDir, SQLITE_FILE_NAME)).defaultSafeIntegers(true);
  try {
    // WAL lets readers (admin queries) run while a call is being recorded; busy_timeout makes a
    // second process on the same file wait for the write lock instead of failing at once.
    database.pragma("journal_mode = WAL");
    database.pragma("busy_timeout = 5000");
    database.pragma("foreign_keys = ON");
  } catch (error) {
    database.close();
    throw error;
  }
  return new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(database) }) });
}

function openPostgres(databaseUrl: string, onBackgroundError: ((error: Error) => void) | undefined): Kysely<Database> {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(databaseUrl)?.[1]?.toLowerCase();
  if (scheme !== "postgres" && scheme !== "postgresql") {
    // The URL itself may carry a password: name only its scheme.
    throw new TypeError(`database URL must start with postgres:// or postgresql://, got ${scheme ?? "no scheme"}`);
  }
  const pool = new pg.Pool({ connectionString: databaseUrl });
  // An idle client that loses its connection is dropped by the pool and replaced on the next
  // checkout, where a lasting outage surfaces as a query error. Without a listener, pg would
  // rethrow this event and crash the process.
  pool.on("error", (error) => onBackgroundError?.(error));
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}

/**
 * Kysely asks better-sqlite3 to prepare every query it runs, and preparing costs more than
 * running these small statements (bench/README.md: ~3 ms of a paid call's CPU). The ledger's
 * queries are a small fixed set of SQL texts, so each is prepared once and reused.
 */
function withStatementCache(database: SQLite.Database): SqliteDatabase {
  const statements = new Map<string, SQLite.Statement>();
  return {
    close: () => database.close(),
    prepare(sql: string) {
      let statement = statements.get(sql);
      if (statement === undefined) {
        statement = database.prepare(sql);
        // Queries with IN (...) lists vary in length; keep the cache bounded all the same.
        if (statements.size < 500) statements.set(sql, statement);
      }
      return statement;
    },
  };
}
