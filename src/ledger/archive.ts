import { existsSync, renameSync } from "node:fs";
import { join } from "node:path";
import type { ChainBinding } from "./chain-binding.ts";
import { SQLITE_FILE_NAME } from "./open.ts";

/**
 * Moves a closed SQLite ledger (and its WAL and shared-memory files, where they exist) aside, to
 * `tollgate.<chain>-<genesis prefix>.<time>.sqlite` in the same directory, so the next open
 * starts an empty one. Returns the new path of the database file.
 */
export function archiveSqliteLedger(dataDir: string, binding: ChainBinding, at: Date): string {
  const stamp = at.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  const genesis = binding.genesisHash?.slice(2, 10) ?? "remote";
  const archived = join(dataDir, SQLITE_FILE_NAME.replace(/\.sqlite$/, `.${binding.chainId}-${genesis}.${stamp}.sqlite`));
  for (const suffix of ["", "-wal", "-shm"]) {
    const file = join(dataDir, SQLITE_FILE_NAME + suffix);
    if (existsSync(file)) renameSync(file, archived + suffix);
  }
  return archived;
}
