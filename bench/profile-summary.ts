/**
 * Where a V8 CPU profile (`node --cpu-prof`) spent its time: the top functions by self time, the
 * same rolled up per file or package, and the project's own functions by inclusive time (self
 * plus everything they called), optionally only for samples inside given time windows (the
 * load phases compare.ts records; both use the monotonic clock in microseconds).
 *
 *   npx tsx bench/profile-summary.ts <file.cpuprofile> [--windows <windows.json>] [--top 20]
 *
 * compare.ts --profile writes windows.json (its load phases) beside each profile.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { z } from "zod";

/** The Chrome DevTools Protocol `Profiler.Profile` shape that `--cpu-prof` writes. */
const CpuProfile = z.object({
  nodes: z.array(
    z.object({
      id: z.number(),
      callFrame: z.object({ functionName: z.string(), url: z.string(), lineNumber: z.number() }),
      children: z.array(z.number()).optional(),
    }),
  ),
  startTime: z.number(),
  endTime: z.number(),
  samples: z.array(z.number()),
  timeDeltas: z.array(z.number()),
});
export type CpuProfile = z.infer<typeof CpuProfile>;

/** The load phases of one profiled process, as compare.ts --profile records them. */
export const ProfileWindows = z.array(
  z.object({ title: z.string(), requests: z.number(), windows: z.array(z.object({ fromUs: z.number(), toUs: z.number() })) }),
);
export type ProfileWindows = z.infer<typeof ProfileWindows>;

export interface TimeWindow {
  fromUs: number;
  toUs: number;
}

export interface Hotspot {
  /** `file:function:line`, file relative to the repository (or a package name). */
  name: string;
  ms: number;
  /** Share of busy (non-idle) sampled time. */
  percent: number;
}

export interface ProfileSummary {
  busyMs: number;
  idleMs: number;
  selfTop: Hotspot[];
  byFile: Hotspot[];
  /** Functions under src/ (or bundled from it into dist/), by inclusive time: what the project's own code is responsible for. */
  projectInclusive: Hotspot[];
  /**
   * Every busy sample charged to the innermost src/ function on its stack (so library and
   * Node-core time lands on the project code that asked for it); samples with no src/ frame (an
   * async continuation resumed inside a library) are charged to the innermost package on the
   * stack, or to Node core.
   */
  byProjectCaller: Hotspot[];
}

const REPO_ROOT = resolve(fileURLToPath(new URL("..", import.meta.url)));
const SPECIAL = new Set(["(idle)", "(program)", "(garbage collector)", "(root)"]);

/**
 * The gateway runs as dist/main.js, the bundle of src/ (scripts/build.mjs): its functions keep
 * their source names, so they count as project code like src/ files run through tsx.
 */
function isProject(file: string): boolean {
  return ["src/", "dist/", "bench/", "test/"].some((folder) => file.startsWith(folder));
}

/**
 * `file:function`, plus the line for packages' compiled JavaScript and for the bundle. Files run
 * through tsx, whose output positions do not match the TypeScript source, get no line.
 */
function frameName(file: string, functionName: string, lineNumber: number): string {
  const line = !isProject(file) || file.startsWith("dist/");
  return `${file || "(builtin)"}:${functionName || "(anonymous)"}${line ? `:${lineNumber + 1}` : ""}`;
}

/** `/…/node_modules/@noble/curves/esm/abstract/weierstrass.js` -> `@noble/curves/esm/abstract/weierstrass.js`. */
function fileOf(url: string): string {
  if (url === "") return "";
  const path = url.startsWith("file://") ? fileURLToPath(url) : url;
  const modules = path.lastIndexOf("/node_modules/");
  if (modules >= 0) return path.slice(modules + "/node_modules/".length);
  return path.startsWith(`${REPO_ROOT}/`) ? path.slice(REPO_ROOT.length + 1) : path;
}

/** The package (or project folder) a file belongs to, for the per-file roll-up. */
function ownerOf(file: string): string {
  if (file === "") return "(native or V8 builtin)";
  if (file.startsWith("node:")) return "node: (core)";
  if (isProject(file)) return file;
  const parts = file.split("/");
  return parts[0]?.startsWith("@") === true ? `${parts[0]}/${parts[1] ?? ""}` : (parts[0] ?? file);
}

export function summariseProfile(profile: CpuProfile, windows: readonly TimeWindow[] = [], top = 20): ProfileSummary {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

  const self = new Map<string, number>();
  const owners = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const callers = new Map<string, number>();
  let busyUs = 0;
  let idleUs = 0;
  const meanDelta = (profile.endTime - profile.startTime) / Math.max(1, profile.samples.length);
  let at = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    at += profile.timeDeltas[i] ?? 0;
    // A sample stands for the time until the next one (as DevTools counts it).
    const duration = profile.timeDeltas[i + 1] ?? meanDelta;
    if (windows.length > 0 && !windows.some((w) => at >= w.fromUs && at <= w.toUs)) continue;
    const node = byId.get(profile.samples[i] ?? -1);
    if (node === undefined) continue;
    const fn = node.callFrame.functionName;
    if (fn === "(idle)") {
      idleUs += duration;
      continue;
    }
    busyUs += duration;
    const file = fileOf(node.callFrame.url);
    const key = SPECIAL.has(fn) ? fn : frameName(file, fn, node.callFrame.lineNumber);
    self.set(key, (self.get(key) ?? 0) + duration);
    const owner = SPECIAL.has(fn) ? fn : ownerOf(file);
    owners.set(owner, (owners.get(owner) ?? 0) + duration);

    const seen = new Set<string>();
    let caller: string | undefined;
    let viaPackage: string | undefined;
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const frame = byId.get(id)?.callFrame;
      if (frame === undefined) break;
      const frameFile = fileOf(frame.url);
      if (viaPackage === undefined && frame.url.includes("/node_modules/")) viaPackage = ownerOf(frameFile);
      if (!frameFile.startsWith("src/") && !frameFile.startsWith("dist/")) continue;
      const frameKey = frameName(frameFile, frame.functionName, frame.lineNumber);
      caller ??= frameKey;
      if (seen.has(frameKey)) continue;
      seen.add(frameKey);
      inclusive.set(frameKey, (inclusive.get(frameKey) ?? 0) + duration);
    }
    const callerKey = caller ?? `(no src/ frame on the stack) ${viaPackage ?? owner}`;
    callers.set(callerKey, (callers.get(callerKey) ?? 0) + duration);
  }
  const rank = (map: Map<string, number>): Hotspot[] =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, ms: us / 1000, percent: busyUs === 0 ? 0 : (100 * us) / busyUs }));
  return { busyMs: busyUs / 1000, idleMs: idleUs / 1000, selfTop: rank(self), byFile: rank(owners), projectInclusive: rank(inclusive), byProjectCaller: rank(callers) };
}

export function readProfile(path: string): CpuProfile {
  return CpuProfile.parse(JSON.parse(readFileSync(path, "utf8")));
}

export function formatSummary(title: string, summary: ProfileSummary, perRequestDivisor?: number): string {
  const per = (ms: number) => (perRequestDivisor === undefined ? "" : `  ${(ms / perRequestDivisor).toFixed(3).padStart(7)} ms/req`);
  const block = (heading: string, rows: Hotspot[]) =>
    [`  ${heading}`, ...rows.map((r) => `    ${r.ms.toFixed(1).padStart(9)} ms ${r.percent.toFixed(1).padStart(5)}%${per(r.ms)}  ${r.name}`)].join("\n");
  return [
    `${title}: ${summary.busyMs.toFixed(0)} ms busy, ${summary.idleMs.toFixed(0)} ms idle`,
    block("top self time", summary.selfTop),
    block("self time by file / package", summary.byFile),
    block("project functions (src/) by inclusive time", summary.projectInclusive),
    block("self time charged to the innermost src/ caller", summary.byProjectCaller),
  ].join("\n");
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { windows: { type: "string" }, top: { type: "string", default: "20" } },
  });
  const [file] = positionals;
  if (file === undefined) {
    process.stderr.write("usage: npx tsx bench/profile-summary.ts <file.cpuprofile> [--windows <windows.json>] [--top 20]\n");
    process.exit(2);
  }
  if (values.windows === undefined) {
    process.stdout.write(`${formatSummary(file, summariseProfile(readProfile(file), [], Number(values.top)))}\n`);
  } else {
    const phases = ProfileWindows.parse(JSON.parse(readFileSync(values.windows, "utf8")));
    for (const phase of phases) {
      process.stdout.write(`${formatSummary(`${phase.title} (${phase.requests} requests)`, summariseProfile(readProfile(file), phase.windows, Number(values.top)), phase.requests)}\n\n`);
    }
  }
}
