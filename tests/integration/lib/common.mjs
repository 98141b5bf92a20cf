// common.mjs: what the end-to-end process tests share (not a test: scripts/run-tests.sh runs
// only the files directly in tests/integration).
//
//   - TAP output (`ok N - name` / `not ok N - name` with `# ` diagnostics);
//   - children (relays, the llama-server stub) that print `LISTENING <port>`, killed with
//     SIGKILL when the test process exits, whatever happens; daemons started with
//     `pylon start` (detached, not our children) are remembered by pid and killed too;
//   - a Pylon node in its own config dir: init, config.toml, start, SIGKILL, restart, the
//     `--json` books, and the sanitizer check (the detached daemon's stderr is /dev/null, so
//     ASan/UBSan write to log_path files in the node's dir, which are checked with pylon.log);
//   - a buyer written against nostr-tools and ws only: its own key, its own relay
//     connections (reconnecting), signature checks on every event it receives, NIP-44 and
//     NIP-04 for encrypted requests.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const require = createRequire(new URL('../../node/package.json', import.meta.url));
const { WebSocket } = require('ws');
const { finalizeEvent, verifyEvent, generateSecretKey, getPublicKey } = require('nostr-tools/pure');
const nip44 = require('nostr-tools/nip44');
const nip04 = require('nostr-tools/nip04');
export const bolt11 = require('bolt11');
export const REGTEST = { bech32: 'bcrt', pubKeyHash: 0x6f, scriptHash: 0xc4, validWitnessVersions: [0, 1] };

export const root = fileURLToPath(new URL('../../..', import.meta.url));
const build = process.env.PYLON_BUILD || 'build/san';
export const pylonBin = path.resolve(root, build, 'pylon');

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// ---- TAP -------------------------------------------------------------------------------------
let testNo = 0, failures = 0;
export function report(name, problems) {
    testNo++;
    if (problems.length === 0)
        console.log(`ok ${testNo} - ${name}`);
    else {
        failures++;
        console.log(`not ok ${testNo} - ${name}`);
        for (const p of problems.slice(0, 8))
            console.log(`# ${String(p).split('\n').join('\n# ')}`);
        if (problems.length > 8)
            console.log(`# ... and ${problems.length - 8} more`);
    }
}
export const note = (text) => console.log(`# ${text}`);
// Runs a named check: its body returns (or fills) a list of problems; a throw is a problem too.
export async function check(name, body) {
    const problems = [];
    try {
        await body(problems);
    } catch (e) {
        problems.push(`threw: ${e && e.stack ? e.stack.split('\n').slice(0, 3).join(' | ') : e}`);
    }
    report(name, problems);
    return problems.length === 0;
}
export function finish() {
    console.log(`1..${testNo}`);
    process.exitCode = failures ? 1 : 0;
    cleanup();
    process.exit(process.exitCode);
}

// ---- processes -------------------------------------------------------------------------------
const children = new Set();
const daemonPids = new Set();
const tempDirs = [];
let keepTemp = !!process.env.PYLON_KEEP_TEST_DIR;
export function keepTempOnFailure() { if (failures) keepTemp = true; }
function cleanup() {
    for (const pid of daemonPids) {
        try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }
    for (const child of children) {
        try { child.kill('SIGKILL'); } catch { /* gone */ }
    }
    if (failures) keepTemp = true;
    for (const dir of tempDirs) {
        if (keepTemp) console.log(`# kept ${dir}`);
        else rmSync(dir, { recursive: true, force: true });
    }
    tempDirs.length = 0;
}
process.on('exit', cleanup);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'])
    process.on(signal, () => { console.log(`# ${signal}: stopping`); process.exit(1); });
process.on('uncaughtException', (e) => {
    console.log(`not ok ${++testNo} - uncaught: ${e && e.stack ? e.stack.split('\n').slice(0, 4).join(' | ') : e}`);
    process.exit(1);
});
process.on('unhandledRejection', (e) => {
    console.log(`not ok ${++testNo} - unhandled rejection: ${e && e.stack ? e.stack.split('\n').slice(0, 4).join(' | ') : e}`);
    process.exit(1);
});

export function makeTempDir(prefix) {
    const dir = mkdtempSync(path.join(tmpdir(), prefix));
    tempDirs.push(dir);
    return dir;
}

// Polls fn (sync or async) every `every` ms until it returns a truthy value; throws after ms.
export async function waitUntil(fn, ms, what, every = 50) {
    const deadline = Date.now() + ms;
    for (;;) {
        const value = await fn();
        if (value) return value;
        if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
        await sleep(every);
    }
}

// A child that prints lines on stdout; waitLine(pred, ms) resolves with the first match.
export function startChild(cmd, args, { env = {}, logFile = null } = {}) {
    const child = spawn(cmd, args, { cwd: root, env: { ...process.env, ...env },
                                     stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    child.on('exit', () => children.delete(child));
    const lines = [];
    let waiters = [];
    const errLines = [];
    createInterface({ input: child.stdout }).on('line', (line) => {
        lines.push(line);
        waiters = waiters.filter((w) => !w(line));
    });
    createInterface({ input: child.stderr }).on('line', (line) => {
        errLines.push(line);
        if (errLines.length > 200) errLines.shift();
    });
    child.stderrTail = () => errLines.slice(-10).join('\n');
    child.waitLine = (pred, ms) => new Promise((resolve, reject) => {
        const found = lines.find(pred);
        if (found !== undefined) return resolve(found);
        const timer = setTimeout(() => reject(new Error(`${cmd} ${args[0]}: no matching line within ${ms} ms; stderr: ${child.stderrTail()}`)), ms);
        waiters.push((line) => {
            if (!pred(line)) return false;
            clearTimeout(timer);
            resolve(line);
            return true;
        });
    });
    child.exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    return child;
}

async function listeningPort(child) {
    const line = await child.waitLine((l) => l.startsWith('LISTENING '), 15000);
    return Number(line.split(' ')[1]);
}

// A real relay (tests/node/relay.mjs) with an SQLite file, restartable on the same port.
export async function startRelay(dir, name) {
    const db = path.join(dir, `${name}.db`);
    const relay = { name, db, port: 0, child: null };
    relay.start = async () => {
        relay.child = startChild('node', ['tests/node/relay.mjs', '--port', String(relay.port), '--db', db, '--quiet']);
        relay.port = await listeningPort(relay.child);
        relay.url = `ws://127.0.0.1:${relay.port}`;
    };
    relay.stop = async () => {
        if (!relay.child) return;
        const child = relay.child;
        relay.child = null;
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await child.exited;
        clearTimeout(timer);
    };
    await relay.start();
    return relay;
}

// The llama-server stub; config(obj) changes its flags live, stats() reads its counters.
export async function startStub(args) {
    const child = startChild('node', ['tests/stubs/backend_stub.mjs', '--api', 'llama', ...args]);
    const port = await listeningPort(child);
    const url = `http://127.0.0.1:${port}`;
    const post = async (p, body) => {
        const res = await fetch(url + p, { method: 'POST', body: JSON.stringify(body ?? {}) });
        if (!res.ok) throw new Error(`stub ${p}: HTTP ${res.status}`);
        return res.json();
    };
    return {
        child, url,
        config: (obj) => post('/__stub/config', obj),
        reset: () => post('/__stub/reset'),
        stats: async () => (await fetch(url + '/__stub/stats')).json(),
    };
}

// A TCP proxy in front of a relay (or the backend) for the node's connections: freeze() drops
// what the node sends (its publishes never reach the relay) while the relay's events still
// reach the node; cut() closes every connection; thaw() lets new bytes through again; with
// delayMs set, each new connection is held that long before it is connected (a slow server).
// targetPort: a number, or a function giving it (a relay restarted keeps its port anyway).
export async function startProxy(targetPort) {
    const sockets = new Set();
    const proxy = { frozen: false, dropped: 0, delayMs: 0 };
    const server = net.createServer((client) => {
        sockets.add(client);
        const held = [];
        let upstream = null;
        const close = () => { client.destroy(); upstream?.destroy(); sockets.delete(client); sockets.delete(upstream); };
        client.on('data', (data) => {
            if (proxy.frozen) proxy.dropped += data.length;
            else if (upstream) upstream.write(data);
            else held.push(data);
        });
        client.on('error', close);
        client.on('close', close);
        const connect = () => {
            if (client.destroyed) return;
            upstream = net.connect(typeof targetPort === 'function' ? targetPort() : targetPort, '127.0.0.1');
            sockets.add(upstream);
            held.splice(0).forEach((data) => upstream.write(data));
            upstream.on('data', (data) => client.write(data));
            upstream.on('error', close);
            upstream.on('close', close);
        };
        if (proxy.delayMs > 0) setTimeout(connect, proxy.delayMs);
        else connect();
    });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    proxy.port = server.address().port;
    proxy.url = `ws://127.0.0.1:${proxy.port}`;
    proxy.freeze = () => { proxy.frozen = true; };
    proxy.thaw = () => { proxy.frozen = false; };
    proxy.cut = () => { for (const s of sockets) s.destroy(); sockets.clear(); };
    proxy.close = () => { proxy.cut(); server.close(); };
    return proxy;
}

// Runs the pylon command; resolves {code, stdout, stderr} (never rejects on a non-zero exit).
export function runPylon(args, { env = {}, timeoutMs = 60000 } = {}) {
    return new Promise((resolve, reject) => {
        const child = spawn(pylonBin, args, { cwd: root, env: { ...process.env, ...env },
                                              stdio: ['ignore', 'pipe', 'pipe'] });
        children.add(child);
        let stdout = '', stderr = '';
        child.stdout.on('data', (d) => { stdout += d; });
        child.stderr.on('data', (d) => { stderr += d; });
        const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
        child.on('error', reject);
        child.on('close', (code, signal) => {
            clearTimeout(timer);
            children.delete(child);
            resolve({ code: signal ? -1 : code, stdout, stderr, signal });
        });
    });
}

const pidAlive = (pid) => { try { process.kill(pid, 0); return true; } catch { return false; } };

// A Pylon node in its own config dir, driven through the pylon command as an operator would.
export class Node {
    constructor(dir) {
        this.dir = dir;
        this.sanPrefix = path.join(dir, 'sanitizer');
        // The daemon's stderr is /dev/null once detached: sanitizer reports go to files.
        const withLog = (opts, extra) => [opts, `log_path=${this.sanPrefix}`, extra].filter(Boolean).join(':');
        this.env = {
            PYLON_CONFIG_DIR: dir,
            ASAN_OPTIONS: withLog(process.env.ASAN_OPTIONS || 'detect_leaks=1:abort_on_error=0'),
            UBSAN_OPTIONS: withLog(process.env.UBSAN_OPTIONS || 'print_stacktrace=1:halt_on_error=1'),
        };
        this.pid = 0;
        this.starts = 0;
    }
    pylon(args, opts = {}) { return runPylon(args, { ...opts, env: { ...this.env, ...(opts.env || {}) } }); }
    async init() {
        const r = await this.pylon(['init', '--no-passphrase', '--words', '12']);
        if (r.code !== 0) throw new Error(`pylon init: exit ${r.code}: ${r.stderr}`);
        this.npub = (/^npub: (npub1\S+)/m.exec(r.stdout) || [])[1];
        if (!this.npub) throw new Error(`pylon init printed no npub: ${r.stdout}`);
        const { decode } = require('nostr-tools/nip19');
        this.pubkey = decode(this.npub).data;
    }
    // config.toml as scripts/demo.sh writes it, plus the test's own tables.
    writeConfig({ relays, backendUrl, extra = '' }) {
        writeFileSync(path.join(this.dir, 'config.toml'), `[provider]
name = "Pylon e2e node"
network = "regtest"

[relays]
urls = [${relays.map((u) => JSON.stringify(u)).join(', ')}]

[pricing]
base_price_sats = 10
price_per_1k_tokens = 1.0

[backends]
probe_retry_ms = 200

[backends.llamacpp]
url = "${backendUrl}"
models = ["gpt_oss_20b"]

[wallet]
backend = "demo"
${extra}
`, { mode: 0o600 });
    }
    async start() {
        const r = await this.pylon(['start'], { timeoutMs: 90000 });
        if (r.code !== 0) throw new Error(`pylon start: exit ${r.code}: ${r.stderr.trim()} ${r.stdout.trim()}`);
        this.pid = Number(readFileSync(path.join(this.dir, 'pylon.pid'), 'utf8').trim());
        daemonPids.add(this.pid);
        this.starts++;
    }
    async status() {
        const r = await this.pylon(['--json', 'status']);
        try { return JSON.parse(r.stdout); } catch { return null; }
    }
    // Until the job router counts the backend available (the first probe answered) and the
    // relays are connected.
    async waitReady(relayCount, ms = 30000) {
        return waitUntil(async () => {
            const s = await this.status();
            const router = s?.actors?.job_router, relay = s?.actors?.relay;
            return router && Object.values(router.backends || {}).some((b) => b.available)
                && relay && relay.connected >= relayCount && s;
        }, ms, 'the node to be ready (backend available, relays connected)', 100);
    }
    alive() { return this.pid > 0 && pidAlive(this.pid); }
    async kill9() {
        const pid = this.pid;
        process.kill(pid, 'SIGKILL');
        await waitUntil(() => !pidAlive(pid) || isZombie(pid), 10000, `pid ${pid} to die`, 10);
        daemonPids.delete(pid);
        this.pid = 0;
    }
    async stop() {
        if (!this.pid) return { code: 0 };
        const pid = this.pid;
        const r = await this.pylon(['stop'], { timeoutMs: 60000 });
        await waitUntil(() => !pidAlive(pid), 30000, `pid ${pid} to exit after stop`, 20).catch(() => {});
        daemonPids.delete(pid);
        this.pid = 0;
        return r;
    }
    async demoPay(invoice) {
        const r = await this.pylon(['--json', 'wallet', 'demo-pay', invoice], { timeoutMs: 30000 });
        // With --json the reason of a refusal is printed as JSON on stdout.
        return { ok: r.code === 0, code: r.code, out: r.stdout.trim(), err: `${r.stderr.trim()} ${r.code ? r.stdout.trim() : ''}`.trim() };
    }
    async jobs(limit = 1000) {
        const r = await this.pylon(['--json', 'jobs', '--limit', String(limit)]);
        if (r.code !== 0) throw new Error(`pylon jobs: exit ${r.code}: ${r.stderr}`);
        return JSON.parse(r.stdout);
    }
    async earnings() {
        const r = await this.pylon(['--json', 'earnings']);
        if (r.code !== 0) throw new Error(`pylon earnings: exit ${r.code}: ${r.stderr}`);
        return JSON.parse(r.stdout);
    }
    log() {
        const p = path.join(this.dir, 'pylon.log');
        return existsSync(p) ? readFileSync(p, 'utf8') : '';
    }
    // Sanitizer reports so far: in pylon.log, or in the log_path files of any run.
    sanitizerProblems() {
        const problems = [];
        const scan = (text, where) => {
            for (const line of text.split('\n'))
                if (/ERROR: (AddressSanitizer|LeakSanitizer)|runtime error|SUMMARY: (Address|Leak|Undefined)/.test(line))
                    problems.push(`${where}: ${line.trim()}`);
        };
        scan(this.log(), 'pylon.log');
        for (const f of readdirSync(this.dir))
            if (f.startsWith('sanitizer'))
                scan(readFileSync(path.join(this.dir, f), 'utf8'), f);
        return problems;
    }
}

function isZombie(pid) {
    try { return /^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8')); } catch { return true; }
}

// ---- the buyer -------------------------------------------------------------------------------

// One relay connection: subscriptions are sent again after each reconnect.
class RelayLink {
    constructor(url, onEvent, onProblem) {
        this.url = url;
        this.onEvent = onEvent;
        this.onProblem = onProblem;
        this.subs = new Map();          // id -> filters
        this.oks = new Map();           // event id -> [resolve]
        this.eose = new Map();          // sub id -> [resolve]
        this.closed = false;
        this.openWaiters = [];
        this.connect();
    }
    connect() {
        const ws = new WebSocket(this.url);
        this.ws = ws;
        ws.on('open', () => {
            for (const [id, filters] of this.subs) ws.send(JSON.stringify(['REQ', id, ...filters]));
            this.openWaiters.splice(0).forEach((w) => w());
        });
        ws.on('message', (data) => {
            let msg;
            try { msg = JSON.parse(data.toString()); } catch { return this.onProblem(`${this.url}: not JSON: ${data}`); }
            if (msg[0] === 'EVENT') this.onEvent(msg[2], this.url);
            else if (msg[0] === 'OK') {
                const waiters = this.oks.get(msg[1]) || [];
                this.oks.delete(msg[1]);
                waiters.forEach((w) => w({ ok: msg[2], reason: msg[3] }));
            }
            else if (msg[0] === 'EOSE') {
                const waiters = this.eose.get(msg[1]) || [];
                this.eose.delete(msg[1]);
                waiters.forEach((w) => w());
            }
        });
        ws.on('error', () => {});
        ws.on('close', () => {
            if (!this.closed) setTimeout(() => { if (!this.closed) this.connect(); }, 200);
        });
    }
    async open(ms = 10000) {
        if (this.ws.readyState === WebSocket.OPEN) return;
        await new Promise((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error(`${this.url}: not connected within ${ms} ms`)), ms);
            this.openWaiters.push(() => { clearTimeout(timer); resolve(); });
        });
    }
    async subscribe(id, filters) {
        this.subs.set(id, filters);
        await this.open();
        const eose = new Promise((resolve) => this.eose.set(id, [...(this.eose.get(id) || []), resolve]));
        this.ws.send(JSON.stringify(['REQ', id, ...filters]));
        await eose;
    }
    async publish(event, ms = 10000) {
        await this.open(ms);
        const answer = new Promise((resolve) => this.oks.set(event.id, [...(this.oks.get(event.id) || []), resolve]));
        this.ws.send(JSON.stringify(['EVENT', event]));
        return Promise.race([answer, sleep(ms).then(() => ({ ok: false, reason: 'no OK in time' }))]);
    }
    close() { this.closed = true; this.ws.terminate(); }
}

// A buyer: its own key, connections to every relay given, every reply to its key collected
// (deduplicated by id across relays), every event's id and signature checked.
export class Buyer {
    constructor(relayUrls, nodePubkey, name = 'buyer') {
        this.name = name;
        this.sk = generateSecretKey();
        this.pubkey = getPublicKey(this.sk);
        this.nodePubkey = nodePubkey;
        this.events = new Map();            // id -> event (first copy)
        this.copies = new Map();            // id -> number of copies received over all relays
        this.byRequest = new Map();         // request id -> [event] in arrival order
        this.problems = [];                 // bad signatures, wrong authors...
        this.waiters = [];
        this.links = relayUrls.map((url) => new RelayLink(url, (e, from) => this.onEvent(e, from),
                                                          (p) => this.problems.push(p)));
    }
    async connect() {
        const filters = [{ kinds: [7000, 6935, 6050], '#p': [this.pubkey] }];
        await Promise.all(this.links.map((l) => l.subscribe('replies', filters)));
    }
    onEvent(event, from) {
        if (!event || typeof event.id !== 'string') return this.problems.push(`${from}: an event without an id`);
        this.copies.set(event.id, (this.copies.get(event.id) || 0) + 1);
        if (this.events.has(event.id)) return;
        if (!verifyEvent(event)) return this.problems.push(`${from}: event ${event.id} fails verification`);
        if (event.pubkey !== this.nodePubkey) return this.problems.push(`${from}: event ${event.id} by ${event.pubkey}, not the node`);
        this.events.set(event.id, event);
        const request = tag(event, 'e');
        if (request) {
            if (!this.byRequest.has(request)) this.byRequest.set(request, []);
            this.byRequest.get(request).push(event);
        }
        this.waiters = this.waiters.filter((w) => !w(event));
    }
    // Signs and publishes a request; to: the relays (default all) it goes to.
    async request(kind, { content = '', tags = [], encrypt = null, p = this.nodePubkey, to = null } = {}) {
        let body = content;
        const allTags = [...tags];
        if (encrypt) {
            body = this.encrypt(encrypt, body);
            allTags.push(['encrypted']);
        }
        if (p) allTags.push(['p', p]);
        const event = finalizeEvent({ kind, created_at: Math.floor(Date.now() / 1000), tags: allTags, content: body }, this.sk);
        const links = to ? this.links.filter((l) => to.includes(l.url)) : this.links;
        const answers = await Promise.all(links.map((l) => l.publish(event)));
        const refused = answers.filter((a) => !a.ok);
        if (refused.length) throw new Error(`request refused by a relay: ${refused.map((a) => a.reason).join('; ')}`);
        return event;
    }
    encrypt(scheme, text) {
        if (scheme === 'nip44') return nip44.encrypt(text, nip44.getConversationKey(this.sk, this.nodePubkey));
        if (scheme === 'nip04') return nip04.encrypt(this.sk, this.nodePubkey, text);
        throw new Error(`unknown scheme ${scheme}`);
    }
    decrypt(scheme, text) {
        if (scheme === 'nip44') return nip44.decrypt(text, nip44.getConversationKey(this.sk, this.nodePubkey));
        return nip04.decrypt(this.sk, this.nodePubkey, text);
    }
    replies(requestId) { return this.byRequest.get(requestId) || []; }
    // The first reply to requestId matching pred (already here or to come).
    waitReply(requestId, pred, ms, what = 'a reply') {
        const found = this.replies(requestId).find(pred);
        if (found) return Promise.resolve(found);
        return new Promise((resolve, reject) => {
            const timer = setTimeout(() => {
                this.waiters = this.waiters.filter((w) => w !== look);
                const seen = this.replies(requestId).map(describe).join(', ');
                reject(new Error(`${what} for ${requestId.slice(0, 12)}: none within ${ms} ms (seen: ${seen || 'nothing'})`));
            }, ms);
            const look = (event) => {
                if (tag(event, 'e') !== requestId || !pred(event)) return false;
                clearTimeout(timer);
                resolve(event);
                return true;
            };
            this.waiters.push(look);
        });
    }
    waitStatus(requestId, status, ms) {
        return this.waitReply(requestId, (e) => e.kind === 7000 && tag(e, 'status') === status, ms, `'${status}' feedback`);
    }
    waitResult(requestId, ms) {
        return this.waitReply(requestId, (e) => e.kind === 6935 || e.kind === 6050, ms, 'a result');
    }
    results(requestId) { return this.replies(requestId).filter((e) => e.kind === 6935 || e.kind === 6050); }
    feedback(requestId, status) {
        return this.replies(requestId).filter((e) => e.kind === 7000 && tag(e, 'status') === status);
    }
    close() { this.links.forEach((l) => l.close()); }
}

// Until the node answers a request published now: its subscriptions are live on at least one
// relay. (A relay may miss an event stored while it is still answering a new REQ: the test
// relay registers a subscription only after its query of stored events. Requests sent after
// this cannot fall in that gap on every relay at once.) Each probe is a request that is not
// JSON, answered with error feedback; probes go on until one is answered. Returns their ids
// (each a rejected job in the ledger).
export async function waitServing(prober, ms = 60000) {
    const ids = [];
    const deadline = Date.now() + ms;
    for (;;) {
        const probe = await prober.request(5935, { content: `probe ${ids.length}: not JSON` });
        ids.push(probe.id);
        try {
            await prober.waitStatus(probe.id, 'error', 2000);
            return ids;
        } catch (e) {
            if (Date.now() > deadline) throw new Error(`the node answers no request: ${e.message}`);
        }
    }
}

export const randomPubkey = () => getPublicKey(generateSecretKey());

export function tag(event, name) {
    const t = event.tags.find((x) => x[0] === name);
    return t ? t[1] : undefined;
}
export function tagFull(event, name) { return event.tags.find((x) => x[0] === name); }
export function describe(event) {
    return event.kind === 7000 ? `7000/${tag(event, 'status')}${tagFull(event, 'status')?.[2] ? `(${tagFull(event, 'status')[2]})` : ''}` : String(event.kind);
}

// The price rule of docs/buyers-guide.md, in msats; promptBytes: the UTF-8 bytes of the prompt.
export function expectedPrice({ promptBytes, maxTokens, base = 10, per1k = 1.0, multiplier = 1 }) {
    const promptTokens = Math.ceil(promptBytes / 4);
    const msats = Math.ceil((base * 1000 + Math.ceil((per1k * 1000 * (promptTokens + maxTokens)) / 1000)) * multiplier);
    return Math.max(1000, Math.ceil(msats / 1000) * 1000);
}

// The amount and bolt11 of a payment-required feedback, the invoice decoded by npm bolt11.
export function invoiceOf(feedback) {
    const amount = tagFull(feedback, 'amount');
    if (!amount || amount.length < 3) throw new Error(`payment-required without ["amount", msats, bolt11]: ${JSON.stringify(feedback.tags)}`);
    const decoded = bolt11.decode(amount[2], REGTEST);
    return { msats: Number(amount[1]), bolt11: amount[2], decoded };
}
