import { atomicToUsd } from "../lib/money.ts";
import type { Mismatch, Reconciliation } from "./reconcile.ts";

/** What was compared, for the report's header. */
export interface ReconcileScope {
  chainId: number;
  token: `0x${string}`;
  payTo: `0x${string}`;
  fromBlock: bigint;
  toBlock: bigint;
  transfers: number;
  settledRows: number;
  /** Settled rows in the time window whose transaction was mined outside the block range. */
  outsideRange: number;
  /** Settled rows paid wholly by credit: nothing on chain to compare. */
  onCredit: number;
}

/** One mismatch, flattened: the same fields whichever side is missing. */
export interface MismatchLine {
  kind: Mismatch["kind"];
  txHash: string | null;
  block: string | null;
  payer: string;
  /** Atomic units, as decimal strings; null for the side that has no record. */
  ledgerAmount: string | null;
  chainAmount: string | null;
  chainFrom: string | null;
  callId: string | null;
  note: string | null;
}

export function mismatchLines(result: Reconciliation): MismatchLine[] {
  return result.mismatches.map((m): MismatchLine => {
    switch (m.kind) {
      case "transfer_without_row":
        return { kind: m.kind, txHash: m.transfer.txHash, block: String(m.transfer.blockNumber), payer: m.transfer.from, ledgerAmount: null, chainAmount: String(m.transfer.value), chainFrom: m.transfer.from, callId: null, note: null };
      case "row_without_transfer":
      case "unproven_settlement":
        return { kind: m.kind, txHash: m.call.txHash, block: null, payer: m.call.payer, ledgerAmount: String(m.call.amount), chainAmount: null, chainFrom: null, callId: m.call.id, note: m.note };
      case "amount_mismatch":
      case "payer_mismatch":
        return {
          kind: m.kind,
          txHash: m.transfer.txHash,
          block: String(m.transfer.blockNumber),
          payer: m.call.payer,
          ledgerAmount: String(m.call.amount),
          chainAmount: String(m.transfer.value),
          chainFrom: m.transfer.from,
          callId: m.call.id,
          note: m.kind === "payer_mismatch" ? `transfer came from ${m.transfer.from}` : null,
        };
    }
  });
}

/** The machine-readable report (`--json`): amounts and blocks as decimal strings. */
export function reconcileJson(scope: ReconcileScope, result: Reconciliation): string {
  return JSON.stringify(
    {
      chainId: scope.chainId,
      token: scope.token,
      payTo: scope.payTo,
      fromBlock: String(scope.fromBlock),
      toBlock: String(scope.toBlock),
      transfers: scope.transfers,
      settledRows: scope.settledRows,
      outsideRange: scope.outsideRange,
      onCredit: scope.onCredit,
      matched: result.matched.length,
      clean: result.mismatches.length === 0,
      mismatches: mismatchLines(result),
    },
    null,
    2,
  );
}

/** The human report: a summary, then one aligned row per mismatch. */
export function reconcileTable(scope: ReconcileScope, result: Reconciliation): string {
  const lines = [
    `Blocks ${scope.fromBlock}-${scope.toBlock} on chain ${scope.chainId}, token ${scope.token}, payTo ${scope.payTo}`,
    `${scope.transfers} transfers to payTo, ${scope.settledRows} settled ledger rows` +
      (scope.outsideRange > 0 ? ` (${scope.outsideRange} more settled outside these blocks, not compared)` : "") +
      (scope.onCredit > 0 ? ` (${scope.onCredit} more paid wholly by credit, nothing on chain)` : "") +
      `: ${result.matched.length} matched, ${result.mismatches.length} ${result.mismatches.length === 1 ? "mismatch" : "mismatches"}`,
  ];
  if (result.mismatches.length === 0) return `${lines.join("\n")}\nClean: the ledger and the chain agree.\n`;

  const usdc = (atomic: string | null) => (atomic === null ? "-" : atomicToUsd(BigInt(atomic)));
  const header = ["KIND", "TX HASH", "BLOCK", "PAYER", "LEDGER USDC", "CHAIN USDC", "CALL", "NOTE"];
  const rows = mismatchLines(result).map((m) => [m.kind, m.txHash ?? "-", m.block ?? "-", m.payer, usdc(m.ledgerAmount), usdc(m.chainAmount), m.callId ?? "-", m.note ?? ""]);
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => (row[i] ?? "").length)));
  const format = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join("  ").trimEnd();
  return `${[...lines, "", format(header), ...rows.map(format)].join("\n")}\n`;
}
