import { Writable } from "node:stream";
import { createLogger, type Logger } from "../../src/lib/logger.ts";

/** A real pino logger whose lines are kept in memory, one JSON string per line. */
export function capturingLogger(level = "debug"): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString("utf8").split("\n").filter((l) => l.length > 0));
      done();
    },
  });
  return { logger: createLogger({ level, destination }), lines };
}
