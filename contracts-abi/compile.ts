/**
 * Compiles the devnet-only contracts in contracts-abi/src with solc-js (the pinned npm `solc`, so
 * no compiler download) and writes contracts-abi/artifacts/<Name>.json and contracts-abi/abi.ts.
 * Both outputs are committed: nothing at run time or test time needs a compiler.
 *
 *   npm run compile:contracts
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import solc from "solc";
import { z } from "zod";

const SOLC_VERSION = "0.8.37";

/**
 * cancun: OpenZeppelin 5.7's SignatureChecker (the ERC-1271 path) and Bytes use MCOPY (EIP-5656),
 * and nothing here needs a later EVM. Hardhat 2.28's default hardfork, osaka, includes cancun.
 */
const SETTINGS = {
  optimizer: { enabled: true, runs: 200 },
  evmVersion: "cancun",
} as const;

interface ContractSpec {
  /** Solidity source in contracts-abi/src, and the contract's name inside it. */
  name: string;
  /** Export names in abi.ts. */
  abiExport: string;
  bytecodeExport: { name: string; field: "bytecode" | "deployedBytecode" };
}

const CONTRACTS: readonly ContractSpec[] = [
  // Deployed with a constructor, so the creation bytecode is what callers need.
  { name: "DevUSDC", abiExport: "devUsdcAbi", bytecodeExport: { name: "devUsdcBytecode", field: "bytecode" } },
  // Installed with hardhat_setCode at their canonical addresses, so the runtime bytecode.
  {
    name: "Multicall3",
    abiExport: "multicall3Abi",
    bytecodeExport: { name: "multicall3DeployedBytecode", field: "deployedBytecode" },
  },
  { name: "Permit2", abiExport: "permit2Abi", bytecodeExport: { name: "permit2DeployedBytecode", field: "deployedBytecode" } },
  {
    name: "x402UptoPermit2Proxy",
    abiExport: "x402UptoPermit2ProxyAbi",
    bytecodeExport: { name: "x402UptoPermit2ProxyDeployedBytecode", field: "deployedBytecode" },
  },
];

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

const Hex = z.string().regex(/^[0-9a-f]*$/);

const SolcOutput = z.object({
  errors: z
    .array(z.object({ severity: z.enum(["error", "warning", "info"]), formattedMessage: z.string() }))
    .optional(),
  contracts: z
    .record(
      z.string(),
      z.record(
        z.string(),
        z.object({
          abi: z.array(z.record(z.string(), z.unknown())),
          evm: z.object({
            bytecode: z.object({ object: Hex }),
            deployedBytecode: z.object({ object: Hex }),
          }),
        }),
      ),
    )
    .optional(),
});
type SolcOutput = z.infer<typeof SolcOutput>;

interface Artifact {
  contractName: string;
  abi: Record<string, unknown>[];
  bytecode: `0x${string}`;
  deployedBytecode: `0x${string}`;
  compiler: { name: "solc"; version: string; settings: typeof SETTINGS };
}

/** solc asks for every import it cannot find among the sources; packages come from node_modules. */
function findImport(path: string): { contents: string } | { error: string } {
  try {
    return { contents: readFileSync(require.resolve(path), "utf8") };
  } catch (error) {
    return { error: `cannot resolve ${path}: ${(error as Error).message}` };
  }
}

function compile(): { artifacts: Artifact[]; version: string } {
  const version = solc.version() as string;
  if (!version.startsWith(`${SOLC_VERSION}+`)) {
    throw new Error(`expected solc ${SOLC_VERSION}, node_modules has ${version}; run npm ci`);
  }

  const sources = Object.fromEntries(
    CONTRACTS.map((c) => [`${c.name}.sol`, { content: readFileSync(join(here, "src", `${c.name}.sol`), "utf8") }]),
  );
  const input = {
    language: "Solidity",
    sources,
    settings: {
      ...SETTINGS,
      outputSelection: { "*": { "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"] } },
    },
  };

  const raw: unknown = JSON.parse(solc.compile(JSON.stringify(input), { import: findImport }) as string);
  const output: SolcOutput = SolcOutput.parse(raw);

  const problems = output.errors ?? [];
  for (const warning of problems.filter((p) => p.severity !== "error")) console.warn(warning.formattedMessage);
  const errors = problems.filter((p) => p.severity === "error");
  if (errors.length > 0) {
    throw new Error(`solc failed:\n${errors.map((e) => e.formattedMessage).join("\n")}`);
  }

  const artifacts = CONTRACTS.map((spec): Artifact => {
    const compiled = output.contracts?.[`${spec.name}.sol`]?.[spec.name];
    if (compiled === undefined) throw new Error(`solc produced no output for ${spec.name}`);
    return {
      contractName: spec.name,
      abi: compiled.abi,
      bytecode: `0x${compiled.evm.bytecode.object}`,
      deployedBytecode: `0x${compiled.evm.deployedBytecode.object}`,
      compiler: { name: "solc", version, settings: SETTINGS },
    };
  });
  return { artifacts, version };
}

function renderAbiModule(artifacts: Artifact[], version: string): string {
  const lines = [
    `// Generated by contracts-abi/compile.ts from contracts-abi/src/*.sol (solc ${version}).`,
    "// Do not edit: change the Solidity and run `npm run compile:contracts`.",
    "// The `as const` arrays give viem full argument and return typing without importing JSON.",
    "",
  ];
  CONTRACTS.forEach((spec, i) => {
    const artifact = artifacts[i];
    if (artifact === undefined) throw new Error(`missing artifact for ${spec.name}`);
    lines.push(
      `export const ${spec.abiExport} = ${JSON.stringify(artifact.abi, null, 2)} as const;`,
      "",
      `export const ${spec.bytecodeExport.name}: \`0x\${string}\` =\n  "${artifact[spec.bytecodeExport.field]}";`,
      "",
    );
  });
  return lines.join("\n");
}

function main(): void {
  const { artifacts, version } = compile();
  const artifactsDir = join(here, "artifacts");
  mkdirSync(artifactsDir, { recursive: true });
  for (const artifact of artifacts) {
    writeFileSync(join(artifactsDir, `${artifact.contractName}.json`), `${JSON.stringify(artifact, null, 2)}\n`);
  }
  writeFileSync(join(here, "abi.ts"), renderAbiModule(artifacts, version));
  for (const a of artifacts) {
    console.log(`${a.contractName}: ${(a.deployedBytecode.length - 2) / 2} bytes runtime code`);
  }
  console.log(`wrote contracts-abi/artifacts/*.json and contracts-abi/abi.ts (solc ${version})`);
}

main();
