import { createPublicClient, http, parseAbi, TransactionReceiptNotFoundError, type PublicClient } from "viem";
import { provePayment, type ExpectedPayment, type PaymentProof } from "./payment-proof.ts";

/**
 * Read-only chain facts settlement needs to be idempotent and honest: whether an EIP-3009
 * authorization was used, by which transaction, and whether that transaction paid payTo
 * (payment/payment-proof.ts). EIP-3009 marks a nonce used both when it is transferred
 * (AuthorizationUsed) and when it is cancelled (AuthorizationCanceled), so the event tells the two
 * apart. Both events index (authorizer, nonce) in Circle's FiatToken and in the devnet token.
 */
const EIP3009_ABI = parseAbi([
  "function authorizationState(address authorizer, bytes32 nonce) view returns (bool)",
  "event AuthorizationUsed(address indexed authorizer, bytes32 indexed nonce)",
  "event AuthorizationCanceled(address indexed authorizer, bytes32 indexed nonce)",
]);

export type AuthorizationFate =
  | { state: "unused" }
  | { state: "transferred"; transaction: `0x${string}` }
  | { state: "cancelled" }
  /** Used, but the event is older than the blocks searched. */
  | { state: "used_unknown" };

export interface ChainReader {
  authorizationFate(asset: `0x${string}`, payer: `0x${string}`, nonce: `0x${string}`): Promise<AuthorizationFate>;
  /**
   * What `transaction` proves about the expected payment, from its receipt (one RPC read);
   * `unknown` when the chain has no receipt for it (not mined, or not mined yet).
   */
  paymentProof(transaction: `0x${string}`, expected: ExpectedPayment): Promise<PaymentProof | { state: "unknown"; transaction: `0x${string}` }>;
}

/** How far back to look for the events; Base makes a block every 2 s, so this is about 11 hours. */
const LOG_LOOKBACK_BLOCKS = 20_000n;

export function createChainReader(options: { rpcUrl: string }): ChainReader {
  // No retries: a loopback or flaky RPC failure should surface to the settlement loop, which retries.
  const client: PublicClient = createPublicClient({ transport: http(options.rpcUrl, { retryCount: 0, timeout: 10_000 }) });
  return {
    async authorizationFate(asset, payer, nonce) {
      const used = await client.readContract({ address: asset, abi: EIP3009_ABI, functionName: "authorizationState", args: [payer, nonce] });
      if (!used) return { state: "unused" };
      // cacheTime 0: viem caches the block number for seconds, which would hide a fresh event.
      const latest = await client.getBlockNumber({ cacheTime: 0 });
      const fromBlock = latest > LOG_LOOKBACK_BLOCKS ? latest - LOG_LOOKBACK_BLOCKS : 0n;
      const [transfers, cancels] = await Promise.all([
        client.getLogs({ address: asset, event: EIP3009_ABI[1], args: { authorizer: payer, nonce }, fromBlock, toBlock: "latest" }),
        client.getLogs({ address: asset, event: EIP3009_ABI[2], args: { authorizer: payer, nonce }, fromBlock, toBlock: "latest" }),
      ]);
      const transfer = transfers[0];
      if (transfer?.transactionHash) return { state: "transferred", transaction: transfer.transactionHash };
      if (cancels.length > 0) return { state: "cancelled" };
      return { state: "used_unknown" };
    },

    async paymentProof(transaction, expected) {
      let receipt;
      try {
        receipt = await client.getTransactionReceipt({ hash: transaction });
      } catch (error) {
        if (error instanceof TransactionReceiptNotFoundError) return { state: "unknown", transaction };
        throw error;
      }
      return provePayment(receipt, expected);
    },
  };
}
