/**
 * Compiles the gateway for `npm start`: src/main.ts and everything it imports from this repo,
 * bundled into dist/main.js (packages stay in node_modules). Plain JavaScript so it runs before
 * anything is compiled; esbuild takes well under a second. Running compiled JavaScript instead of
 * `node --import tsx` saves the loader's thread and memory and the per-import() hop through it
 * (bench/README.md). Tests, benchmarks and the other scripts keep running the sources through tsx.
 */
import { copyFileSync, mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const out = join(root, "dist");

/**
 * Files the sources find at run time through `new URL(name, import.meta.url)`; in the bundle
 * import.meta.url is dist/main.js, so each goes beside it.
 */
const RUNTIME_FILES = ["src/catalog/default-catalog.json", "src/devnet/hardhat-child.cjs"];

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
await build({
  absWorkingDir: root,
  entryPoints: ["src/main.ts"],
  outfile: join(out, "main.js"),
  bundle: true,
  packages: "external",
  platform: "node",
  format: "esm",
  target: "node20",
  sourcemap: true,
  logLevel: "warning",
});
for (const file of RUNTIME_FILES) copyFileSync(join(root, file), join(out, file.slice(file.lastIndexOf("/") + 1)));
