import { BaseError, ContractFunctionRevertedError, type Address } from "viem";
import { devUsdcAbi, permit2Abi, x402UptoPermit2ProxyAbi } from "../../contracts-abi/abi.ts";
import type { DevChain } from "../../src/devnet/chain.ts";
import { CANONICAL_PERMIT2 } from "../../src/devnet/contracts.ts";

/** The upto proxy's ABI plus the errors that bubble up through it: Permit2's and the token's. */
export const uptoRevertAbi = [
  ...x402UptoPermit2ProxyAbi,
  ...permit2Abi.filter((item) => item.type === "error"),
  ...devUsdcAbi.filter((item) => item.type === "error"),
] as const;

/** The custom error a contract call reverted with, decoded with uptoRevertAbi: name and arguments. */
export async function revertOf(call: Promise<unknown>): Promise<{ errorName: string; args: readonly unknown[] }> {
  try {
    await call;
  } catch (error) {
    const reverted = error instanceof BaseError ? error.walk((e) => e instanceof ContractFunctionRevertedError) : null;
    if (reverted instanceof ContractFunctionRevertedError && reverted.data !== undefined) {
      return { errorName: reverted.data.errorName, args: reverted.data.args ?? [] };
    }
    throw error;
  }
  throw new Error("expected the call to revert");
}

/** Permit2 unordered nonces: bit (nonce & 0xff) of word (nonce >> 8) is set once spent. */
export async function permit2NonceSpent(dev: DevChain, owner: Address, nonce: bigint): Promise<boolean> {
  const word = await dev.publicClient.readContract({
    address: CANONICAL_PERMIT2,
    abi: permit2Abi,
    functionName: "nonceBitmap",
    args: [owner, nonce >> 8n],
  });
  return ((word >> (nonce & 0xffn)) & 1n) === 1n;
}
