import { x402Facilitator } from "@x402/core/facilitator";
import { HTTPFacilitatorClient, type FacilitatorClient } from "@x402/core/server";
import type { PaymentPayload, PaymentRequirements, SettleResponse, SupportedResponse, VerifyResponse } from "@x402/core/types";
import { Agent, interceptors, request } from "undici";
import { z } from "zod";
import { toFacilitatorEvmSigner } from "@x402/evm";
import { registerExactEvmScheme } from "@x402/evm/exact/facilitator";
import { UptoEvmScheme } from "@x402/evm/upto/facilitator";
import { publicActions, type Account, type Chain, type Transport, type WalletClient } from "viem";
import { messageOf } from "../lib/errors.ts";

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
 * The eip2612GasSponsoring extension (x402 specs/extensions/eip2612_gas_sponsoring.md): a payer
 * with no Permit2 allowance signs an EIP-2612 permit instead of sending an approve, and the
 * facilitator submits it in the same transaction as the settlement (the upto proxy's
 * settleWithPermit). @x402/evm's upto facilitator reads the permit from the payload itself, so
 * registering the key only advertises it in /supported, as @x402/extensions' EIP2612_GAS_SPONSORING
 * constant (the same `{key}` object) would.
 */
export const EIP2612_GAS_SPONSORING = Object.freeze({ key: "eip2612GasSponsoring" });

/**
 * An x402 facilitator running inside the gateway on any RPC: the exact EVM scheme (EIP-3009)
 * for the v2 network id and, through registerExactEvmScheme, every v1 network name; the upto
 * EVM scheme (Permit2 through the canonical x402UptoPermit2Proxy, v2 only: upto has no v1) for
 * the v2 network id, whose /supported entry carries `extra.facilitatorAddress` (the wallet), the
 * only address allowed to settle the permits signed for it; and the eip2612GasSponsoring
 * extension. The wallet pays the settlement gas.
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
  facilitator.register(options.network, new UptoEvmScheme(signer));
  facilitator.registerExtension(EIP2612_GAS_SPONSORING);
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

/**
 * A remote facilitator over HTTP (x402 facilitator API: POST /verify and /settle with
 * `{x402Version, paymentPayload, paymentRequirements}`, GET /supported). /verify and /settle,
 * two per paid call, go through undici's request() on a keep-alive pool, as the providers do:
 * @x402/core's HTTPFacilitatorClient sends them through global fetch, whose WHATWG streams cost
 * about a millisecond of CPU per paid call (bench/README.md). Same wire format and the same
 * contract: a non-2xx answer throws (so the fallback facilitator moves on), a 2xx one is parsed.
 * /supported, asked rarely, stays with HTTPFacilitatorClient and its retries.
 */
export function createHttpFacilitator(options: { url: string; timeoutMs: number }): Facilitator {
  const base = options.url.replace(/\/+$/, "");
  const x402Client = new HTTPFacilitatorClient({ url: base, timeoutMs: options.timeoutMs });
  const dispatcher = new Agent({ keepAliveTimeout: 30_000 }).compose(interceptors.redirect({ maxRedirections: 3 }));
  async function post<T>(path: "verify" | "settle", payload: PaymentPayload, requirements: PaymentRequirements, schema: z.ZodType<T>): Promise<T> {
    const res = await request(`${base}/${path}`, {
      method: "POST",
      dispatcher,
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ x402Version: payload.x402Version, paymentPayload: payload, paymentRequirements: requirements }, jsonSafe),
      signal: AbortSignal.timeout(options.timeoutMs),
    });
    const text = await res.body.text();
    if (res.statusCode < 200 || res.statusCode > 299) throw new Error(`Facilitator ${path} failed (${res.statusCode}): ${text.slice(0, 200)}`);
    const parsed = schema.safeParse(JSON.parse(text));
    if (!parsed.success) throw new Error(`Facilitator ${path} answered a malformed reply`);
    return parsed.data;
  }
  return {
    verify: async (payload, requirements) => (await post("verify", payload, requirements, VerifyReply)) as VerifyResponse,
    settle: async (payload, requirements) => (await post("settle", payload, requirements, SettleReply)) as SettleResponse,
    getSupported: () => x402Client.getSupported(),
  };
}

/** JSON.stringify replacer: bigints as decimal strings, as HTTPFacilitatorClient sends them. */
function jsonSafe(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? value.toString() : value;
}

const VerifyReply = z.object({ isValid: z.boolean(), invalidReason: z.string().optional(), invalidMessage: z.string().optional(), payer: z.string().optional() }).loose();
const SettleReply = z
  .object({ success: z.boolean(), transaction: z.string(), network: z.string(), errorReason: z.string().optional(), errorMessage: z.string().optional(), payer: z.string().optional() })
  .loose();

export class FacilitatorUnavailableError extends Error {
  override readonly name = "FacilitatorUnavailableError";
}

/**
 * Several facilitators, tried in order: a facilitator that throws (timeout, 5xx, refused
 * connection) or answers something that does not parse is skipped for the next one. A parsed
 * answer, even "invalid", is final. Settling through a second facilitator after the first timed
 * out is safe: an EIP-3009 authorization transfers at most once, and settlement checks the chain.
 */
export function createFallbackFacilitator(facilitators: readonly Facilitator[]): Facilitator {
  if (facilitators.length === 0) throw new RangeError("at least one facilitator is needed");
  async function first<T>(call: (f: Facilitator) => Promise<unknown>, schema: z.ZodType<T>, what: string): Promise<T> {
    const failures: string[] = [];
    for (const [index, facilitator] of facilitators.entries()) {
      try {
        const parsed = schema.safeParse(await call(facilitator));
        if (parsed.success) return parsed.data;
        failures.push(`#${index + 1}: malformed ${what} reply`);
      } catch (error) {
        failures.push(`#${index + 1}: ${messageOf(error)}`);
      }
    }
    throw new FacilitatorUnavailableError(`no facilitator answered ${what} (${failures.join("; ")})`);
  }
  return {
    verify: async (payload, requirements) => (await first((f) => f.verify(payload, requirements), VerifyReply, "verify")) as VerifyResponse,
    settle: async (payload, requirements) => (await first((f) => f.settle(payload, requirements), SettleReply, "settle")) as SettleResponse,
    getSupported: () => first((f) => f.getSupported(), z.custom<SupportedResponse>((v) => typeof v === "object" && v !== null), "supported"),
  };
}
