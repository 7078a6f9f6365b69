/**
 * The devnet's accounts: hardhat's well-known default accounts, derived from its public test
 * mnemonic, each with a fixed role. Never fund these on a real network: their keys are public.
 */
import { toHex, type Hex } from "viem";
import { mnemonicToAccount, type HDAccount } from "viem/accounts";

/** Hardhat's default mnemonic (BIP-39); `hardhat node` funds its first accounts with 10,000 ETH. */
export const DEVNET_MNEMONIC = "test test test test test test test test test test test junk";

/** How many accounts the devnet node funds (hardhat's default count). */
export const DEVNET_ACCOUNT_COUNT = 20;

/** Which address index (m/44'/60'/0'/0/i) plays which devnet role. */
export const DEVNET_ACCOUNTS = {
  /** Deploys DevUSDC, is its role admin, and holds MINTER_ROLE: the faucet mints with it. */
  deployer: 0,
  /** The in-process facilitator's signer: submits settlements and pays their gas. */
  facilitator: 1,
  /** The gateway's receiving address (the x402 `payTo`). */
  payTo: 2,
  /** The example agent, funded with 1000 USDC when the devnet starts. */
  demoAgent: 3,
  /** Indices from here to DEVNET_ACCOUNT_COUNT - 1 are free for tests (see devnetTestAccount). */
  firstFree: 4,
} as const;

export type DevnetRole = Exclude<keyof typeof DEVNET_ACCOUNTS, "firstFree">;

/** One account per role. */
export type DevnetAccounts = { readonly [R in DevnetRole]: HDAccount };

const derived = new Map<number, HDAccount>();

/**
 * The hardhat default account at `index`. Derivation runs BIP-39's 2048-round PBKDF2 in pure JS
 * (about 60 ms), so each account is derived once per process, on first use.
 */
export function devnetAccount(index: number): HDAccount {
  if (!Number.isInteger(index) || index < 0 || index >= DEVNET_ACCOUNT_COUNT) {
    throw new RangeError(`devnet account index must be an integer in [0, ${DEVNET_ACCOUNT_COUNT}), got ${index}`);
  }
  let account = derived.get(index);
  if (account === undefined) {
    account = mnemonicToAccount(DEVNET_MNEMONIC, { addressIndex: index });
    derived.set(index, account);
  }
  return account;
}

/** The n-th account reserved for tests (index DEVNET_ACCOUNTS.firstFree + n). */
export function devnetTestAccount(n: number): HDAccount {
  return devnetAccount(DEVNET_ACCOUNTS.firstFree + n);
}

/** The role accounts, derived on first access of each. */
export function devnetAccounts(): DevnetAccounts {
  return {
    get deployer() {
      return devnetAccount(DEVNET_ACCOUNTS.deployer);
    },
    get facilitator() {
      return devnetAccount(DEVNET_ACCOUNTS.facilitator);
    },
    get payTo() {
      return devnetAccount(DEVNET_ACCOUNTS.payTo);
    },
    get demoAgent() {
      return devnetAccount(DEVNET_ACCOUNTS.demoAgent);
    },
  };
}

/** The raw private key, for the few places that need one (GET /dev/info's demo agent). */
export function devnetPrivateKey(account: HDAccount): Hex {
  const key = account.getHdKey().privateKey;
  if (key === null) throw new Error(`account ${account.address} has no private key`);
  return toHex(key);
}
