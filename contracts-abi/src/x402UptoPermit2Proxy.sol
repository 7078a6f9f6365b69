// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {Permit2} from "./Permit2.sol";

/**
 * @title x402UptoPermit2Proxy (devnet)
 * @notice The settlement contract of the x402 `upto` scheme on EVM
 * (x402 specs/schemes/upto/scheme_upto_evm.md, "Phase 4: Settlement Logic"): the spender of
 * every upto Permit2 signature. The payer signs a maximum; the facilitator named in the witness
 * settles any amount from 1 up to it, and only to the witness's `to`.
 *
 * Devnet-only, written from the spec and the proxy ABI in version 2.27.0 of the x402 EVM
 * package (same functions, structs, events and error names, so the facilitator's calls,
 * simulations and error mapping behave as on Base Sepolia). The devnet places the runtime code at the canonical address
 * 0x4020A4f3b7b90ccA423B9fabCc0CE57C6C240002 with hardhat_setCode. No constructor runs there, so
 * PERMIT2 is a constant (the canonical Permit2 address, where the devnet places Permit2.sol)
 * instead of the canonical proxy's constructor-set immutable, and the reentrancy guard uses
 * EIP-1153 transient storage, which needs no initialisation either.
 */
contract x402UptoPermit2Proxy is ReentrancyGuardTransient {
    /// @notice Permit2 at its canonical address, the same on every chain (and on the devnet).
    Permit2 public constant PERMIT2 = Permit2(0x000000000022D473030F116dDEE9F6B43aC78BA3);

    /// The EIP-712 witness struct, bound into the payer's Permit2 signature.
    struct Witness {
        address to;
        address facilitator;
        uint256 validAfter;
    }

    /// EIP-2612 permit of Permit2 for the token, signed by the payer (eip2612GasSponsoring).
    struct EIP2612Permit {
        uint256 value;
        uint256 deadline;
        bytes32 r;
        bytes32 s;
        uint8 v;
    }

    bytes32 public constant WITNESS_TYPEHASH = keccak256("Witness(address to,address facilitator,uint256 validAfter)");

    /// Permit2's witnessTypeString: the witness field, then every referenced struct type in
    /// alphabetical order (EIP-712 encodeType), TokenPermissions before Witness.
    string public constant WITNESS_TYPE_STRING =
        "Witness witness)TokenPermissions(address token,uint256 amount)Witness(address to,address facilitator,uint256 validAfter)";

    event Settled();
    event SettledWithPermit();
    event EIP2612PermitFailedWithReason(address indexed token, address indexed owner, string reason);
    event EIP2612PermitFailedWithPanic(address indexed token, address indexed owner, uint256 errorCode);
    event EIP2612PermitFailedWithData(address indexed token, address indexed owner, bytes data);

    error AmountExceedsPermitted();
    error InvalidAmount();
    error InvalidDestination();
    error InvalidOwner();
    error PaymentTooEarly();
    error Permit2612AmountMismatch();
    error UnauthorizedFacilitator();

    /**
     * @notice Transfers `amount` (1 up to `permit.permitted.amount`) from `owner` to `witness.to`.
     * Callable only by `witness.facilitator`: the spec binds each authorization to the facilitator
     * that advertised itself in /supported, so nobody else can settle (or front-run) it.
     */
    function settle(
        Permit2.PermitTransferFrom calldata permit,
        uint256 amount,
        address owner,
        Witness calldata witness,
        bytes calldata signature
    ) external nonReentrant {
        _settle(permit, amount, owner, witness, signature);
        emit Settled();
    }

    /**
     * @notice Like settle, after submitting the payer's EIP-2612 permit that approves Permit2
     * (scheme_upto_evm.md, Phase 1 option C). A failing permit does not revert: the allowance may
     * already exist (the permit was front-run, or the payer approved meanwhile); if it does not,
     * Permit2's transfer reverts instead.
     */
    function settleWithPermit(
        EIP2612Permit calldata permit2612,
        Permit2.PermitTransferFrom calldata permit,
        uint256 amount,
        address owner,
        Witness calldata witness,
        bytes calldata signature
    ) external nonReentrant {
        if (permit2612.value != permit.permitted.amount) revert Permit2612AmountMismatch();
        _permitPermit2(permit.permitted.token, owner, permit2612);
        _settle(permit, amount, owner, witness, signature);
        emit SettledWithPermit();
    }

    function _settle(
        Permit2.PermitTransferFrom calldata permit,
        uint256 amount,
        address owner,
        Witness calldata witness,
        bytes calldata signature
    ) private {
        if (msg.sender != witness.facilitator) revert UnauthorizedFacilitator();
        if (amount > permit.permitted.amount) revert AmountExceedsPermitted();
        // A zero settlement needs no transaction (spec, "Zero Settlement"); refusing one here
        // keeps a nonce from being burnt for nothing.
        if (amount == 0) revert InvalidAmount();
        if (owner == address(0)) revert InvalidOwner();
        if (witness.to == address(0)) revert InvalidDestination();
        if (block.timestamp < witness.validAfter) revert PaymentTooEarly();

        bytes32 witnessHash = keccak256(abi.encode(WITNESS_TYPEHASH, witness.to, witness.facilitator, witness.validAfter));
        PERMIT2.permitWitnessTransferFrom(
            permit,
            Permit2.SignatureTransferDetails({to: witness.to, requestedAmount: amount}),
            owner,
            witnessHash,
            WITNESS_TYPE_STRING,
            signature
        );
    }

    function _permitPermit2(address token, address owner, EIP2612Permit calldata p) private {
        try IERC20Permit(token).permit(owner, address(PERMIT2), p.value, p.deadline, p.v, p.r, p.s) {
            // Permit2 may now pull up to p.value.
        } catch Error(string memory reason) {
            emit EIP2612PermitFailedWithReason(token, owner, reason);
        } catch Panic(uint256 errorCode) {
            emit EIP2612PermitFailedWithPanic(token, owner, errorCode);
        } catch (bytes memory data) {
            emit EIP2612PermitFailedWithData(token, owner, data);
        }
    }
}
