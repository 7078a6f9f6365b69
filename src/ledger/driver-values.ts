/**
 * Reads the values SQL drivers return into the port's types. Rows come from outside the process,
 * so each reader checks what it got instead of casting, and names the column when it refuses.
 */
import { CALL_STATUSES, type CallStatus } from "./types.ts";
import type { DriverInteger } from "./schema.ts";

const INTEGER_TEXT = /^-?\d+$/;

export function readBigint(value: DriverInteger, column: string): bigint {
  if (typeof value === "bigint") return value;
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) throw new TypeError(`ledger column ${column}: ${value} is not an exact integer`);
    return BigInt(value);
  }
  if (!INTEGER_TEXT.test(value)) throw new TypeError(`ledger column ${column}: ${JSON.stringify(value)} is not an integer`);
  return BigInt(value);
}

/** For counts and durations, which fit a JS number; refuses rather than rounds if one does not. */
export function readNumber(value: DriverInteger, column: string): number {
  const integer = readBigint(value, column);
  const number = Number(integer);
  if (!Number.isSafeInteger(number)) throw new RangeError(`ledger column ${column}: ${integer} exceeds a safe JS integer`);
  return number;
}

export function readDate(value: DriverInteger, column: string): Date {
  return new Date(readNumber(value, column));
}

export function readNullable<T>(
  value: DriverInteger | null,
  column: string,
  read: (value: DriverInteger, column: string) => T,
): T | null {
  return value === null ? null : read(value, column);
}

export function readHex(value: string, column: string): `0x${string}` {
  if (!isHex(value)) throw new TypeError(`ledger column ${column}: ${JSON.stringify(value)} is not 0x-prefixed hex`);
  return value;
}

function isHex(value: string): value is `0x${string}` {
  return /^0x[0-9a-fA-F]*$/.test(value);
}

export function readStatus(value: string): CallStatus {
  const status = CALL_STATUSES.find((known) => known === value);
  if (status === undefined) throw new TypeError(`ledger column status: unknown status ${JSON.stringify(value)}`);
  return status;
}
