import { x402Client } from "@x402/core/client";
import { decodePaymentResponseHeader } from "@x402/core/http";
import type { SettleResponse } from "@x402/core/types";
import { toClientEvmSigner } from "@x402/evm";
import { ExactEvmScheme } from "@x402/evm/exact/client";
import { UptoEvmScheme } from "@x402/evm/upto/client";
import type { PublicClient } from "viem";
import { wrapFetchWithPayment } from "@x402/fetch";
import { privateKeyToAccount } from "viem/accounts";

/**
 * A fetch that pays Tollgate's 402 challenges with x402 (@x402/fetch + the exact EVM scheme, and
 * the upto scheme first when `upto` gives it a chain to read),
 * and collects settlement receipts: from the PAYMENT-RESPONSE header of non-streamed replies,
 * and from the `: PAYMENT-RESPONSE <base64>` SSE comment Tollgate sends at the end of a stream.
 */
export interface PayingFetch {
  fetch: typeof globalThis.fetch;
  address: `0x${string}`;
  /** Receipts in the order the calls settled. */
  receipts: SettleResponse[];
}

export interface PayingFetchOptions {
  privateKey: `0x${string}`;
  /** The devnet token is not one of x402's default assets, so it must be allowed explicitly. */
  allowedAsset?: { network: `${string}:${string}`; asset: string; maxAmountPerPayment?: string };
  /**
   * Also pay with x402 `upto` (Permit2: charged the call's actual cost), preferred where the 402
   * offers it. Its signer reads the chain; the payer must have approved Permit2 for the token.
   */
  upto?: { publicClient: PublicClient };
}

const RECEIPT_COMMENT = /^: (?:X-)?PAYMENT-RESPONSE (\S+)$/m;

export function createPayingFetch(options: PayingFetchOptions): PayingFetch {
  const account = privateKeyToAccount(options.privateKey);
  const client = new x402Client();
  // The client pays the first offer it has a scheme for; Tollgate offers upto before exact.
  if (options.upto !== undefined) client.register("eip155:*", new UptoEvmScheme(toClientEvmSigner(account, options.upto.publicClient)));
  client.register("eip155:*", new ExactEvmScheme(account));
  if (options.allowedAsset !== undefined) client.setSpendControls({ allowedAssets: [options.allowedAsset] });
  const paying = wrapFetchWithPayment(globalThis.fetch, client);
  const receipts: SettleResponse[] = [];

  const fetchWithReceipts: typeof globalThis.fetch = async (input, init) => {
    const response = await paying(input, init);
    const header = response.headers.get("PAYMENT-RESPONSE") ?? response.headers.get("X-PAYMENT-RESPONSE");
    if (header !== null) receipts.push(decodePaymentResponseHeader(header));
    const isStream = response.headers.get("content-type")?.startsWith("text/event-stream") ?? false;
    if (!isStream || response.body === null) return response;
    return new Response(response.body.pipeThrough(receiptSniffer((r) => receipts.push(r))), {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  };
  return { fetch: fetchWithReceipts, address: account.address, receipts };
}

/** Passes SSE bytes through untouched while watching for the receipt comment line. */
function receiptSniffer(onReceipt: (receipt: SettleResponse) => void): TransformStream<Uint8Array, Uint8Array> {
  const decoder = new TextDecoder();
  let text = "";
  return new TransformStream({
    transform(chunk, controller) {
      controller.enqueue(chunk);
      text = (text + decoder.decode(chunk, { stream: true })).slice(-16_384);
    },
    flush() {
      const match = RECEIPT_COMMENT.exec(text);
      if (match?.[1] !== undefined) onReceipt(decodePaymentResponseHeader(match[1]));
    },
  });
}
