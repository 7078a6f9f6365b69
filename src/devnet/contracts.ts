/**
 * Puts the devnet's contracts on chain: DevUSDC (deployed); Multicall3, Permit2 and the x402
 * upto proxy (runtime code placed at their canonical addresses); and mints DevUSDC. Every
 * function waits for its receipt, so the state it created is readable when it returns.
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
import {
  devUsdcAbi,
  devUsdcBytecode,
  multicall3DeployedBytecode,
  permit2DeployedBytecode,
  x402UptoPermit2ProxyDeployedBytecode,
} from "../../contracts-abi/abi.ts";

/** Where Multicall3 lives on every public chain, and where viem and the x402 facilitator call it. */
export const CANONICAL_MULTICALL3: Address = "0xcA11bde05977b3631167028862bE2a173976CA11";

/** Uniswap's Permit2, the same address on every chain; @x402/evm hard-codes it (PERMIT2_ADDRESS). */
export const CANONICAL_PERMIT2: Address = "0x000000000022D473030F116dDEE9F6B43aC78BA3";

/**
 * The x402 upto settlement proxy (scheme_upto_evm.md: one CREATE2 address on every chain);
 * @x402/evm hard-codes it (x402UptoPermit2ProxyAddress) as the spender of every upto permit.
 */
export const CANONICAL_X402_UPTO_PERMIT2_PROXY: Address = "0x4020A4f3b7b90ccA423B9fabCc0CE57C6C240002";

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
 * Whether `token` is a DevUSDC this devnet can keep using: code at the address, the EIP-712 name
 * clients sign for, and `minter` still holding MINTER_ROLE (the faucet mints with it).
 */
export async function isUsableDevUsdc(publicClient: PublicClient<Transport, Chain>, token: Address, minter: Address): Promise<boolean> {
  const code = await getCode(publicClient, { address: token });
  if (code === undefined || code === "0x") return false;
  try {
    const [name, minterRole] = await Promise.all([
      publicClient.readContract({ address: token, abi: devUsdcAbi, functionName: "name" }),
      publicClient.readContract({ address: token, abi: devUsdcAbi, functionName: "MINTER_ROLE" }),
    ]);
    return name === DEV_USDC_DOMAIN.name && (await publicClient.readContract({ address: token, abi: devUsdcAbi, functionName: "hasRole", args: [minterRole, minter] }));
  } catch {
    // Some other contract at that address: it reverts on DevUSDC's functions.
    return false;
  }
}

/**
 * Places Multicall3's runtime code at the canonical address with `hardhat_setCode`: no deployer
 * nonce or CREATE2 factory can reproduce that address on a fresh chain.
 */
export async function installMulticall3(testClient: TestClient<"hardhat", Transport, Chain | undefined>): Promise<void> {
  await installRuntimeCode(testClient, "Multicall3", CANONICAL_MULTICALL3, multicall3DeployedBytecode);
}

/**
 * Places Permit2 (SignatureTransfer) and the x402 upto proxy at their canonical addresses, which
 * @x402/evm's upto client signs for and its facilitator calls. Neither keeps constructor state:
 * Permit2 computes its domain separator per call and the proxy names Permit2 in a constant.
 */
export async function installPermit2Contracts(testClient: TestClient<"hardhat", Transport, Chain | undefined>): Promise<void> {
  await Promise.all([
    installRuntimeCode(testClient, "Permit2", CANONICAL_PERMIT2, permit2DeployedBytecode),
    installRuntimeCode(testClient, "x402UptoPermit2Proxy", CANONICAL_X402_UPTO_PERMIT2_PROXY, x402UptoPermit2ProxyDeployedBytecode),
  ]);
}

async function installRuntimeCode(
  testClient: TestClient<"hardhat", Transport, Chain | undefined>,
  name: string,
  address: Address,
  bytecode: `0x${string}`,
): Promise<void> {
  await setCode(testClient, { address, bytecode });
  const installed = await getCode(testClient, { address });
  if (installed?.toLowerCase() !== bytecode.toLowerCase()) {
    throw new Error(`hardhat_setCode did not install ${name} at ${address}`);
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
