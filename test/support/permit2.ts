import { PERMIT2_ADDRESS, uptoPermit2WitnessTypes } from "@x402/evm";
import {
  BaseError,
  ContractFunctionRevertedError,
  encodeAbiParameters,
  keccak256,
  maxUint256,
  toHex,
  type Account,
  type Address,
  type Chain,
  type Hash,
  type LocalAccount,
  type PublicClient,
  type Transport,
  type WalletClient,
} from "viem";
import { UPTO_WITNESS_TYPE_STRING } from "../../src/payment/permit2-digest.ts";
import type { UptoAuthorization } from "../../src/payment/permit2-payload.ts";
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

/**
 * The upto front-run: the payer signs a second Permit2 witness transfer with its payment's nonce,
 * naming itself as spender and recipient, and spends it straight at Permit2 for 1 unit, so the
 * gateway's settlement can no longer use the nonce. Returns the mined transaction.
 */
export async function spendPermit2NonceElsewhere(options: {
  payer: LocalAccount;
  authorization: UptoAuthorization;
  wallet: WalletClient<Transport, Chain, Account>;
  publicClient: PublicClient;
  chainId: number;
}): Promise<Hash> {
  const { payer, authorization: a } = options;
  const self = payer.address.toLowerCase() as Address;
  const own: UptoAuthorization = { ...a, spender: self, witness: { ...a.witness, to: self } };
  const signature = await payer.signTypedData({
    domain: { name: "Permit2", chainId: options.chainId, verifyingContract: PERMIT2_ADDRESS },
    types: uptoPermit2WitnessTypes,
    primaryType: "PermitWitnessTransferFrom",
    message: own,
  });
  const witnessHash = keccak256(
    encodeAbiParameters(
      [{ type: "bytes32" }, { type: "address" }, { type: "address" }, { type: "uint256" }],
      [keccak256(toHex("Witness(address to,address facilitator,uint256 validAfter)")), own.witness.to, own.witness.facilitator, own.witness.validAfter],
    ),
  );
  const hash = await options.wallet.writeContract({
    address: CANONICAL_PERMIT2,
    abi: permit2Abi,
    functionName: "permitWitnessTransferFrom",
    args: [
      { permitted: { token: a.permitted.token, amount: a.permitted.amount }, nonce: a.nonce, deadline: a.deadline },
      { to: payer.address, requestedAmount: 1n },
      payer.address,
      witnessHash,
      UPTO_WITNESS_TYPE_STRING,
      signature,
    ],
  });
  const receipt = await options.publicClient.waitForTransactionReceipt({ hash });
  if (receipt.status !== "success") throw new Error(`the front-run permit reverted (${hash})`);
  return hash;
}

/** The payer's one-time `approve(Permit2, max)` of the token (x402 upto, Phase 1 option A), mined. */
export async function approvePermit2(options: { wallet: WalletClient<Transport, Chain, Account>; publicClient: PublicClient; token: Address }): Promise<void> {
  const hash = await options.wallet.writeContract({ address: options.token, abi: devUsdcAbi, functionName: "approve", args: [CANONICAL_PERMIT2, maxUint256] });
  await options.publicClient.waitForTransactionReceipt({ hash });
}
