import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath, pathToFileURL } from "node:url";
import { describe, expect, it, vi } from "vitest";
import { startDevChain } from "../src/devnet/chain.ts";
import { HardhatStartError, findFreePort, startHardhatNode } from "../src/devnet/hardhat.ts";

const repoRoot = dirname(dirname(fileURLToPath(import.meta.url)));
const chainModule = pathToFileURL(join(repoRoot, "src", "devnet", "chain.ts")).href;

/** The watchdog checks every 500 ms; leave room for a loaded machine. */
const GONE_WITHIN_MS = 5_000;

/**
 * True while `pid` is a live process. A zombie (exited, not yet reaped) counts as gone: where
 * PID 1 does not reap orphans, as in some containers, an orphan that exited stays a zombie.
 */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ESRCH") return false;
    throw error;
  }
  const stat = `/proc/${pid}/stat`;
  if (!existsSync(stat)) return true;
  // Field 3, after the parenthesised command name, is the state; Z = zombie, X = dead.
  const state = readFileSync(stat, "utf8").replace(/^.*\)\s+/s, "")[0];
  return state !== "Z" && state !== "X";
}

/**
 * A throwaway Node process that starts a devnet, prints the hardhat pid, and idles: the stand-in
 * for a Tollgate process that gets killed.
 */
async function spawnDevnetOwner(): Promise<{ owner: ChildProcess; hardhatPid: number; ownerExit: Promise<NodeJS.Signals | number | null> }> {
  const script = [
    `const { startDevChain } = await import(${JSON.stringify(chainModule)});`,
    "const dev = await startDevChain();",
    "process.stdout.write(JSON.stringify({ hardhatPid: dev.pid }) + '\\n');",
  ].join("\n");
  const owner = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    cwd: repoRoot,
    stdio: ["ignore", "pipe", "inherit"],
  });
  const ownerExit = new Promise<NodeJS.Signals | number | null>((resolve) =>
    owner.once("exit", (code, signal) => resolve(signal ?? code)),
  );
  const stdout = owner.stdout;
  if (stdout === null) throw new Error("no stdout pipe");
  const firstLine = new Promise<string>((resolve) => createInterface({ input: stdout }).once("line", resolve));
  const line = await Promise.race([
    firstLine,
    ownerExit.then((how) => Promise.reject(new Error(`devnet owner exited (${how}) before printing`))),
  ]);
  const { hardhatPid } = JSON.parse(line) as { hardhatPid: number };
  return { owner, hardhatPid, ownerExit };
}

describe("devnet lifecycle", () => {
  it("stop() ends the hardhat process, and a second stop() is harmless", async () => {
    const dev = await startDevChain();
    expect(isRunning(dev.pid)).toBe(true);

    await dev.stop();

    expect(() => process.kill(dev.pid, 0)).toThrow(expect.objectContaining({ code: "ESRCH" }));
    await expect(dev.stop()).resolves.toBeUndefined();
  });

  it("the hardhat node dies when the process that started it is killed with SIGKILL", async () => {
    const { owner, hardhatPid, ownerExit } = await spawnDevnetOwner();
    try {
      expect(isRunning(hardhatPid)).toBe(true);

      owner.kill("SIGKILL");
      expect(await ownerExit).toBe("SIGKILL");

      await vi.waitFor(() => expect(isRunning(hardhatPid)).toBe(false), { timeout: GONE_WITHIN_MS, interval: 100 });
    } finally {
      if (isRunning(hardhatPid)) process.kill(hardhatPid, "SIGKILL");
    }
  });

  it("a SIGTERM still ends the owning process (the handler does not swallow it) and the node with it", async () => {
    const { owner, hardhatPid, ownerExit } = await spawnDevnetOwner();
    try {
      owner.kill("SIGTERM");
      expect(await ownerExit).toBe("SIGTERM");

      await vi.waitFor(() => expect(isRunning(hardhatPid)).toBe(false), { timeout: GONE_WITHIN_MS, interval: 100 });
    } finally {
      if (isRunning(hardhatPid)) process.kill(hardhatPid, "SIGKILL");
    }
  });

  it("reports hardhat's own output when the node cannot start", async () => {
    // Hold the port with a plain TCP listener: hardhat fails to bind it and exits.
    const port = await findFreePort();
    const squatter: Server = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => squatter.listen(port, "127.0.0.1", resolve));
    try {
      const failure = await startHardhatNode({ port }).then(
        (node) => node.stop(),
        (error: unknown) => error,
      );
      expect(failure).toBeInstanceOf(HardhatStartError);
      expect((failure as HardhatStartError).message).toMatch(/exited before it was ready/);
      expect((failure as HardhatStartError).output).toMatch(/EADDRINUSE|address already in use/i);
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
  });
});
