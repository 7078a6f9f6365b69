import { x402UptoPermit2ProxyABI } from "@x402/evm";
import { createPublicClient, decodeFunctionData, http, parseAbi, TransactionNotFoundError, TransactionReceiptNotFoundError, type PublicClient } from "viem";
import { provePayment, type ExpectedPayment, type PaymentProof } from "./payment-proof.ts";
import { permit2NoncePosition } from "./permit2-nonce.ts";
import { UPTO_PERMIT2_ADDRESS, UPTO_PROXY_ADDRESS } from "./permit2-verify.ts";
import { proveUptoPayment, type ExpectedUptoPayment } from "./upto-payment-proof.ts";

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

/**
 * Permit2 (SignatureTransfer) spends unordered nonces without an event of its own; only
 * `invalidateUnorderedNonces` logs one. The token's Transfer is the trace a settlement leaves.
 */
const PERMIT2_ABI = parseAbi([
  "function nonceBitmap(address owner, uint256 word) view returns (uint256)",
  "event UnorderedNonceInvalidation(address indexed owner, uint256 word, uint256 mask)",
]);
const TRANSFER_EVENT = parseAbi(["event Transfer(address indexed from, address indexed to, uint256 value)"])[0];

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
  /** Whether Permit2 has spent `nonce` of `owner`: by a settlement, by any other permit, or by invalidation. */
  permit2NonceUsed(owner: `0x${string}`, nonce: bigint): Promise<boolean>;
  /**
   * The upto counterpart of authorizationFate, for the uncertain path (a settle whose answer was
   * lost): `transferred` names the proxy settlement of this (payer, nonce) that paid payTo (judge
   * it with uptoPaymentProof); `cancelled`, the payer invalidated the nonce; `used_unknown`, the
   * nonce was spent some other way (the payer's own permit with the same nonce, which leaves no
   * trace naming it) or before the blocks searched.
   */
  permit2NonceFate(expected: { asset: `0x${string}`; payer: `0x${string}`; payTo: `0x${string}`; nonce: bigint }): Promise<AuthorizationFate>;
  /** What `transaction` proves about the expected upto payment (upto-payment-proof.ts); `unknown` when not mined. */
  uptoPaymentProof(transaction: `0x${string}`, expected: ExpectedUptoPayment): Promise<PaymentProof | { state: "unknown"; transaction: `0x${string}` }>;
}

/** How far back to look for the events; Base makes a block every 2 s, so this is about 11 hours. */
const LOG_LOOKBACK_BLOCKS = 20_000n;

export function createChainReader(options: { rpcUrl: string }): ChainReader {
  // No retries: a loopback or flaky RPC failure should surface to the settlement loop, which retries.
  const client: PublicClient = createPublicClient({ transport: http(options.rpcUrl, { retryCount: 0, timeout: 10_000 }) });
  async function permit2NonceUsed(owner: `0x${string}`, nonce: bigint): Promise<boolean> {
    const { word, bit } = permit2NoncePosition(nonce);
    const bitmap = await client.readContract({ address: UPTO_PERMIT2_ADDRESS, abi: PERMIT2_ABI, functionName: "nonceBitmap", args: [owner, word] });
    return ((bitmap >> bit) & 1n) === 1n;
  }

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

    permit2NonceUsed,

    async permit2NonceFate({ asset, payer, payTo, nonce }) {
      if (!(await permit2NonceUsed(payer, nonce))) return { state: "unused" };
      const latest = await client.getBlockNumber({ cacheTime: 0 });
      const fromBlock = latest > LOG_LOOKBACK_BLOCKS ? latest - LOG_LOOKBACK_BLOCKS : 0n;
      const [transfers, invalidations] = await Promise.all([
        client.getLogs({ address: asset, event: TRANSFER_EVENT, args: { from: payer, to: payTo }, fromBlock, toBlock: "latest" }),
        client.getLogs({ address: UPTO_PERMIT2_ADDRESS, event: PERMIT2_ABI[1], args: { owner: payer }, fromBlock, toBlock: "latest" }),
      ]);
      // Each payer->payTo transfer is a candidate; the proxy call that names this nonce is the one.
      // Newest first: a payer's settlements to this gateway are few within the lookback.
      const hashes = [...new Set(transfers.map((log) => log.transactionHash).filter((hash) => hash !== null))].reverse();
      for (const hash of hashes) {
        const transaction = await client.getTransaction({ hash });
        if (transaction.to === null || transaction.to.toLowerCase() !== UPTO_PROXY_ADDRESS) continue;
        if (settledNonce(transaction.input, payer) === nonce) return { state: "transferred", transaction: hash };
      }
      const { word, bit } = permit2NoncePosition(nonce);
      if (invalidations.some((log) => log.args.word === word && log.args.mask !== undefined && ((log.args.mask >> bit) & 1n) === 1n)) {
        return { state: "cancelled" };
      }
      return { state: "used_unknown" };
    },

    async uptoPaymentProof(transaction, expected) {
      let receipt;
      let sent;
      try {
        [receipt, sent] = await Promise.all([client.getTransactionReceipt({ hash: transaction }), client.getTransaction({ hash: transaction })]);
      } catch (error) {
        if (error instanceof TransactionReceiptNotFoundError || error instanceof TransactionNotFoundError) return { state: "unknown", transaction };
        throw error;
      }
      return proveUptoPayment(receipt, sent, expected);
    },
  };
}

/** The Permit2 nonce a proxy settle call of `owner` spends, or undefined when the calldata is not one. */
function settledNonce(input: `0x${string}`, owner: `0x${string}`): bigint | undefined {
  try {
    const call = decodeFunctionData({ abi: x402UptoPermit2ProxyABI, data: input });
    if (call.functionName === "settle" && call.args[2].toLowerCase() === owner.toLowerCase()) return call.args[0].nonce;
    if (call.functionName === "settleWithPermit" && call.args[3].toLowerCase() === owner.toLowerCase()) return call.args[1].nonce;
  } catch {
    // Not the proxy's calldata: not a settlement.
  }
  return undefined;
}
