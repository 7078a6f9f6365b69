import { randomBytes } from "node:crypto";
import type { Account, Chain, LocalAccount, PublicClient, Transport, WalletClient } from "viem";
import { devUsdcAbi } from "../../contracts-abi/abi.ts";

/** EIP-3009 typed data as x402 clients sign it, written out here apart from src/ so tests check the gateway against the spec. */
export const TRANSFER_WITH_AUTHORIZATION_TYPES = {
  TransferWithAuthorization: [
    { name: "from", type: "address" },
    { name: "to", type: "address" },
    { name: "value", type: "uint256" },
    { name: "validAfter", type: "uint256" },
    { name: "validBefore", type: "uint256" },
    { name: "nonce", type: "bytes32" },
  ],
} as const;

/** Fields of an EIP-3009 TransferWithAuthorization, with test-friendly defaults. */
export interface AuthorizationFields {
  /** The payer the authorization names; the signing account unless a test forges another. */
  from?: `0x${string}`;
  to: `0x${string}`;
  value: bigint;
  validAfter?: bigint;
  validBefore?: bigint;
  nonce?: `0x${string}`;
}

export interface TokenDomain {
  asset: `0x${string}`;
  chainId: number;
  name?: string;
  version?: string;
}

/** Signs an authorization the way an x402 exact-scheme client does (EIP-712, EIP-3009 types). */
export async function signAuthorization(account: LocalAccount, domain: TokenDomain, fields: AuthorizationFields) {
  const now = BigInt(Math.floor(Date.now() / 1000));
  const authorization = {
    from: fields.from ?? account.address,
    to: fields.to,
    value: fields.value,
    validAfter: fields.validAfter ?? now - 600n,
    validBefore: fields.validBefore ?? now + 300n,
    nonce: fields.nonce ?? (`0x${randomBytes(32).toString("hex")}` as `0x${string}`),
  };
  const signature = await account.signTypedData({
    domain: { name: domain.name ?? "USDC", version: domain.version ?? "2", chainId: domain.chainId, verifyingContract: domain.asset },
    types: TRANSFER_WITH_AUTHORIZATION_TYPES,
    primaryType: "TransferWithAuthorization",
    message: authorization,
  });
  return {
    signature,
    authorization: {
      from: authorization.from,
      to: authorization.to,
      value: authorization.value.toString(),
      validAfter: authorization.validAfter.toString(),
      validBefore: authorization.validBefore.toString(),
      nonce: authorization.nonce,
    },
  };
}

export function base64Json(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString("base64");
}

/**
 * The front-run of issue 11: the payer signs a second authorization with the same nonce, to
 * itself for 1 unit, and `relayer` (anyone with gas: it needs no ETH of the payer) puts it on
 * chain first. Returns the mined transaction.
 */
export async function relayDecoy(options: {
  payer: LocalAccount;
  nonce: `0x${string}`;
  token: TokenDomain;
  relayer: WalletClient<Transport, Chain, Account>;
  publicClient: PublicClient;
}): Promise<`0x${string}`> {
  const decoy = await signAuthorization(options.payer, options.token, { to: options.payer.address, value: 1n, nonce: options.nonce });
  const a = decoy.authorization;
  const hash = await options.relayer.writeContract({
    address: options.token.asset,
    abi: devUsdcAbi,
    functionName: "transferWithAuthorization",
    args: [a.from, a.to, BigInt(a.value), BigInt(a.validAfter), BigInt(a.validBefore), options.nonce, decoy.signature],
  });
  const receipt = await options.publicClient.waitForTransactionReceipt({ hash });
  if (receipt.status !== "success") throw new Error(`the decoy authorization reverted (${hash})`);
  return hash;
}
