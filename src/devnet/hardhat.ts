/**
 * A `hardhat node` child process on loopback, and the guarantee that it never outlives us:
 * stop() ends it; our "exit", SIGINT and SIGTERM end it; and if we die by SIGKILL, the watchdog
 * in hardhat-child.cjs ends it within about half a second.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { rmSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { stripVTControlCharacters } from "node:util";
import { DEVNET_ACCOUNT_COUNT, DEVNET_MNEMONIC } from "./accounts.ts";

export interface StartHardhatNodeOptions {
  /** Loopback port; a free one chosen by the OS when omitted. */
  port?: number;
  /** Defaults to 84532, Base Sepolia's id, so v1 x402 agents can name the network. */
  chainId?: number;
  /** Receives hardhat's output line by line; also turns on hardhat's per-request logging. */
  logger?: (line: string) => void;
  /** How long to wait for the node to answer eth_chainId. Default 30 s. */
  readyTimeoutMs?: number;
}

export interface HardhatNode {
  rpcUrl: string;
  port: number;
  pid: number;
  /** Ends the node (SIGTERM, then SIGKILL after a grace period) and waits for it to exit. */
  stop(): Promise<void>;
}

/** The node did not come up: it exited, could not be spawned, or did not answer in time. */
export class HardhatStartError extends Error {
  override readonly name = "HardhatStartError";
  /** The last lines hardhat printed, which usually name the cause. */
  readonly output: string;

  constructor(message: string, output: string, options?: { cause?: unknown }) {
    super(output === "" ? message : `${message}\n--- hardhat output (tail) ---\n${output}`, options);
    this.output = output;
  }
}

export const DEVNET_CHAIN_ID = 84532;

const DEFAULT_READY_TIMEOUT_MS = 30_000;
const READY_POLL_MS = 100;
const STOP_GRACE_MS = 3_000;
const OUTPUT_TAIL_LINES = 40;

/** Where things are on disk, resolved on first start rather than at import. */
function locate(): { cli: string; projectDir: string; watchdog: string } {
  const packageDir = dirname(createRequire(import.meta.url).resolve("hardhat/package.json"));
  return {
    cli: join(packageDir, "internal", "cli", "cli.js"),
    // Hardhat refuses to run unless `hardhat` resolves, from its cwd, to this very installation.
    projectDir: dirname(dirname(packageDir)),
    watchdog: join(dirname(fileURLToPath(import.meta.url)), "hardhat-child.cjs"),
  };
}

export async function startHardhatNode(options: StartHardhatNodeOptions = {}): Promise<HardhatNode> {
  const chainId = options.chainId ?? DEVNET_CHAIN_ID;
  const port = options.port ?? (await findFreePort());
  const rpcUrl = `http://127.0.0.1:${port}`;
  const logger = options.logger;

  const configDir = await mkdtemp(join(tmpdir(), "tollgate-hardhat-"));
  const configPath = join(configDir, "hardhat.config.cjs");
  await writeFile(configPath, renderConfig(chainId, logger !== undefined));

  const output = new OutputTail(OUTPUT_TAIL_LINES, logger);
  const paths = locate();
  const child = spawn(
    process.execPath,
    [paths.watchdog, paths.cli, "--config", configPath, "node", "--hostname", "127.0.0.1", "--port", String(port)],
    {
      cwd: paths.projectDir,
      env: childEnv(configDir),
      stdio: ["ignore", "pipe", "pipe"],
      // Own process group: a Ctrl-C in the terminal reaches only us, so the application can
      // drain (and settle on this chain) before it stops the node.
      detached: true,
    },
  );
  // Always drain both pipes: a full pipe would block the node mid-write.
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => output.push(chunk));
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => output.push(chunk));

  const running: Running = { child, configDir, exited: waitForExit(child) };
  track(running);

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => (stopping ??= terminate(running));

  try {
    await waitUntilReady(rpcUrl, chainId, running, output, options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS);
  } catch (error) {
    await stop();
    throw error;
  }
  const pid = child.pid;
  if (pid === undefined) throw new HardhatStartError("hardhat node has no pid", output.text());
  return { rpcUrl, port, pid, stop };
}

interface Running {
  child: ChildProcess;
  configDir: string;
  /** Settles once the child has exited, or failed to spawn at all. */
  exited: Promise<ExitInfo>;
}

type ExitInfo = { code: number | null; signal: NodeJS.Signals | null; spawnError?: Error };

function renderConfig(chainId: number, loggingEnabled: boolean): string {
  const config = {
    networks: {
      hardhat: {
        chainId,
        accounts: { mnemonic: DEVNET_MNEMONIC, count: DEVNET_ACCOUNT_COUNT },
        // Automine: every transaction is mined at once, so a receipt is one round trip away.
        mining: { auto: true, interval: 0 },
        // Without this every automined block is at least 1 s after the previous one, so a busy
        // devnet's clock runs ahead of real time and fresh EIP-3009 authorizations "expire" on
        // chain (validBefore in the chain's past) while the gateway still sees them as valid.
        allowBlocksWithSameTimestamp: true,
        // Hardhat logs every JSON-RPC request when on; only worth it when someone reads it.
        loggingEnabled,
      },
    },
  };
  return `// Written by src/devnet/hardhat.ts for one devnet run; removed when the node stops.\nmodule.exports = ${JSON.stringify(config, null, 2)};\n`;
}

function childEnv(configDir: string): NodeJS.ProcessEnv {
  // Inherited HARDHAT_NETWORK, HARDHAT_CONFIG, ... would override the command line.
  const inherited = Object.entries(process.env).filter(([name]) => !name.startsWith("HARDHAT_"));
  return {
    ...Object.fromEntries(inherited),
    TOLLGATE_DEVNET_PARENT_PID: String(process.pid),
    TOLLGATE_DEVNET_TMPDIR: configDir,
    // Never wait on an interactive prompt.
    HARDHAT_DISABLE_TELEMETRY_PROMPT: "true",
  };
}

/** Asks the OS for a free loopback port. Another process could take it before hardhat binds it;
 * hardhat then exits with EADDRINUSE and startHardhatNode reports that. */
export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => {
        if (address !== null && typeof address === "object") resolve(address.port);
        else reject(new Error("could not read the port the OS assigned"));
      });
    });
  });
}

function waitForExit(child: ChildProcess): Promise<ExitInfo> {
  return new Promise((resolve) => {
    child.once("exit", (code, signal) => resolve({ code, signal }));
    // A failed spawn (e.g. EACCES) emits "error" and never "exit". Later "error"s (a failed
    // kill) need a listener too, or they would crash the process; "exit" still follows them.
    child.on("error", (spawnError) => {
      if (child.pid === undefined) resolve({ code: null, signal: null, spawnError });
    });
  });
}

async function waitUntilReady(
  rpcUrl: string,
  chainId: number,
  running: Running,
  output: OutputTail,
  timeoutMs: number,
): Promise<void> {
  let exit: ExitInfo | undefined;
  void running.exited.then((info) => (exit = info));
  const deadline = Date.now() + timeoutMs;

  for (;;) {
    if (exit !== undefined) {
      const how = exit.spawnError?.message ?? (exit.signal !== null ? `signal ${exit.signal}` : `code ${exit.code}`);
      throw new HardhatStartError(`hardhat node exited before it was ready (${how})`, output.text(), {
        cause: exit.spawnError,
      });
    }
    const answered = await readChainId(rpcUrl);
    if (answered !== undefined && exit === undefined) {
      // Something answering with another chain id is not our node (the port was taken).
      if (answered !== chainId) {
        throw new HardhatStartError(`${rpcUrl} answers with chain id ${answered}, expected ${chainId}`, output.text());
      }
      return;
    }
    if (Date.now() > deadline) {
      throw new HardhatStartError(`hardhat node did not answer eth_chainId within ${timeoutMs} ms`, output.text());
    }
    await new Promise((resolve) => setTimeout(resolve, READY_POLL_MS));
  }
}

/** The chain id the endpoint reports, or undefined while nothing answers. */
async function readChainId(rpcUrl: string): Promise<number | undefined> {
  try {
    const response = await fetch(rpcUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
      signal: AbortSignal.timeout(1_000),
    });
    const body: unknown = await response.json();
    if (typeof body === "object" && body !== null && "result" in body && typeof body.result === "string") {
      return Number.parseInt(body.result, 16);
    }
    return undefined;
  } catch {
    return undefined;
  }
}

async function terminate(running: Running): Promise<void> {
  const { child } = running;
  if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
    child.kill("SIGTERM");
    const graceOver = new Promise<"timeout">((resolve) => setTimeout(resolve, STOP_GRACE_MS, "timeout").unref());
    if ((await Promise.race([running.exited, graceOver])) === "timeout") child.kill("SIGKILL");
  }
  await running.exited;
  untrack(running);
  await rm(running.configDir, { recursive: true, force: true });
}

/** Keeps the last lines hardhat printed (for error messages) and forwards each to the logger. */
class OutputTail {
  private readonly lines: string[] = [];
  private partial = "";

  constructor(
    private readonly max: number,
    private readonly logger: ((line: string) => void) | undefined,
  ) {}

  push(chunk: string): void {
    const parts = (this.partial + chunk).split("\n");
    this.partial = parts.pop() ?? "";
    // Hardhat's request log is coloured whatever the terminal; lines go to a logger instead.
    for (const line of parts.map((part) => stripVTControlCharacters(part))) {
      this.lines.push(line);
      if (this.lines.length > this.max) this.lines.shift();
      this.logger?.(line);
    }
  }

  text(): string {
    return [...this.lines, this.partial].join("\n").trim();
  }
}

// ---- Process-wide cleanup -------------------------------------------------------------------
// Installed while at least one node runs, removed after the last stops.

const live = new Set<Running>();
const SIGNALS = ["SIGINT", "SIGTERM"] as const;

function track(running: Running): void {
  if (live.size === 0) {
    process.on("exit", killAllNow);
    for (const signal of SIGNALS) process.on(signal, onSignal);
  }
  live.add(running);
}

function untrack(running: Running): void {
  if (!live.delete(running) || live.size > 0) return;
  process.removeListener("exit", killAllNow);
  for (const signal of SIGNALS) process.removeListener(signal, onSignal);
}

/** "exit" handlers must be synchronous: no time for a graceful stop. */
function killAllNow(): void {
  for (const running of live) {
    running.child.kill("SIGKILL");
    rmSync(running.configDir, { recursive: true, force: true });
  }
  live.clear();
}

/**
 * Listening to a signal replaces Node's default action (exit). When ours is the only listener,
 * restore that action by re-raising the signal once the nodes are dead. When the application
 * has its own listener (main.ts drains on SIGTERM), it decides when to exit, and may still
 * need the chain to settle in-flight payments: leave the nodes to its stop() calls, with the
 * "exit" handler and the watchdog as backstops.
 */
function onSignal(signal: NodeJS.Signals): void {
  if (process.listenerCount(signal) > 1) return;
  killAllNow();
  process.removeListener("exit", killAllNow);
  for (const s of SIGNALS) process.removeListener(s, onSignal);
  process.kill(process.pid, signal);
}
