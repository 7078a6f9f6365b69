// Health probes of docker-compose.yml, run inside the image (node only: no curl or wget there).
//   node docker/healthcheck.mjs ready <url>             the gateway's /readyz answers 200
//   node docker/healthcheck.mjs chain <rpc-url> <id>    the node answers eth_chainId with <id>
// Exit 0 healthy, 1 not (with the reason on stderr, which `docker inspect` shows).
const [probe, url, expected] = process.argv.slice(2);
const TIMEOUT_MS = 2_000;

function fail(reason) {
  process.stderr.write(`${probe} ${url}: ${reason}\n`);
  process.exit(1);
}

async function ready() {
  const response = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) });
  if (response.status !== 200) fail(`status ${response.status}`);
}

async function chain() {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  const body = await response.json();
  const id = typeof body?.result === "string" ? Number.parseInt(body.result, 16) : Number.NaN;
  if (id !== Number(expected)) fail(`eth_chainId answered ${JSON.stringify(body?.result ?? body?.error ?? body)}, expected ${expected}`);
}

const probes = { ready, chain };
if (!(probe in probes) || url === undefined || (probe === "chain" && expected === undefined)) {
  process.stderr.write("usage: healthcheck.mjs ready <url> | chain <rpc-url> <chain-id>\n");
  process.exit(2);
}
await probes[probe]().catch((error) => fail(error instanceof Error ? error.message : String(error)));
