import { keccak256, toHex, type Hex } from "viem";
import type { UptoAuthorization } from "./permit2-payload.ts";

/**
 * The EIP-712 digest Permit2 checks in `permitWitnessTransferFrom` for an x402 upto payment, with
 * the domain separator and type hashes computed once (as authorization-digest.ts does for
 * EIP-3009, for the same reason: viem's hashTypedData re-derives the types on every call).
 *
 * - Domain: Permit2's, `EIP712Domain(string name,uint256 chainId,address verifyingContract)` with
 *   name "Permit2" and no version (Uniswap Permit2 `EIP712.sol`; @x402/evm's upto client signs
 *   `{name: "Permit2", chainId, verifyingContract: PERMIT2_ADDRESS}`).
 * - Type: Permit2's `PermitWitnessTransferFrom(TokenPermissions permitted,address spender,uint256
 *   nonce,uint256 deadline,` followed by the proxy's `WITNESS_TYPE_STRING` (x402UptoPermit2Proxy,
 *   scheme_upto_evm.md): `Witness witness)TokenPermissions(address token,uint256 amount)Witness(address
 *   to,address facilitator,uint256 validAfter)`.
 * - Struct: `keccak256(typeHash ‖ keccak256(tokenPermissionsTypeHash ‖ token ‖ amount) ‖ spender ‖
 *   nonce ‖ deadline ‖ witnessHash)`, where `witnessHash = keccak256(WITNESS_TYPEHASH ‖ to ‖
 *   facilitator ‖ validAfter)` is what the proxy passes to Permit2 (EIP-712 encodeData: a nested
 *   struct is encoded as its hashStruct). `spender` is whoever calls Permit2: the proxy.
 */
const DOMAIN_TYPE_HASH = keccak256(toHex("EIP712Domain(string name,uint256 chainId,address verifyingContract)"));
const TOKEN_PERMISSIONS_TYPE_HASH = keccak256(toHex("TokenPermissions(address token,uint256 amount)"));
const WITNESS_TYPE_HASH = keccak256(toHex("Witness(address to,address facilitator,uint256 validAfter)"));
/** The proxy's WITNESS_TYPE_STRING, which Permit2 appends to its own stub. */
export const UPTO_WITNESS_TYPE_STRING = "Witness witness)TokenPermissions(address token,uint256 amount)Witness(address to,address facilitator,uint256 validAfter)";
const PERMIT_TYPE_HASH = keccak256(
  toHex(`PermitWitnessTransferFrom(TokenPermissions permitted,address spender,uint256 nonce,uint256 deadline,${UPTO_WITNESS_TYPE_STRING}`),
);

export interface Permit2Domain {
  chainId: number;
  /** Permit2's address (canonical: 0x000000000022D473030F116dDEE9F6B43aC78BA3). */
  verifyingContract: `0x${string}`;
}

/** Fields arrive parsed (permit2-payload.ts): 20-byte addresses, integers below 2^256. */
export function permit2WitnessDigest(domain: Permit2Domain): (authorization: UptoAuthorization) => Hex {
  const separator = keccak256(
    `0x${DOMAIN_TYPE_HASH.slice(2)}${keccak256(toHex("Permit2")).slice(2)}${uintWord(BigInt(domain.chainId))}${addressWord(domain.verifyingContract)}`,
  ).slice(2);
  return function digest(auth) {
    const permitted = keccak256(`0x${TOKEN_PERMISSIONS_TYPE_HASH.slice(2)}${addressWord(auth.permitted.token)}${uintWord(auth.permitted.amount)}`);
    const witness = keccak256(
      `0x${WITNESS_TYPE_HASH.slice(2)}${addressWord(auth.witness.to)}${addressWord(auth.witness.facilitator)}${uintWord(auth.witness.validAfter)}`,
    );
    const struct = keccak256(
      `0x${PERMIT_TYPE_HASH.slice(2)}${permitted.slice(2)}${addressWord(auth.spender)}${uintWord(auth.nonce)}${uintWord(auth.deadline)}${witness.slice(2)}`,
    );
    return keccak256(`0x1901${separator}${struct.slice(2)}`);
  };
}

function addressWord(address: `0x${string}`): string {
  return address.slice(2).toLowerCase().padStart(64, "0");
}

function uintWord(value: bigint): string {
  return value.toString(16).padStart(64, "0");
}
