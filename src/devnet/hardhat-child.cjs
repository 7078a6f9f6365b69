// Runs the hardhat CLI inside this process, under a watchdog: as soon as the Tollgate process
// that spawned it is gone, this process exits too. That covers the one case the parent cannot
// handle itself, its own death by SIGKILL (or a crash that skips "exit" handlers).
//
// Usage (see hardhat.ts): node hardhat-child.cjs <path to hardhat/internal/cli/cli.js> <args...>
// Environment: TOLLGATE_DEVNET_PARENT_PID = the spawner's pid,
//              TOLLGATE_DEVNET_TMPDIR = the config directory to remove when the watchdog fires.
"use strict";

const { rmSync } = require("node:fs");

const parentPid = Number(process.env.TOLLGATE_DEVNET_PARENT_PID);
const tmpDir = process.env.TOLLGATE_DEVNET_TMPDIR;
const [cliPath, ...hardhatArgs] = process.argv.slice(2);

if (!Number.isInteger(parentPid) || parentPid <= 0 || cliPath === undefined) {
  console.error("hardhat-child.cjs: needs TOLLGATE_DEVNET_PARENT_PID and the hardhat cli path");
  process.exit(2);
}

const CHECK_EVERY_MS = 500;

function parentIsGone() {
  // An orphan is re-parented (to init or a subreaper) the moment its parent dies, even while the
  // dead parent is still an unreaped zombie that kill(pid, 0) would report as alive.
  if (process.ppid !== parentPid) return true;
  try {
    process.kill(parentPid, 0);
    return false;
  } catch (error) {
    // EPERM means the pid exists (owned by someone else): not proof of death.
    return error.code === "ESRCH";
  }
}

setInterval(() => {
  if (!parentIsGone()) return;
  if (tmpDir) rmSync(tmpDir, { recursive: true, force: true });
  process.exit(0);
}, CHECK_EVERY_MS).unref();

// The hardhat CLI parses process.argv.slice(2) and starts as soon as it is loaded.
process.argv = [process.argv[0], cliPath, ...hardhatArgs];
require(cliPath);
