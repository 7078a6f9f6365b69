import { z } from "zod";
import { CAPABILITIES, Capability } from "../catalog/schema.ts";
import { TollgateError } from "../lib/errors.ts";
import { usdToAtomic } from "../lib/money.ts";

/** Limits an agent puts on routing, from x-tollgate-* headers (DESIGN.md "Routing"). */
export interface AgentLimits {
  /** Most the agent will pay for the call, atomic USDC. */
  maxPrice?: bigint;
  /** Longest expected latency the agent accepts, ms. */
  maxLatencyMs?: number;
  /** Capabilities the model must have, on top of what the request itself needs. */
  require?: Capability[];
  /** Only these model ids or provider names. */
  allow?: string[];
  /** Never these model ids or provider names. */
  deny?: string[];
}

export const LIMIT_HEADERS = {
  maxPrice: "x-tollgate-max-price",
  maxLatencyMs: "x-tollgate-max-latency-ms",
  require: "x-tollgate-require",
  allow: "x-tollgate-allow",
  deny: "x-tollgate-deny",
} as const;

/** Header values as Node and Express hand them over. */
export type HeaderBag = Readonly<Record<string, string | readonly string[] | undefined>>;

/** Model ids and provider names an allow/deny list may name. */
export interface KnownNames {
  models: readonly string[];
  providers: readonly string[];
}

const UsdPrice = z
  .string()
  .regex(/^\d+(\.\d{1,6})?$/, "a USD amount such as 0.01, with at most 6 decimals")
  .refine((s) => !/^\d+(\.\d{1,6})?$/.test(s) || usdToAtomic(s) > 0n, "greater than 0");
const LatencyMs = z.string().regex(/^[1-9]\d{0,8}$/, "a positive whole number of milliseconds");
const NameList = z
  .string()
  .transform((s) => s.split(",").map((part) => part.trim()))
  .pipe(z.array(z.string().min(1, "empty entry")).min(1));

/**
 * Parse the agent's limit headers (absent headers mean no limit). A bad value is the agent's
 * mistake, reported as `invalid_header` naming the header, never silently ignored: an agent
 * that thinks it capped its price must not be charged more.
 */
export function parseAgentLimits(headers: HeaderBag, known?: KnownNames): AgentLimits {
  const limits: AgentLimits = {};
  const price = single(headers, LIMIT_HEADERS.maxPrice);
  if (price !== undefined) limits.maxPrice = usdToAtomic(check(UsdPrice, price, LIMIT_HEADERS.maxPrice));
  const latency = single(headers, LIMIT_HEADERS.maxLatencyMs);
  if (latency !== undefined) limits.maxLatencyMs = Number(check(LatencyMs, latency, LIMIT_HEADERS.maxLatencyMs));
  const require = single(headers, LIMIT_HEADERS.require);
  if (require !== undefined) {
    const names = check(NameList, require, LIMIT_HEADERS.require).map((n) => n.toLowerCase());
    const unknown = names.filter((n) => !Capability.safeParse(n).success);
    if (unknown.length > 0) {
      throw invalid(LIMIT_HEADERS.require, `names unknown capability '${unknown.join("', '")}'; known: ${CAPABILITIES.join(", ")}`);
    }
    limits.require = [...new Set(names)] as Capability[];
  }
  for (const key of ["allow", "deny"] as const) {
    const raw = single(headers, LIMIT_HEADERS[key]);
    if (raw === undefined) continue;
    const names = check(NameList, raw, LIMIT_HEADERS[key]);
    if (known !== undefined) {
      const unknown = names.filter((n) => !known.models.includes(n) && !known.providers.includes(n));
      if (unknown.length > 0) throw invalid(LIMIT_HEADERS[key], `names '${unknown.join("', '")}', neither a model id nor a provider; GET /v1/models lists both`);
    }
    limits[key] = names;
  }
  return limits;
}

/** Does `names` (model ids or provider names) cover this model? */
export function namesModel(names: readonly string[], model: string, provider: string): boolean {
  return names.includes(model) || names.includes(provider);
}

function single(headers: HeaderBag, name: string): string | undefined {
  const value = headers[name];
  if (value === undefined) return undefined;
  if (typeof value !== "string") {
    if (value.length === 1 && value[0] !== undefined) return value[0];
    throw invalid(name, "was sent more than once; send it once");
  }
  return value.trim();
}

function check<T>(schema: z.ZodType<T, string>, value: string, name: string): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw invalid(name, `must be ${parsed.error.issues[0]?.message ?? "valid"}; got ${JSON.stringify(value.slice(0, 64))}`);
}

function invalid(name: string, problem: string): TollgateError {
  return new TollgateError("invalid_header", `Header ${name} ${problem}`, { param: name });
}
