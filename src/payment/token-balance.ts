import { createPublicClient, erc20Abi, http, type PublicClient } from "viem";

/** An ERC-20 balance read, for telling an agent how much it holds when its payment is refused. */
export type BalanceOf = (asset: `0x${string}`, owner: `0x${string}`) => Promise<bigint>;

/** Short timeout, no retries: it only decorates a refusal, which must not wait on a slow RPC. */
const BALANCE_TIMEOUT_MS = 2_000;

export function createBalanceReader(options: { rpcUrl: string }): BalanceOf {
  const client: PublicClient = createPublicClient({ transport: http(options.rpcUrl, { retryCount: 0, timeout: BALANCE_TIMEOUT_MS }) });
  return (asset, owner) => client.readContract({ address: asset, abi: erc20Abi, functionName: "balanceOf", args: [owner] });
}
