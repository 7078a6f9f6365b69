import { spawn, type ChildProcess } from "node:child_process";
import { openSync, closeSync, readFileSync } from "node:fs";
import { join } from "node:path";

export interface BenchChild {
  name: string;
  pid: number;
  process: ChildProcess;
  /** File holding the child's stdout and stderr. */
  logPath: string;
}

export interface SpawnOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
}

/** How long a child gets to drain after SIGTERM before its whole process group is killed. */
const GRACE_MS = 10_000;

/**
 * Every process the benchmark starts, so that all of them stop however the run ends: normally,
 * on an error, or on Ctrl-C / SIGTERM. Each child leads its own process group (`detached`) so a
 * gateway that spawned helpers of its own (Tollgate's hardhat node) can be taken down whole by
 * its group id if it does not drain in time; Ctrl-C then reaches only the harness, which stops
 * the children in order.
 */
export class ChildProcesses {
  readonly #children: BenchChild[] = [];
  readonly #logDir: string;
  #stopping: Promise<void> | undefined;

  constructor(logDir: string) {
    this.#logDir = logDir;
  }

  spawn(name: string, command: string, args: readonly string[], options: SpawnOptions): BenchChild {
    if (this.#stopping !== undefined) throw new Error(`not starting ${name}: the benchmark is stopping`);
    const logPath = join(this.#logDir, `${name}.log`);
    const log = openSync(logPath, "a");
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ["ignore", log, log], detached: true });
    closeSync(log);
    if (child.pid === undefined) throw new Error(`could not start ${name} (${command})`);
    const entry: BenchChild = { name, pid: child.pid, process: child, logPath };
    this.#children.push(entry);
    return entry;
  }

  /** Last lines of a child's log, for error messages. */
  tail(child: BenchChild, lines = 20): string {
    try {
      return readFileSync(child.logPath, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
    } catch {
      return "(no log)";
    }
  }

  /** Stops one child: SIGTERM, then SIGKILL to its process group after the grace period. */
  async stop(child: BenchChild): Promise<void> {
    const index = this.#children.indexOf(child);
    if (index >= 0) this.#children.splice(index, 1);
    const proc = child.process;
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
    proc.kill("SIGTERM");
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    }, GRACE_MS);
    await exited;
    clearTimeout(timer);
  }

  /** Stops every child still running, newest first (gateways before the upstream they use). */
  stopAll(): Promise<void> {
    this.#stopping ??= (async () => {
      for (const child of [...this.#children].reverse()) await this.stop(child);
    })();
    return this.#stopping;
  }
}
