import { existsSync, realpathSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { BaseError, createPublicClient, http, type PublicClient } from "viem";
import { z } from "zod";
import { markDisproved, paidByCredit } from "./call/lifecycle.ts";
import { openLedger, SQLITE_FILE_NAME } from "./ledger/open.ts";
import { reconcile, type Mismatch } from "./ledger/reconcile.ts";
import type { CallRow, Ledger } from "./ledger/types.ts";
import { createChainReader, type ChainReader } from "./payment/chain-reader.ts";
import type { PaymentProof } from "./payment/payment-proof.ts";
import { settlementProof } from "./payment/settle.ts";
import { reconcileJson, reconcileTable } from "./ledger/reconcile-report.ts";
import { defaultUsdc } from "./payment/terms.ts";
import { DEFAULT_LOG_CHUNK_BLOCKS, readTransfersTo, transactionBlock } from "./payment/token-transfers.ts";
import { messageOf } from "./lib/errors.ts";

/**
 * `npm run reconcile`: compares the token transfers to payTo in a block range with the ledger's
 * settled calls and reports every difference. Like main.ts, this entry point reads process.env,
 * only for defaults the gateway is already configured with (RPC_URL, ASSET, PAY_TO, DATA_DIR,
 * DATABASE_URL); flags win over them.
 */

const USAGE = `Usage: npm run reconcile -- --from-block N [--to-block M] [--rpc URL] [--token 0x..] [--pay-to 0x..]
                              [--data-dir DIR | --database-url postgres://..] [--chunk-blocks N] [--json] [--apply]

  --from-block    first block to read (inclusive)
  --to-block      last block to read (inclusive); the latest block when omitted
  --rpc           JSON-RPC URL of the chain (default: RPC_URL)
  --token         the EIP-3009 token (default: ASSET, else the chain's USDC)
  --pay-to        the gateway's receiving address (default: PAY_TO)
  --data-dir      directory of the SQLite ledger (default: DATA_DIR, else ./data)
  --database-url  Postgres ledger instead (default: DATABASE_URL)
  --chunk-blocks  blocks per eth_getLogs call (default 2000; public RPCs cap the range)
  --json          print the report as JSON
  --apply         turn every unproven_settlement row (its transaction is mined but did not pay
                  payTo for its authorization) into a debt: status unpaid, so the wallet is
                  refused until it pays; other mismatches are only reported

Exit codes: 0 clean, 1 mismatches found, 2 usage error, 3 could not reconcile (RPC or database failure).`;

const EXIT_CODES = { clean: 0, mismatches: 1, usage: 2, failed: 3 } as const;

/**
 * How long after its block a settlement may be recorded, and how far the gateway's clock may
 * run behind the chain's: ledger rows are fetched by settled_at, widened by this much each side.
 */
const LEDGER_CLOCK_MARGIN_SECONDS = 3_600;

class UsageError extends Error {
  override readonly name = "UsageError";
}

const BlockNumber = z
  .string()
  .regex(/^\d+$/, "a block number")
  .transform((s) => BigInt(s));
const Address = z
  .string()
  .regex(/^0x[0-9a-fA-F]{40}$/, "an 0x-prefixed 20-byte hex address")
  .transform((s) => s.toLowerCase() as `0x${string}`);

const ReconcileOptions = z.object({
  fromBlock: BlockNumber,
  toBlock: BlockNumber.optional(),
  rpc: z.url("a URL"),
  token: Address.optional(),
  payTo: Address,
  dataDir: z.string().min(1),
  databaseUrl: z.string().regex(/^postgres(ql)?:\/\//, "a postgres:// URL").optional(),
  chunkBlocks: z
    .string()
    .regex(/^[1-9]\d*$/, "a positive integer")
    .transform((s) => BigInt(s)),
  json: z.boolean(),
  apply: z.boolean(),
});
type ReconcileOptions = z.infer<typeof ReconcileOptions>;

/** Flags over environment defaults, parsed with zod; every problem is a UsageError naming the flag. */
function parseOptions(argv: string[], env: Record<string, string | undefined>): ReconcileOptions | "help" {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        "from-block": { type: "string" },
        "to-block": { type: "string" },
        rpc: { type: "string" },
        token: { type: "string" },
        "pay-to": { type: "string" },
        "data-dir": { type: "string" },
        "database-url": { type: "string" },
        "chunk-blocks": { type: "string" },
        json: { type: "boolean" },
        apply: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (error) {
    throw new UsageError(messageOf(error));
  }
  if (values.help === true) return "help";
  if (values["data-dir"] !== undefined && values["database-url"] !== undefined) {
    throw new UsageError("--data-dir and --database-url are exclusive: the ledger is either a SQLite file or Postgres");
  }
  const envOr = (flag: string | undefined, name: string) => flag ?? (env[name] === "" ? undefined : env[name]);
  const raw = {
    fromBlock: values["from-block"],
    toBlock: values["to-block"],
    rpc: envOr(values.rpc, "RPC_URL"),
    token: envOr(values.token, "ASSET"),
    payTo: envOr(values["pay-to"], "PAY_TO"),
    dataDir: envOr(values["data-dir"], "DATA_DIR") ?? "./data",
    // An explicit --data-dir means SQLite, whatever DATABASE_URL says.
    databaseUrl: values["data-dir"] === undefined ? envOr(values["database-url"], "DATABASE_URL") : undefined,
    chunkBlocks: values["chunk-blocks"] ?? String(DEFAULT_LOG_CHUNK_BLOCKS),
    json: values.json ?? false,
    apply: values.apply ?? false,
  };
  const parsed = ReconcileOptions.safeParse(raw);
  if (!parsed.success) {
    const flags: Record<string, string> = { fromBlock: "--from-block", toBlock: "--to-block", rpc: "--rpc (or RPC_URL)", token: "--token (or ASSET)", payTo: "--pay-to (or PAY_TO)", dataDir: "--data-dir", databaseUrl: "--database-url (or DATABASE_URL)", chunkBlocks: "--chunk-blocks" };
    const issues = parsed.error.issues.map((issue) => {
      const key = String(issue.path[0] ?? "");
      return `${flags[key] ?? key}: ${issue.code === "invalid_type" && issue.input === undefined ? "required" : issue.message}`;
    });
    throw new UsageError(issues.join("\n"));
  }
  return parsed.data;
}

/** Reads both sides, compares them and prints the report; returns the exit code. */
async function run(options: ReconcileOptions, print: (text: string) => void, printErr: (text: string) => void): Promise<number> {
  // viem's default retries stay on: real RPCs fail transiently, and nothing here can revert.
  const client: PublicClient = createPublicClient({ transport: http(options.rpc) });
  const [head, chainId] = await Promise.all([client.getBlockNumber(), client.getChainId()]);
  const toBlock = options.toBlock ?? head;
  if (toBlock > head) throw new UsageError(`--to-block ${toBlock} is beyond the chain's latest block ${head}`);
  if (options.fromBlock > toBlock) throw new UsageError(`--from-block ${options.fromBlock} is after --to-block ${toBlock}`);
  const token = options.token ?? (defaultUsdc(chainId)?.address.toLowerCase() as `0x${string}` | undefined);
  if (token === undefined) throw new UsageError(`chain ${chainId} has no default USDC: pass --token`);
  const sqliteFile = join(options.dataDir, SQLITE_FILE_NAME);
  // openLedger would create an empty ledger, and every transfer would look unaccounted for.
  if (options.databaseUrl === undefined && !existsSync(sqliteFile)) throw new UsageError(`no ledger at ${sqliteFile}: pass --data-dir or --database-url`);

  const transfers = await readTransfersTo(client, { token, to: options.payTo, fromBlock: options.fromBlock, toBlock, chunkBlocks: options.chunkBlocks });
  const window = await settlementWindow(client, options.fromBlock, toBlock, head);
  const ledger = await openLedger({ databaseUrl: options.databaseUrl, dataDir: options.dataDir });
  try {
    const rows = await ledger.listSettled(window);

    // The time window is wider than the block range: rows whose transaction is not among these
    // transfers were either mined outside the range (not compared) or are missing (reported).
    const inRange = new Set(transfers.map((t) => t.txHash.toLowerCase()));
    const calls: CallRow[] = [];
    const notes = new Map<string, string>();
    let outsideRange = 0;
    let onCredit = 0;
    for (const row of rows) {
      if (row.payTo !== options.payTo || row.asset !== token) continue;
      // A call its payer's credit paid in full moved nothing on chain: there is nothing to compare.
      if (paidByCredit(row)) {
        onCredit += 1;
        continue;
      }
      if (row.txHash !== null && !inRange.has(row.txHash)) {
        const block = await transactionBlock(client, row.txHash);
        if (block !== undefined && (block < options.fromBlock || block > toBlock)) {
          outsideRange += 1;
          continue;
        }
        notes.set(row.txHash, block === undefined ? "no such transaction on chain" : `its transaction (block ${block}) has no transfer to payTo`);
      }
      calls.push(row);
    }

    const proofs = await readProofs(createChainReader({ rpcUrl: options.rpc }), calls);
    // What each row says was paid: the charge (upto settles less than the signed maximum).
    const result = reconcile({ transfers, calls: calls.map((call) => ({ ...call, amount: call.charged ?? call.amount })), notes, proofs });
    const scope = { chainId, token, payTo: options.payTo, fromBlock: options.fromBlock, toBlock, transfers: transfers.length, settledRows: calls.length, outsideRange, onCredit };
    print(options.json ? `${reconcileJson(scope, result)}\n` : reconcileTable(scope, result));
    if (options.apply) {
      const debts = await applyDebts(ledger, result.mismatches);
      // Beside the report, not in it: the --json output stays one JSON document.
      (options.json ? printErr : print)(`--apply: ${debts} unproven settlement(s) recorded as debts (status unpaid)\n`);
    }
    return result.mismatches.length === 0 ? EXIT_CODES.clean : EXIT_CODES.mismatches;
  } finally {
    await ledger.close();
  }
}

/** Receipts read at once; public RPCs throttle bursts. */
const RECEIPT_CONCURRENCY = 8;

/**
 * What each call's transaction proves about its payment, by the call's own scheme (the rule
 * settlement applies: payment/settle.ts settlementProof); calls whose transaction is not on chain
 * are left out.
 */
async function readProofs(chain: ChainReader, calls: readonly CallRow[]): Promise<Map<string, PaymentProof>> {
  const proofs = new Map<string, PaymentProof>();
  const queue = calls.filter((call) => call.txHash !== null);
  const worker = async () => {
    for (let call = queue.shift(); call !== undefined; call = queue.shift()) {
      const proof = await settlementProof(chain, call, call.txHash as `0x${string}`);
      if (proof.state !== "unknown") proofs.set(call.id, proof);
    }
  };
  await Promise.all(Array.from({ length: RECEIPT_CONCURRENCY }, worker));
  return proofs;
}

/** --apply: settled rows whose own receipt disproves them become debts; returns how many moved. */
async function applyDebts(ledger: Ledger, mismatches: readonly Mismatch[]): Promise<number> {
  let moved = 0;
  for (const mismatch of mismatches) {
    if (mismatch.kind !== "unproven_settlement") continue;
    const done = await markDisproved(ledger, mismatch.call.id, `reconcile: settled by ${mismatch.call.txHash}, which did not pay: ${mismatch.note}`, new Date());
    if (done) moved += 1;
  }
  return moved;
}

/** settled_at bounds for the block range: its blocks' times, widened by the clock margin. */
async function settlementWindow(client: PublicClient, fromBlock: bigint, toBlock: bigint, head: bigint): Promise<{ since: Date; until?: Date }> {
  const margin = BigInt(LEDGER_CLOCK_MARGIN_SECONDS);
  const first = await client.getBlock({ blockNumber: fromBlock });
  const since = new Date(Number((first.timestamp - margin) * 1000n));
  // Up to the chain head, anything settled later still belongs to the range.
  if (toBlock === head) return { since };
  const last = await client.getBlock({ blockNumber: toBlock });
  return { since, until: new Date(Number((last.timestamp + margin) * 1000n)) };
}

export interface CliOutput {
  stdout(text: string): void;
  stderr(text: string): void;
}

/** The whole command, minus the process: tests run it in-process; returns the exit code. */
export async function runReconcileCli(argv: string[], env: Record<string, string | undefined>, output: CliOutput): Promise<number> {
  try {
    const options = parseOptions(argv, env);
    if (options === "help") {
      output.stdout(`${USAGE}\n`);
      return EXIT_CODES.clean;
    }
    return await run(options, (text) => output.stdout(text), (text) => output.stderr(text));
  } catch (error) {
    if (error instanceof UsageError) {
      output.stderr(`${error.message}\n\n${USAGE}\n`);
      return EXIT_CODES.usage;
    }
    // viem's long messages carry the request URL, and an RPC URL may hold an API key.
    const message = error instanceof BaseError ? error.shortMessage : error instanceof Error ? error.message : String(error);
    output.stderr(`reconcile failed: ${message}\n`);
    return EXIT_CODES.failed;
  }
}

const isEntryPoint = process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
if (isEntryPoint) {
  process.exitCode = await runReconcileCli(process.argv.slice(2), process.env, {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
  });
}
