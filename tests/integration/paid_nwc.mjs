// paid_nwc.mjs: a paid job where no demo wallet is involved: the node's wallet is a Nostr
// Wallet Connect connection to an independent NIP-47 service (@getalby/sdk NWCWalletService
// with a wallet in memory, tests/integration/lib/memory_wallet.mjs), and the buyer pays the
// invoice with `pylon ask --pay nwc` through a second connection to the same service. The
// wallet service lives on its own relay, which is not in the node's [relays] urls: the node
// must reach it anyway (the wallet actor asks the relay actor to add it). Real relays, real
// daemon, the llama-server stub. Prints TAP.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { startMemoryWallet } from './lib/memory_wallet.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const pylon = join(root, process.env.PYLON_BUILD || 'build/san', 'pylon');
const dir = mkdtempSync(join(tmpdir(), 'pylon-nwc-'));
const env = { ...process.env, PYLON_CONFIG_DIR: join(dir, 'node') };
let n = 0, failed = 0;
const report = (name, ok, detail) => {
    n++;
    console.log(`${ok ? 'ok' : 'not ok'} ${n} - ${name}`);
    if (!ok) { failed++; if (detail) console.log(`# ${detail}`); }
};
const children = [];
const cleanup = () => {
    spawnSync(pylon, ['stop'], { env });
    children.forEach((c) => c.kill('SIGKILL'));
    rmSync(dir, { recursive: true, force: true });
};
process.on('exit', cleanup);

function listening(args) {
    const child = spawn('node', args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(child);
    return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${args[0]} did not start`)), 15000);
        createInterface({ input: child.stdout }).on('line', (line) => {
            const m = line.match(/^LISTENING (\d+)/);
            if (m) { clearTimeout(timer); resolve(Number(m[1])); }
        });
    });
}
// Asynchronous on purpose: the wallet service lives in this process and must keep answering
// while pylon runs (spawnSync would block its event loop).
const run = (args) => new Promise((resolve) => {
    const child = spawn(pylon, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('close', (status) => resolve({ status, stdout, stderr }));
});

const relayPort = await listening(['tests/node/relay.mjs', '--quiet']);
const relayUrl = `ws://127.0.0.1:${relayPort}`;              // the jobs' relay
const walletRelayPort = await listening(['tests/node/relay.mjs', '--quiet']);
const walletRelayUrl = `ws://127.0.0.1:${walletRelayPort}`;  // the wallet service's relay
const stubPort = await listening(['tests/stubs/backend_stub.mjs', '--api', 'llama', '--slots', '2']);
const wallet = await startMemoryWallet(walletRelayUrl);
const nodeUri = await wallet.uri(), buyerUri = await wallet.uri();

const init = await run(['init', '--no-passphrase', '--words', '12']);
const npub = (init.stdout.match(/^npub: (\S+)/m) || [])[1];
report('a node identity', init.status === 0 && npub, init.stderr);
writeFileSync(join(dir, 'node', 'config.toml'), `
[relays]
urls = ["${relayUrl}"]
[pricing]
base_price_sats = 21
price_per_1k_tokens = 0
[backends.llamacpp]
url = "http://127.0.0.1:${stubPort}"
models = ["gpt_oss_20b"]
[wallet]
backend = "nwc"
nwc_uri = "${nodeUri}"
`, { mode: 0o600 });
const start = await run(['start']);
report('the node starts with an NWC wallet', start.status === 0, start.stderr);
for (let i = 0; i < 100; i++) {      // until the backend's first probe is in
    if (((await run(['--json', 'status'])).stdout || '').includes('"available":true')) break;
    await new Promise((r) => setTimeout(r, 100));
}

const ask = await run(['--json', 'ask', '--to', npub, '--pay', 'nwc', '--nwc-uri', buyerUri, '--timeout', '60', 'Hello over NWC']);
let answer = {};
try { answer = JSON.parse(ask.stdout); } catch { /* reported below */ }
report('pylon ask --pay nwc gets the result', ask.status === 0 && answer.ok === true, ask.stdout + ask.stderr);
report('the invoice was the wallet service\'s own, for 21 sats',
    answer.amount_msats === '21000' && [...wallet.invoices.values()].some((tx) => tx.invoice === answer.bolt11 && tx.state === 'settled'),
    JSON.stringify(answer));
report('the result is the stub\'s text', typeof answer.result?.content === 'string' && answer.result.content.length > 0,
    JSON.stringify(answer.result));
// A buyer who allows at most 20 sats is not made to pay a 21-sat invoice.
const capped = await run(['--json', 'ask', '--to', npub, '--pay', 'nwc', '--nwc-uri', buyerUri,
    '--max-sats', '20', '--timeout', '60', 'Too dear']);
let refusal = {};
try { refusal = JSON.parse(capped.stdout); } catch { /* reported below */ }
report('an invoice over --max-sats is not paid', capped.status === 1 && refusal.ok === false
    && /more than --max-sats 20/.test(refusal.error || '')
    && [...wallet.invoices.values()].filter((tx) => tx.state === 'settled').length === 1, capped.stdout);
const earnings = JSON.parse((await run(['--json', 'earnings'])).stdout || '{}');
report('the node booked 21 sats once', earnings.total_msats === 21000, JSON.stringify(earnings));
const status = JSON.parse((await run(['--json', 'status'])).stdout || '{}');
const urls = (status.actors?.relay?.relays || []).map((r) => r.url);
report('the node reached the wallet\'s relay though it is not in [relays] urls',
    urls.includes(walletRelayUrl) && urls.includes(relayUrl), JSON.stringify(urls));
if (failed) {   // the node's own account of what went wrong
    console.log((await run(['status'])).stdout.split('\n').map((l) => `# ${l}`).join('\n'));
    const log = spawnSync('tail', ['-25', join(dir, 'node', 'pylon.log')], { encoding: 'utf8' }).stdout;
    console.log(log.split('\n').map((l) => `# ${l}`).join('\n'));
}
wallet.close();
console.log(`1..${n}`);
process.exit(failed ? 1 : 0);
