/**
 * What this gateway accepts as payment: one network, one EIP-3009 token, one payTo address.
 * v1 clients only know network names, so each CAIP-2 id carries its v1 alias (x402 spec v1 §5).
 */

export interface PaymentTerms {
  /** CAIP-2 id, e.g. eip155:84532. */
  network: `eip155:${number}`;
  chainId: number;
  /** The v1 name of the same network ("base-sepolia"), or undefined when v1 has none. */
  v1Network: string | undefined;
  asset: `0x${string}`;
  /** EIP-712 domain of the token; the client signs with these (x402 exact scheme `extra`). */
  assetName: string;
  assetVersion: string;
  payTo: `0x${string}`;
  maxTimeoutSeconds: number;
  /**
   * Set when the facilitator's /supported lists x402 v2 `upto` for this network: the address it
   * settles from (`extra.facilitatorAddress`), which the payer's Permit2 witness must name. The
   * 402 then offers `upto` before `exact` (DESIGN.md "Schemes and the paid lifecycle").
   */
  upto?: { facilitatorAddress: `0x${string}`; /** The facilitator takes an EIP-2612 permit instead of a Permit2 approval. */ gasSponsoring: boolean } | undefined;
}

/** The upto entry of a facilitator's /supported for `network`, if it lists one with its address. */
export function uptoSupport(
  supported: { kinds: ReadonlyArray<{ x402Version: number; scheme: string; network: string; extra?: Record<string, unknown> | undefined }>; extensions?: readonly string[] | undefined },
  network: string,
): PaymentTerms["upto"] {
  const kind = supported.kinds.find((k) => k.x402Version === 2 && k.scheme === "upto" && k.network === network);
  const address = kind?.extra?.["facilitatorAddress"];
  if (typeof address !== "string" || !/^0x[0-9a-fA-F]{40}$/.test(address)) return undefined;
  return { facilitatorAddress: address.toLowerCase() as `0x${string}`, gasSponsoring: supported.extensions?.includes(EIP2612_GAS_SPONSORING) ?? false };
}

/** The x402 extension key of EIP-2612 gas sponsoring (x402 specs/extensions). */
export const EIP2612_GAS_SPONSORING = "eip2612GasSponsoring";

const V1_NAMES: Record<number, string> = {
  8453: "base",
  84532: "base-sepolia",
  43114: "avalanche",
  43113: "avalanche-fuji",
  137: "polygon",
  80002: "polygon-amoy",
};

/** Circle USDC deployments with their EIP-712 domain (name differs between networks, x402 issue #837). */
const DEFAULT_USDC: Record<number, { address: `0x${string}`; name: string; version: string }> = {
  84532: { address: "0x036CbD53842c5426634e7929541eC2318f3dCF7e", name: "USDC", version: "2" },
  8453: { address: "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913", name: "USD Coin", version: "2" },
};

export function chainIdOf(network: `eip155:${number}`): number {
  return Number(network.slice("eip155:".length));
}

export function v1NetworkName(chainId: number): string | undefined {
  return V1_NAMES[chainId];
}

export function defaultUsdc(chainId: number): { address: `0x${string}`; name: string; version: string } | undefined {
  return DEFAULT_USDC[chainId];
}
