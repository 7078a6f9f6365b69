import { x402Facilitator } from "@x402/core/facilitator";
import { HTTPFacilitatorClient, type FacilitatorClient } from "@x402/core/server";
import type { SupportedResponse } from "@x402/core/types";
import { toFacilitatorEvmSigner } from "@x402/evm";
import { registerExactEvmScheme } from "@x402/evm/exact/facilitator";
import { publicActions, type Account, type Chain, type Transport, type WalletClient } from "viem";

/**
 * The facilitator port is @x402/core's FacilitatorClient (verify, settle, getSupported): the
 * HTTP client for a remote facilitator and the in-process one both implement it.
 */
export type Facilitator = FacilitatorClient;

export interface InProcessFacilitator {
  client: Facilitator;
  /** The underlying facilitator, also served over HTTP at /facilitator/* in dev mode. */
  facilitator: x402Facilitator;
  address: `0x${string}`;
}

/**
 * An x402 facilitator running inside the gateway on any RPC: the exact EVM scheme (EIP-3009)
 * for the v2 network id and, through registerExactEvmScheme, every v1 network name.
 * The wallet pays the settlement gas.
 */
export function createInProcessFacilitator(options: {
  wallet: WalletClient<Transport, Chain, Account>;
  network: `eip155:${number}`;
  confirmationTimeoutMs?: number;
}): InProcessFacilitator {
  const client = options.wallet.extend(publicActions);
  const signer = toFacilitatorEvmSigner(
    {
      address: client.account.address,
      readContract: (args) => client.readContract(args as Parameters<typeof client.readContract>[0]),
      verifyTypedData: (args) => client.verifyTypedData(args as Parameters<typeof client.verifyTypedData>[0]),
      writeContract: (args) => client.writeContract(args as Parameters<typeof client.writeContract>[0]),
      sendTransaction: (args) => client.sendTransaction(args),
      waitForTransactionReceipt: (args) => client.waitForTransactionReceipt(args),
      getCode: (args) => client.getCode(args),
    },
    options.confirmationTimeoutMs === undefined ? undefined : { confirmationTimeoutMs: options.confirmationTimeoutMs },
  );
  const facilitator = new x402Facilitator();
  registerExactEvmScheme(facilitator, { signer, networks: options.network });
  return {
    facilitator,
    address: client.account.address,
    client: {
      verify: (payload, requirements) => facilitator.verify(payload, requirements),
      settle: (payload, requirements) => facilitator.settle(payload, requirements),
      // x402Facilitator types `network` as string where SupportedResponse wants the CAIP-2 template type.
      getSupported: async () => facilitator.getSupported() as SupportedResponse,
    },
  };
}

export function createHttpFacilitator(options: { url: string; timeoutMs: number }): Facilitator {
  return new HTTPFacilitatorClient({ url: options.url, timeoutMs: options.timeoutMs });
}
