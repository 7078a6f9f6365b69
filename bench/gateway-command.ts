import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";

const PackageScripts = z.object({ scripts: z.object({ build: z.string(), start: z.string() }) });

/**
 * The gateway exactly as `npm start` runs it: builds dist/ once (the `build` script), then returns
 * the node arguments of the start script's last command (`... && node <flags> dist/main.js`), so a
 * benchmark measures the same compiled code and the same V8 flags, with the node process itself as
 * the child (no npm or shell in between, whose CPU and memory would blur the figures).
 */
export function gatewayNodeArgs(repoRoot: string): string[] {
  const { scripts } = PackageScripts.parse(JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")));
  const last = scripts.start.split("&&").at(-1)?.trim().split(/\s+/) ?? [];
  if (last[0] !== "node") throw new Error(`package.json "start" should end with "node ... dist/main.js", not ${JSON.stringify(scripts.start)}`);
  execFileSync("npm", ["run", "--silent", "build"], { cwd: repoRoot, stdio: "inherit" });
  return last.slice(1);
}
