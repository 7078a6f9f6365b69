// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";

/**
 * @title Permit2 (devnet subset)
 * @notice The SignatureTransfer half of Uniswap's Permit2, as far as the x402 `upto` scheme uses
 * it (x402 specs/schemes/upto/scheme_upto_evm.md): `permitWitnessTransferFrom`, the unordered
 * nonce bitmap (`nonceBitmap`, `invalidateUnorderedNonces`) and `DOMAIN_SEPARATOR()`. Function
 * signatures, EIP-712 types, error selectors and the order of checks follow Permit2's
 * ISignatureTransfer, so signatures made for the canonical contract verify here unchanged.
 *
 * Devnet-only. The devnet places this runtime code at Permit2's canonical address
 * 0x000000000022D473030F116dDEE9F6B43aC78BA3 with hardhat_setCode, where the x402 EVM package
 * expects it.
 * No constructor runs there, so nothing may live in immutables: the canonical Permit2 caches its
 * domain separator at deployment, this one computes it on every call from block.chainid and
 * address(this), which gives the same value on a chain that never forks.
 *
 * Left out: AllowanceTransfer (approve/permit/transferFrom with expiring allowances), the
 * batch and non-witness SignatureTransfer variants, and lockdown. Nothing in the x402 EVM
 * package's upto client, proxy or facilitator calls them.
 */
contract Permit2 {
    using SafeERC20 for IERC20;

    struct TokenPermissions {
        address token;
        uint256 amount;
    }

    struct PermitTransferFrom {
        TokenPermissions permitted;
        uint256 nonce;
        uint256 deadline;
    }

    struct SignatureTransferDetails {
        address to;
        uint256 requestedAmount;
    }

    // Permit2's errors, same names and arguments, so their selectors match the canonical contract's.
    error SignatureExpired(uint256 signatureDeadline);
    error InvalidAmount(uint256 maxAmount);
    error InvalidNonce();
    error InvalidSignature();
    error InvalidSigner();
    error InvalidSignatureLength();
    error InvalidContractSignature();

    event UnorderedNonceInvalidation(address indexed owner, uint256 word, uint256 mask);

    /// Permit2's domain has no version (EIP-712 allows omitting any domain field).
    bytes32 private constant _DOMAIN_TYPEHASH = keccak256("EIP712Domain(string name,uint256 chainId,address verifyingContract)");
    bytes32 private constant _HASHED_NAME = keccak256("Permit2");

    bytes32 private constant _TOKEN_PERMISSIONS_TYPEHASH = keccak256("TokenPermissions(address token,uint256 amount)");

    /// The witness transfer's type string is this stub followed by the caller's witnessTypeString
    /// ("<Type> witness)<referenced types, alphabetical>"), as EIP-712 encodeType requires.
    string private constant _PERMIT_TRANSFER_FROM_WITNESS_TYPEHASH_STUB =
        "PermitWitnessTransferFrom(TokenPermissions permitted,address spender,uint256 nonce,uint256 deadline,";

    /// Unordered nonces: bit (nonce & 0xff) of word (nonce >> 8) is set once the nonce is spent.
    mapping(address owner => mapping(uint256 word => uint256 bitmap)) public nonceBitmap;

    // solhint-disable-next-line func-name-mixedcase
    function DOMAIN_SEPARATOR() public view returns (bytes32) {
        return keccak256(abi.encode(_DOMAIN_TYPEHASH, _HASHED_NAME, block.chainid, address(this)));
    }

    /**
     * @notice Transfers `transferDetails.requestedAmount` (at most the permitted amount) of
     * `permit.permitted.token` from `owner` to `transferDetails.to`, if `owner` signed the permit
     * with `msg.sender` as spender and `witness` as the extra struct. Spends `permit.nonce`.
     */
    function permitWitnessTransferFrom(
        PermitTransferFrom calldata permit,
        SignatureTransferDetails calldata transferDetails,
        address owner,
        bytes32 witness,
        string calldata witnessTypeString,
        bytes calldata signature
    ) external {
        // Same order as Permit2's _permitTransferFrom: time, amount, nonce, signature, transfer.
        if (block.timestamp > permit.deadline) revert SignatureExpired(permit.deadline);
        if (transferDetails.requestedAmount > permit.permitted.amount) revert InvalidAmount(permit.permitted.amount);
        _useUnorderedNonce(owner, permit.nonce);

        bytes32 typeHash = keccak256(abi.encodePacked(_PERMIT_TRANSFER_FROM_WITNESS_TYPEHASH_STUB, witnessTypeString));
        bytes32 structHash = keccak256(
            abi.encode(
                typeHash,
                keccak256(abi.encode(_TOKEN_PERMISSIONS_TYPEHASH, permit.permitted)),
                msg.sender,
                permit.nonce,
                permit.deadline,
                witness
            )
        );
        _verify(signature, MessageHashUtils.toTypedDataHash(DOMAIN_SEPARATOR(), structHash), owner);

        IERC20(permit.permitted.token).safeTransferFrom(owner, transferDetails.to, transferDetails.requestedAmount);
    }

    /// @notice Marks every nonce whose bit is set in `mask` in word `wordPos` as spent: how a
    /// payer withdraws a signed but unsettled permit.
    function invalidateUnorderedNonces(uint256 wordPos, uint256 mask) external {
        nonceBitmap[msg.sender][wordPos] |= mask;
        emit UnorderedNonceInvalidation(msg.sender, wordPos, mask);
    }

    function _useUnorderedNonce(address from, uint256 nonce) private {
        uint256 bit = 1 << uint8(nonce);
        uint256 flipped = nonceBitmap[from][nonce >> 8] ^= bit;
        if (flipped & bit == 0) revert InvalidNonce();
    }

    /// EOAs: a 65-byte r ‖ s ‖ v or a 64-byte EIP-2098 r ‖ vs signature. Contracts: ERC-1271.
    function _verify(bytes calldata signature, bytes32 digest, address claimedSigner) private view {
        if (claimedSigner.code.length > 0) {
            bytes4 magic = IERC1271(claimedSigner).isValidSignature(digest, signature);
            if (magic != IERC1271.isValidSignature.selector) revert InvalidContractSignature();
            return;
        }
        address signer;
        ECDSA.RecoverError err;
        if (signature.length == 65) {
            (signer, err, ) = ECDSA.tryRecoverCalldata(digest, signature);
        } else if (signature.length == 64) {
            (signer, err, ) = ECDSA.tryRecover(digest, bytes32(signature[0:32]), bytes32(signature[32:64]));
        } else {
            revert InvalidSignatureLength();
        }
        // OpenZeppelin's recovery also refuses high-s signatures, which the canonical Permit2
        // accepts; viem and every wallet sign with low s, so no client sees the difference.
        if (err != ECDSA.RecoverError.NoError || signer == address(0)) revert InvalidSignature();
        if (signer != claimedSigner) revert InvalidSigner();
    }
}
