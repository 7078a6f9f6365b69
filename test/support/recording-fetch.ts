import { x402Client } from "@x402/core/client";
import { wrapFetchWithPayment } from "@x402/fetch";

/** A scheme client @x402/core's x402Client can register (ExactEvmScheme, UptoEvmScheme, ...). */
type SchemeClient = Parameters<x402Client["register"]>[1];

/**
 * @x402/fetch paying with `scheme` alone, in `asset` on `network` (the devnet token must be
 * allowed explicitly), keeping every PAYMENT-SIGNATURE header it sends so a test can replay one.
 */
export function recordingPayingFetch(scheme: SchemeClient, options: { network: `${string}:${string}`; asset: string }) {
  const sent: string[] = [];
  const client = new x402Client().register(options.network, scheme);
  client.setSpendControls({ allowedAssets: [{ network: options.network, asset: options.asset }] });
  const paying = wrapFetchWithPayment(async (input, init) => {
    const request = new Request(input, init);
    const header = request.headers.get("PAYMENT-SIGNATURE");
    if (header !== null) sent.push(header);
    return fetch(request);
  }, client);
  return { fetch: paying, sent };
}
