import { toHex } from "viem";

/**
 * Permit2's unordered nonces (Uniswap Permit2 `SignatureTransfer._useUnorderedNonce`): a nonce
 * is bit `nonce & 0xff` of the 256-bit word `nonceBitmap(owner, nonce >> 8)`, set when a
 * signature transfer or `invalidateUnorderedNonces` spends it.
 */
export function permit2NoncePosition(nonce: bigint): { word: bigint; bit: bigint } {
  return { word: nonce >> 8n, bit: nonce & 0xffn };
}

/**
 * The key under which the ledger's (payer, nonce) uniqueness holds an upto payment: the Permit2
 * nonce as a 0x-prefixed 32-byte big-endian hex, the same column EIP-3009 payments fill with
 * their bytes32 nonce. The encoding is the plain one, on purpose:
 *
 * - It is reversible: a row's key gives back the chain nonce, so `permit2NonceUsed` and the fate
 *   lookup (chain-reader.ts) need nothing but the row.
 * - Only the payer can make its two kinds of nonce collide, since both are signed by the payer
 *   and the key includes the payer. A collision is then harmless to the gateway: the later
 *   payment is refused as replayed before any call is served, and the earlier row keeps its own
 *   scheme, prover and fate check. Random nonces (both clients draw 256 random bits) collide
 *   with probability 2^-256.
 * - No other encoding could rule the collision out. EIP-3009 nonces are arbitrary bytes32, so a
 *   scheme prefix has no room, and a hash such as keccak256("permit2", nonce) only moves the
 *   collision to a value the payer can equally choose as its EIP-3009 nonce, while losing
 *   reversibility.
 *
 * What this demands of the ledger: record the scheme with each row, and never pick a chain check
 * or a payment proof by the nonce alone.
 */
export function permit2LedgerNonce(nonce: bigint): `0x${string}` {
  if (nonce < 0n || nonce >= 2n ** 256n) throw new RangeError(`a Permit2 nonce is a uint256, got ${nonce}`);
  return toHex(nonce, { size: 32 });
}

/** The inverse of permit2LedgerNonce: a ledger key back to the Permit2 nonce. */
export function permit2NonceOfLedgerKey(key: `0x${string}`): bigint {
  if (!/^0x[0-9a-fA-F]{64}$/.test(key)) throw new RangeError(`a ledger nonce is 32 bytes of hex, got ${key}`);
  return BigInt(key);
}
