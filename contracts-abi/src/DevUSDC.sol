// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";

/**
 * @title DevUSDC
 * @notice A devnet-only stand-in for Base Sepolia USDC: same ERC-20 name, EIP-712 domain
 * (name "USDC", version "2"), decimals, EIP-3009 surface and EIP-2612 `permit`, so x402 clients
 * and facilitators treat it exactly like the real token. Anyone holding MINTER_ROLE (the devnet
 * faucet) can mint.
 *
 * EIP-2612 is implemented here rather than inherited from OpenZeppelin's ERC20Permit because
 * ERC20Permit fixes the EIP-712 version to "1"; USDC signs permits and EIP-3009 authorizations
 * in one domain, version "2", and x402 clients sign the permit with the requirements'
 * extra.version (the eip2612GasSponsoring extension).
 *
 * Reverts use reason strings rather than custom errors on purpose: the x402 facilitator
 * classifies failed transfers by matching the revert text ("authorization is expired",
 * "invalid signature", ...), and it decodes with an ABI that knows no custom errors of ours.
 */
contract DevUSDC is ERC20, EIP712, AccessControl, IERC20Permit, Nonces {
    bytes32 public constant MINTER_ROLE = keccak256("MINTER_ROLE");

    // EIP-3009 type hashes, spelled exactly as in the EIP.
    bytes32 public constant TRANSFER_WITH_AUTHORIZATION_TYPEHASH =
        keccak256(
            "TransferWithAuthorization(address from,address to,uint256 value,uint256 validAfter,uint256 validBefore,bytes32 nonce)"
        );
    bytes32 public constant RECEIVE_WITH_AUTHORIZATION_TYPEHASH =
        keccak256(
            "ReceiveWithAuthorization(address from,address to,uint256 value,uint256 validAfter,uint256 validBefore,bytes32 nonce)"
        );
    bytes32 public constant CANCEL_AUTHORIZATION_TYPEHASH =
        keccak256("CancelAuthorization(address authorizer,bytes32 nonce)");
    // EIP-2612.
    bytes32 public constant PERMIT_TYPEHASH =
        keccak256("Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)");

    /// EIP-3009: a nonce is spent once, whether it was used or cancelled.
    mapping(address authorizer => mapping(bytes32 nonce => bool spent)) private _authorizationStates;

    event AuthorizationUsed(address indexed authorizer, bytes32 indexed nonce);
    event AuthorizationCanceled(address indexed authorizer, bytes32 indexed nonce);

    /// @param minter receives MINTER_ROLE; the deployer becomes the role admin.
    constructor(address minter) ERC20("USDC", "USDC") EIP712("USDC", "2") {
        _grantRole(DEFAULT_ADMIN_ROLE, msg.sender);
        _grantRole(MINTER_ROLE, minter);
    }

    function decimals() public pure override returns (uint8) {
        return 6;
    }

    /// @notice The EIP-712 domain version, read by x402 facilitators when a transfer fails.
    function version() external view returns (string memory) {
        return _EIP712Version();
    }

    /// @notice EIP-712 domain separator shared by EIP-2612 permits and EIP-3009 authorizations.
    // solhint-disable-next-line func-name-mixedcase
    function DOMAIN_SEPARATOR() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    /// @notice EIP-2612: the next permit nonce of `owner` (sequential, unlike EIP-3009's).
    function nonces(address owner) public view override(IERC20Permit, Nonces) returns (uint256) {
        return super.nonces(owner);
    }

    /**
     * @notice EIP-2612: sets `spender`'s allowance over `owner`'s tokens to `value`, signed by
     * `owner` (ECDSA, or ERC-1271 when `owner` is a contract, as USDC v2.2 accepts).
     */
    function permit(address owner, address spender, uint256 value, uint256 deadline, uint8 v, bytes32 r, bytes32 s)
        external
    {
        // EIP-2612: "the current blocktime is less than or equal to deadline".
        require(block.timestamp <= deadline, "DevUSDC: permit is expired");
        bytes32 structHash = keccak256(abi.encode(PERMIT_TYPEHASH, owner, spender, value, _useNonce(owner), deadline));
        _requireSignedBy(owner, structHash, _pack(v, r, s));
        _approve(owner, spender, value);
    }

    function mint(address to, uint256 amount) external onlyRole(MINTER_ROLE) {
        _mint(to, amount);
    }

    /// @notice True once `nonce` of `authorizer` has been used or cancelled.
    function authorizationState(address authorizer, bytes32 nonce) external view returns (bool) {
        return _authorizationStates[authorizer][nonce];
    }

    function transferWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external {
        _transferWithAuthorization(
            TRANSFER_WITH_AUTHORIZATION_TYPEHASH, from, to, value, validAfter, validBefore, nonce, _pack(v, r, s)
        );
    }

    function transferWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        bytes memory signature
    ) external {
        _transferWithAuthorization(
            TRANSFER_WITH_AUTHORIZATION_TYPEHASH, from, to, value, validAfter, validBefore, nonce, signature
        );
    }

    function receiveWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external {
        _receiveWithAuthorization(from, to, value, validAfter, validBefore, nonce, _pack(v, r, s));
    }

    function receiveWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        bytes memory signature
    ) external {
        _receiveWithAuthorization(from, to, value, validAfter, validBefore, nonce, signature);
    }

    function cancelAuthorization(address authorizer, bytes32 nonce, uint8 v, bytes32 r, bytes32 s) external {
        _cancelAuthorization(authorizer, nonce, _pack(v, r, s));
    }

    function cancelAuthorization(address authorizer, bytes32 nonce, bytes memory signature) external {
        _cancelAuthorization(authorizer, nonce, signature);
    }

    /// EIP-3009: receiveWithAuthorization exists to stop front-running of a deposit into a
    /// contract, so only the payee may submit it.
    function _receiveWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        bytes memory signature
    ) private {
        require(to == msg.sender, "DevUSDC: caller must be the payee");
        _transferWithAuthorization(
            RECEIVE_WITH_AUTHORIZATION_TYPEHASH, from, to, value, validAfter, validBefore, nonce, signature
        );
    }

    function _transferWithAuthorization(
        bytes32 typeHash,
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        bytes memory signature
    ) private {
        // Both bounds are exclusive, as in USDC's FiatTokenV2.
        require(block.timestamp > validAfter, "DevUSDC: authorization is not yet valid");
        require(block.timestamp < validBefore, "DevUSDC: authorization is expired");
        _requireUnspent(from, nonce);
        bytes32 structHash = keccak256(abi.encode(typeHash, from, to, value, validAfter, validBefore, nonce));
        _requireSignedBy(from, structHash, signature);
        // Checked here so the revert text names the cause (see the contract note).
        require(balanceOf(from) >= value, "DevUSDC: transfer amount exceeds balance");

        _authorizationStates[from][nonce] = true;
        emit AuthorizationUsed(from, nonce);
        _transfer(from, to, value);
    }

    function _cancelAuthorization(address authorizer, bytes32 nonce, bytes memory signature) private {
        _requireUnspent(authorizer, nonce);
        bytes32 structHash = keccak256(abi.encode(CANCEL_AUTHORIZATION_TYPEHASH, authorizer, nonce));
        _requireSignedBy(authorizer, structHash, signature);

        _authorizationStates[authorizer][nonce] = true;
        emit AuthorizationCanceled(authorizer, nonce);
    }

    function _requireUnspent(address authorizer, bytes32 nonce) private view {
        require(!_authorizationStates[authorizer][nonce], "DevUSDC: authorization is used or canceled");
    }

    /// ECDSA for EOAs, ERC-1271 `isValidSignature` when `signer` has code (smart wallets).
    function _requireSignedBy(address signer, bytes32 structHash, bytes memory signature) private view {
        require(
            SignatureChecker.isValidSignatureNow(signer, _hashTypedDataV4(structHash), signature),
            "DevUSDC: invalid signature"
        );
    }

    /// The 65-byte r ‖ s ‖ v layout that ECDSA.recover and ERC-1271 wallets expect.
    function _pack(uint8 v, bytes32 r, bytes32 s) private pure returns (bytes memory) {
        return abi.encodePacked(r, s, v);
    }
}
