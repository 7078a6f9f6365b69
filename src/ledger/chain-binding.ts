/**
 * Which chain and token a ledger's money is on, recorded by the first gateway that opens it and
 * checked by every later one: a ledger never mixes two chains' payments (a row's payer, nonce and
 * transaction mean something on its own chain only, and settlement would retry them on another).
 */
import type { Kysely } from "kysely";
import { readHex, readNumber } from "./driver-values.ts";
import type { Database } from "./schema.ts";
import { lowerHex } from "./call-row.ts";

export interface ChainBinding {
  chainId: number;
  /**
   * Block 0's hash: what tells two devnets apart (both chain 84532, and a fresh one deploys the
   * token at the same address). Null on a public network, where the chain id names the chain.
   */
  genesisHash: `0x${string}` | null;
  /** The token paid in. */
  asset: `0x${string}`;
  /** A devnet the gateway spawned itself: gone once that gateway stopped. Not part of the chain's identity. */
  spawned: boolean;
}

export async function readChainBinding(db: Kysely<Database>): Promise<ChainBinding | undefined> {
  const row = await db.selectFrom("ledger_chain").select(["chain_id", "genesis_hash", "asset", "spawned"]).where("id", "=", 1).executeTakeFirst();
  if (row === undefined) return undefined;
  return {
    chainId: readNumber(row.chain_id, "ledger_chain.chain_id"),
    genesisHash: row.genesis_hash === null ? null : readHex(row.genesis_hash, "ledger_chain.genesis_hash"),
    asset: readHex(row.asset, "ledger_chain.asset"),
    spawned: readNumber(row.spawned, "ledger_chain.spawned") === 1,
  };
}

/**
 * Records `binding` unless the ledger is bound already, and returns what is recorded: `binding`,
 * or what a previous start (or another replica, first) recorded. The caller compares the two.
 */
export async function bindChain(db: Kysely<Database>, binding: ChainBinding, at: Date): Promise<ChainBinding> {
  await db
    .insertInto("ledger_chain")
    .values({
      id: 1,
      chain_id: binding.chainId,
      genesis_hash: binding.genesisHash === null ? null : lowerHex(binding.genesisHash),
      asset: lowerHex(binding.asset),
      spawned: binding.spawned ? 1 : 0,
      bound_at: at.getTime(),
    })
    // Two replicas starting at once: the first insert wins and the other reads it back.
    .onConflict((conflict) => conflict.column("id").doNothing())
    .execute();
  const stored = await readChainBinding(db);
  if (stored === undefined) throw new Error("ledger: ledger_chain has no row right after binding it");
  return stored;
}

/**
 * Whether a ledger bound to `stored` may record payments of `wanted`: the same chain id and
 * token, and the same genesis where both know it (a public network's binding does not).
 */
export function sameChain(stored: ChainBinding, wanted: ChainBinding): boolean {
  return (
    stored.chainId === wanted.chainId &&
    stored.asset.toLowerCase() === wanted.asset.toLowerCase() &&
    (stored.genesisHash === null || wanted.genesisHash === null || stored.genesisHash.toLowerCase() === wanted.genesisHash.toLowerCase())
  );
}

/** `chain 84532 (genesis 0x1234abcd…), token 0x…` */
export function describeBinding(binding: ChainBinding): string {
  const genesis = binding.genesisHash === null ? "" : ` (genesis ${binding.genesisHash.slice(0, 10)}…)`;
  return `chain ${binding.chainId}${genesis}, token ${binding.asset}`;
}
