/**
 * Puts the devnet's contracts on chain: DevUSDC (deployed) and Multicall3 (runtime code placed
 * at its canonical address), and mints DevUSDC. Every function waits for its receipt, so the
 * state it created is readable when it returns.
 */
import type {
  Account,
  Address,
  Chain,
  Hash,
  PublicClient,
  TestClient,
  TransactionReceipt,
  Transport,
  WalletClient,
} from "viem";
import { getCode, setCode } from "viem/actions";
import { devUsdcAbi, devUsdcBytecode, multicall3DeployedBytecode } from "../../contracts-abi/abi.ts";

/** Where Multicall3 lives on every public chain, and where viem and the x402 facilitator call it. */
export const CANONICAL_MULTICALL3: Address = "0xcA11bde05977b3631167028862bE2a173976CA11";

/** A transaction the devnet setup sent was mined but reverted. */
export class DevnetTransactionError extends Error {
  override readonly name = "DevnetTransactionError";
  constructor(
    readonly action: string,
    readonly receipt: TransactionReceipt,
  ) {
    super(`${action} reverted in transaction ${receipt.transactionHash}`);
  }
}

/**
 * DevUSDC's EIP-712 domain name and version, as its constructor sets them
 * (contracts-abi/src): the same as Base Sepolia's USDC, so clients sign for it unchanged.
 */
export const DEV_USDC_DOMAIN = Object.freeze({ name: "USDC", version: "2" });

export interface DeployDevUsdcParameters {
  /** Sends the deployment; its account becomes the token's role admin. */
  walletClient: WalletClient<Transport, Chain, Account>;
  publicClient: PublicClient<Transport, Chain>;
  /** Receives MINTER_ROLE (the faucet's account). */
  minter: Address;
}

export async function deployDevUsdc({ walletClient, publicClient, minter }: DeployDevUsdcParameters): Promise<Address> {
  const hash = await walletClient.deployContract({ abi: devUsdcAbi, bytecode: devUsdcBytecode, args: [minter] });
  const receipt = await confirmed(publicClient, hash, "DevUSDC deployment");
  if (receipt.contractAddress == null) throw new DevnetTransactionError("DevUSDC deployment (no contract address)", receipt);
  return receipt.contractAddress;
}

/**
 * Places Multicall3's runtime code at the canonical address with `hardhat_setCode`: no deployer
 * nonce or CREATE2 factory can reproduce that address on a fresh chain.
 */
export async function installMulticall3(testClient: TestClient<"hardhat", Transport, Chain | undefined>): Promise<void> {
  await setCode(testClient, { address: CANONICAL_MULTICALL3, bytecode: multicall3DeployedBytecode });
  const installed = await getCode(testClient, { address: CANONICAL_MULTICALL3 });
  if (installed?.toLowerCase() !== multicall3DeployedBytecode.toLowerCase()) {
    throw new Error(`hardhat_setCode did not install Multicall3 at ${CANONICAL_MULTICALL3}`);
  }
}

export interface MintUsdcParameters {
  /** Must hold MINTER_ROLE on `token`. */
  walletClient: WalletClient<Transport, Chain, Account>;
  publicClient: PublicClient<Transport, Chain>;
  token: Address;
  to: Address;
  /** Atomic units (6 decimals): 1_000_000n is 1 USDC. */
  amount: bigint;
}

/** Mints and waits for the receipt; returns the transaction hash. */
export async function mintUsdc({ walletClient, publicClient, token, to, amount }: MintUsdcParameters): Promise<Hash> {
  const hash = await walletClient.writeContract({ address: token, abi: devUsdcAbi, functionName: "mint", args: [to, amount] });
  await confirmed(publicClient, hash, `mint of ${amount} to ${to}`);
  return hash;
}

async function confirmed(publicClient: PublicClient<Transport, Chain>, hash: Hash, action: string): Promise<TransactionReceipt> {
  const receipt = await publicClient.waitForTransactionReceipt({ hash });
  if (receipt.status !== "success") throw new DevnetTransactionError(action, receipt);
  return receipt;
}
