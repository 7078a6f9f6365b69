/**
 * The zero-config chain: a hardhat node on loopback with chain id 84532, DevUSDC deployed,
 * Multicall3, Permit2 and the x402 upto proxy at their canonical addresses, and the demo agent
 * funded. Tests start one per file.
 */
import {
  createPublicClient,
  createTestClient,
  createWalletClient,
  defineChain,
  http,
  type Account,
  type Address,
  type Chain,
  type Hash,
  type HttpTransport,
  type PublicClient,
  type TestClient,
  type WalletClient,
} from "viem";
import { devnetAccounts, type DevnetAccounts } from "./accounts.ts";
import { CANONICAL_MULTICALL3, deployDevUsdc, installMulticall3, installPermit2Contracts, isUsableDevUsdc, mintUsdc } from "./contracts.ts";
import { DEVNET_CHAIN_ID, startHardhatNode } from "./hardhat.ts";

/** 1000 USDC in atomic units (6 decimals). */
export const DEMO_AGENT_FUNDING = 1_000_000_000n;

/** Local chain: receipts exist as soon as the send returns (automine), so poll tightly. */
const POLLING_INTERVAL_MS = 10;

export interface StartDevChainOptions {
  /** Loopback port for the node; a free one when omitted. */
  port?: number;
  /**
   * Use this already-running hardhat node (chainId 84532, hardhat's default accounts) instead of
   * spawning one, as docker-compose's separate chain service does. stop() then leaves it running.
   */
  rpcUrl?: string;
  /** Receives hardhat's output, line by line. */
  logger?: (line: string) => void;
  /**
   * The DevUSDC an earlier start deployed on this chain (an attached node outlives the gateway):
   * reused, and not funded again, when the node's genesis block is `genesisHash` and the token is
   * still there; otherwise a new one is deployed.
   */
  token?: { address: Address; genesisHash: Hash };
}

export interface DevChain {
  rpcUrl: string;
  chainId: typeof DEVNET_CHAIN_ID;
  /** viem chain for 84532 whose RPC is this node. */
  chain: Chain;
  /** DevUSDC: EIP-712 domain {name: "USDC", version: "2", chainId: 84532, verifyingContract: token}. */
  token: Address;
  /** Whether `token` is the one `options.token` named, found still in place, rather than deployed now. */
  tokenReused: boolean;
  /** Block 0's hash: tells this chain from another devnet with the same chain id. */
  genesisHash: Hash;
  accounts: DevnetAccounts;
  publicClient: PublicClient<HttpTransport, Chain>;
  /** hardhat_* / evm_* methods: time travel, snapshots, setCode. */
  testClient: TestClient<"hardhat", HttpTransport, Chain>;
  walletClientFor(account: Account): WalletClient<HttpTransport, Chain, Account>;
  /** The hardhat node's process id (0 when attached to a node started elsewhere). */
  pid: number;
  stop(): Promise<void>;
}

/** The chain has the remembered genesis but not the token deployed on it: another chain, started in the same second. */
export class DevnetTokenMissingError extends Error {
  override readonly name = "DevnetTokenMissingError";
  constructor(
    readonly token: Address,
    readonly genesisHash: Hash,
  ) {
    super(`no DevUSDC at ${token} on this chain (genesis ${genesisHash}): not the chain it was deployed on`);
  }
}

export async function startDevChain(options: StartDevChainOptions = {}): Promise<DevChain> {
  const node =
    options.rpcUrl === undefined
      ? await startHardhatNode({ ...options, chainId: DEVNET_CHAIN_ID })
      : { rpcUrl: options.rpcUrl, pid: 0, stop: async () => {} };
  try {
    const chain = devnetChain(node.rpcUrl);
    // Hardhat reports a revert as JSON-RPC error -32603, which viem retries three times with
    // backoff (about 1 s) by default. On loopback a failure is never transient.
    const transport = http(node.rpcUrl, { retryCount: 0 });
    const publicClient = createPublicClient({ chain, transport, pollingInterval: POLLING_INTERVAL_MS });
    const testClient = createTestClient({ chain, transport, mode: "hardhat", pollingInterval: POLLING_INTERVAL_MS });
    // One client per account: viem learns per client which RPC methods the node lacks.
    const walletClients = new WeakMap<Account, WalletClient<HttpTransport, Chain, Account>>();
    const walletClientFor = (account: Account): WalletClient<HttpTransport, Chain, Account> => {
      let client = walletClients.get(account);
      if (client === undefined) {
        client = createWalletClient({ account, chain, transport, pollingInterval: POLLING_INTERVAL_MS });
        walletClients.set(account, client);
      }
      return client;
    };

    const accounts = devnetAccounts();
    const deployer = walletClientFor(accounts.deployer);
    const genesisHash = (await publicClient.getBlock({ blockNumber: 0n })).hash;
    const known = options.token;
    const sameGenesis = known !== undefined && known.genesisHash.toLowerCase() === genesisHash.toLowerCase();
    const tokenReused = sameGenesis && (await isUsableDevUsdc(publicClient, known.address, accounts.deployer.address));
    // Genesis names a hardhat chain only to the second (its timestamp): a chain started in the
    // same second as the token's has the same one. Deploying here would put a new token at the
    // very address of the old one (same deployer, same nonce) and pass it off as the same.
    if (sameGenesis && !tokenReused) throw new DevnetTokenMissingError(known.address, genesisHash);
    // setCode is idempotent: the canonical contracts are placed on every start.
    const [token] = await Promise.all([
      tokenReused ? known.address : deployDevUsdc({ walletClient: deployer, publicClient, minter: accounts.deployer.address }),
      installMulticall3(testClient),
      installPermit2Contracts(testClient),
    ]);
    if (!tokenReused) {
      await mintUsdc({
        walletClient: deployer,
        publicClient,
        token,
        to: accounts.demoAgent.address,
        amount: DEMO_AGENT_FUNDING,
      });
    }

    return {
      rpcUrl: node.rpcUrl,
      chainId: DEVNET_CHAIN_ID,
      chain,
      token,
      tokenReused,
      genesisHash,
      accounts,
      publicClient,
      testClient,
      walletClientFor,
      pid: node.pid,
      stop: node.stop,
    };
  } catch (error) {
    await node.stop();
    throw error;
  }
}

/**
 * Chain id 84532 like Base Sepolia, so v1 x402 agents (which know only the name "base-sepolia")
 * can pay it, but defined from scratch rather than spread from viem's baseSepolia: the node is
 * plain hardhat, not an OP-stack chain, and must not inherit OP formatters or L1 contracts.
 */
export function devnetChain(rpcUrl: string): Chain {
  return defineChain({
    id: DEVNET_CHAIN_ID,
    name: "Tollgate devnet (Base Sepolia id)",
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [rpcUrl] } },
    contracts: { multicall3: { address: CANONICAL_MULTICALL3, blockCreated: 0 } },
    testnet: true,
  });
}
