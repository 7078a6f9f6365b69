import { parseAbiItem, TransactionReceiptNotFoundError, type PublicClient } from "viem";

/** ERC-20 Transfer (EIP-20); EIP-3009's transferWithAuthorization emits it like any transfer. */
const TRANSFER_EVENT = parseAbiItem("event Transfer(address indexed from, address indexed to, uint256 value)");

/**
 * Public RPCs cap the block range of one eth_getLogs (2,000 to 10,000 blocks is common, some
 * less). Hardhat's node has no cap, so the devnet never shows the limit: keep chunking anyway.
 */
export const DEFAULT_LOG_CHUNK_BLOCKS = 2_000n;

/** One Transfer log of the token. */
export interface TokenTransfer {
  txHash: `0x${string}`;
  logIndex: number;
  blockNumber: bigint;
  from: `0x${string}`;
  to: `0x${string}`;
  /** Atomic units. */
  value: bigint;
}

export interface ReadTransfersToOptions {
  token: `0x${string}`;
  /** The recipient (payTo); filtered by the RPC through the indexed `to` topic. */
  to: `0x${string}`;
  fromBlock: bigint;
  /** Inclusive. */
  toBlock: bigint;
  chunkBlocks?: bigint;
}

/** Every Transfer of `token` to `to` in the block range, in chain order, read chunk by chunk. */
export async function readTransfersTo(client: PublicClient, options: ReadTransfersToOptions): Promise<TokenTransfer[]> {
  const chunk = options.chunkBlocks ?? DEFAULT_LOG_CHUNK_BLOCKS;
  if (chunk < 1n) throw new RangeError(`chunkBlocks must be at least 1, got ${chunk}`);
  const transfers: TokenTransfer[] = [];
  // Sequential on purpose: RPC providers rate-limit eth_getLogs harder than anything else.
  for (let start = options.fromBlock; start <= options.toBlock; start += chunk) {
    const end = start + chunk - 1n < options.toBlock ? start + chunk - 1n : options.toBlock;
    const logs = await client.getLogs({ address: options.token, event: TRANSFER_EVENT, args: { to: options.to }, fromBlock: start, toBlock: end, strict: true });
    for (const log of logs) {
      // Pending logs have no position yet; a range of mined blocks never returns them.
      if (log.transactionHash === null || log.logIndex === null || log.blockNumber === null) continue;
      transfers.push({
        txHash: log.transactionHash,
        logIndex: log.logIndex,
        blockNumber: log.blockNumber,
        // Lowercase, as the ledger stores addresses: EIP-55 case is only a checksum.
        from: log.args.from.toLowerCase() as `0x${string}`,
        to: log.args.to.toLowerCase() as `0x${string}`,
        value: log.args.value,
      });
    }
  }
  return transfers;
}

/** The block a transaction was mined in, or undefined when the chain does not know it. */
export async function transactionBlock(client: PublicClient, hash: `0x${string}`): Promise<bigint | undefined> {
  try {
    return (await client.getTransactionReceipt({ hash })).blockNumber;
  } catch (error) {
    if (error instanceof TransactionReceiptNotFoundError) return undefined;
    throw error;
  }
}
