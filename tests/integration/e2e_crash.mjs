// e2e_crash.mjs: the crash campaign. A Pylon node killed with SIGKILL in every state of the
// job state machine, then started again on the same config dir, must still deliver every
// paid job exactly once and book every payment once.
//
// Two real relays (SQLite files, restartable) reached by the node through TCP proxies that can
// hold back what it publishes, the llama-server stub behind a proxy that can make the node's
// probes slow, one node (demo wallet), and buyers written with nostr-tools and ws
// (lib/common.mjs) that see every reply on both relays. First one kill per state, each its
// own test:
//   received (the ledger has the request, not yet quoted; restarted with a slow first probe),
//   quoted (payment-required seen, unpaid), quoted with payment-required never published (held
//   back by the proxies), paid (right after `pylon wallet demo-pay` returned), running (the
//   stub holds the completion), result stored but not published (both relays down), result
//   published (killed the moment the buyer sees it: before or after the ledger marks it
//   delivered), delivered, and down while a request arrives (served after the restart).
// After each restart the test waits until the node answers a probe request (waitServing) before
// new requests go out, and keeps restarts 1.1 s apart: see RELAY_REQ_CACHE_MS.
// Then at least 100 paid jobs from four buyers in parallel with 8-12 SIGKILLs at random
// moments (a seeded PRNG: PYLON_TEST_SEED=N repeats a run). Invariants, checked at the end
// from the buyers' side and from `pylon --json jobs|earnings`:
//   - every paid job delivered, and exactly one result event id per request across both
//     relays (a result published again after a restart is the same event);
//   - every request is one job in the ledger, delivered, at the price its invoice asked;
//   - earnings = the sum of the invoices paid, each booked once;
//   - at most one invoice offered per request; every event verified and by the node;
//   - no sanitizer report from any run of the daemon.
// Prints TAP; exits non-zero on any failure.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import {
    Buyer, Node, check, finish, invoiceOf, makeTempDir, note, require, sleep, startProxy,
    startRelay, startStub, tag, waitServing, waitUntil,
} from './lib/common.mjs';

const Database = require('better-sqlite3');
const t0 = Date.now();
const seed = Number(process.env.PYLON_TEST_SEED || (Date.now() % 1000000));
note(`seed ${seed} (PYLON_TEST_SEED=${seed} repeats the random kills)`);
let rngState = seed >>> 0 || 1;
const random = () => {          // xorshift32: reproducible kills
    rngState ^= rngState << 13; rngState >>>= 0;
    rngState ^= rngState >>> 17;
    rngState ^= rngState << 5; rngState >>>= 0;
    return rngState / 4294967296;
};

const dir = makeTempDir('pylon-e2e-crash-');
const TOKENS = ['Crash ', 'safe ', 'answer.'];
const ANSWER = TOKENS.join('');
const relayA = await startRelay(dir, 'relay-a');
const relayB = await startRelay(dir, 'relay-b');
// The node reaches the relays through proxies that can hold back what it publishes.
const proxyA = await startProxy(() => relayA.port);
const proxyB = await startProxy(() => relayB.port);
const stub = await startStub(['--model', 'crash-STUB', '--slots', '4', '--tokens', TOKENS.join(',')]);
const stubProxy = await startProxy(Number(new URL(stub.url).port));     // a slow backend on demand
mkdirSync(path.join(dir, 'node'), { mode: 0o700 });
const node = new Node(path.join(dir, 'node'));
await node.init();
node.writeConfig({ relays: [proxyA.url, proxyB.url], backendUrl: `http://127.0.0.1:${stubProxy.port}`, extra: `
[limits]
max_open_invoices_per_buyer = 200
jobs_per_minute_per_buyer = 100000
` });
const relays = [relayA.url, relayB.url];
let db = null;                  // read-only view of pylon.db, to time kills on ledger states
const ledgerJob = (id) => db.prepare('SELECT state, result_event FROM jobs WHERE id = ?').get(id);
const invoiceState = (bolt11) => db.prepare('SELECT state FROM invoices WHERE bolt11 = ?').get(bolt11)?.state;

let kills = 0;
const restartTimes = [];
const probes = new Set();       // the requests waitServing sent (rejected jobs in the ledger)
let prober = null;
// New requests wait while the node restarts: see waitServing.
let gate = Promise.resolve();
// The test relay (@nostr-relay/core 0.0.40, whose filterResultCacheTtl relay.mjs leaves at its
// default) answers a REQ with the stored events of a cached answer to the same filter for 1 s:
// a node started again within 1 s of the last one's subscription would not be given the
// requests stored since. Real relays do not do this; the restarts keep that distance.
const RELAY_REQ_CACHE_MS = 1100;
let servingSince = 0;           // when the node last answered a probe (after its REQ)
async function restartNode() {
    let open;
    gate = new Promise((resolve) => { open = resolve; });
    try {
        const wait = servingSince + RELAY_REQ_CACHE_MS - Date.now();
        if (wait > 0) await sleep(wait);
        const t = Date.now();
        await node.start();
        await node.waitReady(2, 60000);
        for (const id of await waitServing(prober)) probes.add(id);
        servingSince = Date.now();
        restartTimes.push(Date.now() - t);
    } finally {
        open();
    }
}
async function killAndRestart(why) {
    await node.kill9();
    kills++;
    const t = Date.now();
    await restartNode();
    if (why) note(`SIGKILL ${kills} (${why}); serving again in ${Date.now() - t} ms`);
}

const buyers = [];
async function newBuyer(name) {
    const b = new Buyer(relays, node.pubkey, name);
    await b.connect();
    buyers.push(b);
    return b;
}
await check('the node starts and is ready', async () => {
    await node.start();
    await node.waitReady(2);
    prober = await newBuyer('prober');
    for (const id of await waitServing(prober)) probes.add(id);
    servingSince = Date.now();
    db = new Database(path.join(node.dir, 'pylon.db'), { readonly: true, fileMustExist: true });
});

const jobs = [];                // every request: {b, event, invoice, paid}
const T = 60000;                // ms for one reply, restarts included

// Pays the job's invoice until the wallet says it is paid. A payment whose answer was lost in
// a kill is tried again: the demo wallet then says it is unknown (booked and gone from the
// open invoices) or open again (the kill came before the booking); the ledger tells which.
async function pay(job) {
    const deadline = Date.now() + T;
    for (;;) {
        if (node.alive()) {
            const r = await node.demoPay(job.invoice.bolt11);
            if (r.ok) { job.paid = true; return 'paid'; }
            if (/already paid/.test(r.err) || (/unknown invoice/.test(r.err) && invoiceState(job.invoice.bolt11) === 'settled')) {
                job.paid = true;
                return 'paid before';
            }
            if (!/not running|unknown invoice/.test(r.err) && r.code !== 3)
                throw new Error(`demo-pay: ${r.err} (exit ${r.code})`);
        }
        if (Date.now() > deadline) throw new Error('could not pay within the deadline');
        await sleep(100);
    }
}

// A job from request to result; hooks.after(stage) runs after each stage (for kills).
async function runJob(b, { kind = 5935, encrypt = null, hooks = {} } = {}) {
    const prompt = `job ${jobs.length} from ${b.name}`;
    const opts = kind === 5935
        ? { content: JSON.stringify({ messages: [{ role: 'user', content: prompt }], params: { max_tokens: 16 } }) }
        : encrypt ? { content: JSON.stringify([['i', prompt, 'text'], ['param', 'max_tokens', '16']]) }
            : { tags: [['i', prompt, 'text'], ['param', 'max_tokens', '16']] };
    await gate;
    const event = await b.request(kind, { ...opts, encrypt });
    const job = { b, event, kind, encrypt, invoice: null, paid: false, result: null };
    jobs.push(job);
    if (hooks.published) await hooks.published(job);
    const offer = await b.waitReply(event.id, (e) => e.kind === 7000 && ['payment-required', 'error'].includes(tag(e, 'status')),
                                    T, 'payment-required');
    if (tag(offer, 'status') === 'error')
        throw new Error(`refused: ${encrypt ? b.decrypt(encrypt, offer.content) : offer.tags.find((x) => x[0] === 'status')[2]}`);
    job.invoice = invoiceOf(offer);
    if (hooks.quoted) await hooks.quoted(job);
    await pay(job);
    if (hooks.paid) await hooks.paid(job);
    job.result = await b.waitResult(event.id, T);
    if (hooks.result) await hooks.result(job);
    return job;
}

function resultProblems(job, problems) {
    const ids = new Set(job.b.results(job.event.id).map((e) => e.id));
    if (ids.size !== 1) problems.push(`${job.event.id.slice(0, 12)}: ${ids.size} distinct results`);
    const r = job.result;
    if (r) {
        const text = job.encrypt ? job.b.decrypt(job.encrypt, r.content) : r.content;
        const answer = job.kind === 5935 ? JSON.parse(text).content : text;
        if (answer !== ANSWER) problems.push(`${job.event.id.slice(0, 12)}: answer ${JSON.stringify(answer)}`);
        if (tag(r, 'amount') !== String(job.invoice.msats)) problems.push(`${job.event.id.slice(0, 12)}: amount tag ${tag(r, 'amount')}`);
    }
}

// ---- one kill per state -------------------------------------------------------------------
const solo = await newBuyer('solo');

await check('SIGKILL in received (recorded, not yet quoted), restarted with a slow first backend probe: quoted, paid, delivered once', async (problems) => {
    // The kill follows the ledger's row as closely as a 1 ms poll allows; it lands in received
    // or a little later. A few tries make received likely; every try must complete anyway.
    let landed = 0, tries = 0;
    while (!landed && tries < 6) {
        tries++;
        const job = await runJob(solo, { hooks: {
            published: async (j) => {
                await waitUntil(() => ledgerJob(j.event.id), T, 'the ledger to record the request', 1);
                await node.kill9();
                kills++;
                const state = ledgerJob(j.event.id).state;
                if (state === 'received') landed++;
                stubProxy.delayMs = 1500;   // the restarted node's first probe answers late
                try {
                    await restartNode();
                } finally {
                    stubProxy.delayMs = 0;
                }
                note(`SIGKILL ${kills} (${state})`);
            },
        } });
        resultProblems(job, problems);
    }
    if (!landed) note(`no kill landed in received in ${tries} tries: that state was not reached this run`);
});

await check('SIGKILL after payment-required (quoted, unpaid): the invoice is still payable after the restart, delivered once', async (problems) => {
    const job = await runJob(solo, { hooks: {
        quoted: async () => killAndRestart('quoted, unpaid'),
    } });
    resultProblems(job, problems);
});

await check('SIGKILL after quoted, before payment-required reached a relay: the same invoice is offered after the restart', async (problems) => {
    proxyA.freeze();
    proxyB.freeze();
    let thawed = false;
    try {
        const job = await runJob(solo, { hooks: {
            published: async (j) => {
                await waitUntil(() => ledgerJob(j.event.id)?.state === 'quoted', T, 'quoted in the ledger', 5);
                if (j.b.replies(j.event.id).length) problems.push('a reply got through the frozen proxies');
                await node.kill9();
                kills++;
                for (const p of [proxyA, proxyB]) { p.cut(); p.thaw(); }
                thawed = true;
                await restartNode();
                note(`SIGKILL ${kills} (quoted, payment-required held back)`);
            },
        } });
        const stored = db.prepare('SELECT bolt11 FROM invoices WHERE job = ?').all(job.event.id);
        if (stored.length !== 1 || stored[0].bolt11 !== job.invoice.bolt11) problems.push(`${stored.length} invoices in the ledger, or another one offered`);
        resultProblems(job, problems);
    } finally {
        if (!thawed) for (const p of [proxyA, proxyB]) p.thaw();
    }
});

await check('SIGKILL right after demo-pay returned (paid): the payment holds, no second payment, delivered once', async (problems) => {
    let payments = 0;
    const job = await runJob(solo, { hooks: {
        paid: async () => { payments++; await killAndRestart('paid'); },
    } });
    if (payments !== 1) problems.push(`${payments} payments`);
    resultProblems(job, problems);
});

await check('SIGKILL while running (the stub holds the completion): run again after the restart, delivered once', async (problems) => {
    await stub.config({ 'first-token-delay': 5000 });
    const before = (await stub.stats()).completions;
    let restarted = false;
    try {
        const job = await runJob(solo, { hooks: {
            paid: async (j) => {
                await j.b.waitStatus(j.event.id, 'processing', T);
                await waitUntil(async () => (await stub.stats()).active >= 1, T, 'the completion to reach the stub');
                if (ledgerJob(j.event.id).state !== 'running') problems.push(`ledger state ${ledgerJob(j.event.id).state} while the stub runs it`);
                await node.kill9();
                kills++;
                await stub.config({ 'first-token-delay': 0 });
                await restartNode();
                restarted = true;
                note(`SIGKILL ${kills} (running)`);
            },
        } });
        resultProblems(job, problems);
        const completions = (await stub.stats()).completions - before;
        if (completions !== 2) problems.push(`the stub saw ${completions} completions (one lost to the kill, one after)`);
    } finally {
        if (!restarted) await stub.config({ 'first-token-delay': 0 });
    }
});

await check('SIGKILL with the result stored but not published (relays down): the same result event is published after the restart', async (problems) => {
    await stub.config({ 'first-token-delay': 1500 });
    let stored = null;
    const job = await runJob(solo, { hooks: {
        paid: async (j) => {
            await waitUntil(async () => (await stub.stats()).active >= 1, T, 'the completion to reach the stub');
            await Promise.all([relayA.stop(), relayB.stop()]);
            const row = await waitUntil(() => { const r = ledgerJob(j.event.id); return r?.result_event && r; }, T, 'the signed result in the ledger', 10);
            if (row.state !== 'running') problems.push(`stored result, state ${row.state}`);
            stored = JSON.parse(row.result_event);
            await node.kill9();
            kills++;
            await stub.config({ 'first-token-delay': 0 });
            await relayA.start();
            await relayB.start();
            await restartNode();
            note(`SIGKILL ${kills} (result stored, relays down)`);
        },
    } });
    if (job.result.id !== stored.id) problems.push(`result ${job.result.id.slice(0, 12)}, stored ${stored.id.slice(0, 12)}`);
    await waitUntil(() => ledgerJob(job.event.id).state === 'delivered', T, 'delivered in the ledger');
    resultProblems(job, problems);
});

await check('SIGKILL the moment the buyer sees the result: no second result after the restart, delivered', async (problems) => {
    const job = await runJob(solo, { hooks: {
        result: async (j) => {
            const state = ledgerJob(j.event.id).state;
            await killAndRestart(`result seen, ledger said ${state}`);
            await waitUntil(() => ledgerJob(j.event.id).state === 'delivered', T, 'delivered in the ledger');
        },
    } });
    // A job after the restart, on the same relays: if the first were published again, it
    // would be seen by now.
    const after = await runJob(solo);
    resultProblems(job, problems);
    resultProblems(after, problems);
});

await check('SIGKILL once delivered: nothing is published again, nothing booked again', async (problems) => {
    const job = await runJob(solo, { hooks: {
        result: async (j) => {
            await waitUntil(() => ledgerJob(j.event.id).state === 'delivered', T, 'delivered in the ledger');
            await killAndRestart('delivered');
        },
    } });
    const after = await runJob(solo);
    resultProblems(job, problems);
    resultProblems(after, problems);
});
await check('a request sent while the node is down is served after the restart, though the first backend probe is slow', async (problems) => {
    await node.kill9();
    kills++;
    stubProxy.delayMs = 1500;   // the restarted node's probe waits 1.5 s for its connection
    try {
        const job = await runJob(solo, { hooks: {
            published: async () => {
                await restartNode();
                note(`SIGKILL ${kills} (down while the request came)`);
            },
        } });
        resultProblems(job, problems);
        if (job.b.feedback(job.event.id, 'error').length) problems.push(`refused: ${job.b.feedback(job.event.id, 'error').map((e) => tag(e, 'status')).join()}`);
    } finally {
        stubProxy.delayMs = 0;
    }
});
const soloJobs = jobs.length;
note(`single-state kills done: ${kills} kills, ${soloJobs} jobs, ${((Date.now() - t0) / 1000).toFixed(1)} s`);

// ---- the campaign: 100 jobs, 4 buyers in parallel, 8-12 random SIGKILLs ----------------------
const CAMPAIGN_JOBS = 100, WORKERS = 4;
const killCount = 8 + Math.floor(random() * 5);
// Kill points: spread over the run by jobs started, each with a random delay after it, so the
// kills land in every state.
const killAt = Array.from({ length: killCount }, (_, i) => Math.floor(((i + 0.2 + random() * 0.6) / killCount) * (CAMPAIGN_JOBS - 5)));
const killDelays = killAt.map(() => Math.floor(random() * 1200));
note(`campaign: ${CAMPAIGN_JOBS} jobs, ${WORKERS} buyers, kills after jobs ${killAt.join(', ')}`);
const campaignBuyers = [];
for (let w = 0; w < WORKERS; w++) campaignBuyers.push(await newBuyer(`buyer${w}`));
const campaignStart = Date.now();
let started = 0, done = 0, campaignKills = 0;
const failures = [];
let killing = Promise.resolve();

async function worker(b) {
    while (started < CAMPAIGN_JOBS) {
        const n = started++;
        const pending = killAt.filter((k) => k === n).map((_, i) => killDelays[killAt.indexOf(n) + i]);
        for (const delay of pending)
            killing = killing.then(async () => {
                await sleep(delay);
                if (!node.alive()) return;
                await killAndRestart();
                campaignKills++;
            });
        const roll = random();
        const kind = roll < 0.3 ? 5050 : 5935;
        const encrypt = roll > 0.85 ? 'nip44' : roll > 0.8 ? 'nip04' : null;
        try {
            await runJob(b, { kind, encrypt });
            done++;
        } catch (e) {
            failures.push(`job ${n} (${kind}${encrypt ? ' ' + encrypt : ''}): ${e.message}`);
        }
    }
}
await check(`${CAMPAIGN_JOBS} paid jobs, ${WORKERS} buyers in parallel, ${killCount} SIGKILLs at random moments: every job completes`, async (problems) => {
    await Promise.all(campaignBuyers.map(worker));
    await killing;
    problems.push(...failures);
    if (done !== CAMPAIGN_JOBS) problems.push(`${done} of ${CAMPAIGN_JOBS} jobs completed`);
    if (campaignKills < 8) problems.push(`only ${campaignKills} kills happened`);
    note(`campaign: ${done} jobs, ${campaignKills} kills in ${((Date.now() - campaignStart) / 1000).toFixed(1)} s; restarts took ${restartTimes.length ? Math.max(...restartTimes) : 0} ms at most`);
});

// ---- invariants over everything --------------------------------------------------------------
// Every paid job is delivered: give the last one's ledger write a moment to land.
await waitUntil(() => jobs.every((j) => ledgerJob(j.event.id)?.state === 'delivered'), 10000, 'every job delivered in the ledger').catch(() => {});
await check('every request: exactly one result event id across both relays, the one stored in the ledger', async (problems) => {
    for (const job of jobs) {
        resultProblems(job, problems);
        const row = ledgerJob(job.event.id);
        const storedId = row?.result_event ? JSON.parse(row.result_event).id : null;
        if (job.result && storedId !== job.result.id) problems.push(`${job.event.id.slice(0, 12)}: stored result ${storedId}, seen ${job.result.id}`);
    }
});
await check('every request: at most one invoice offered, and it is the one paid', async (problems) => {
    for (const job of jobs) {
        const offered = new Set(job.b.feedback(job.event.id, 'payment-required').map((e) => invoiceOf(e).bolt11));
        if (offered.size !== 1) problems.push(`${job.event.id.slice(0, 12)}: ${offered.size} invoices offered`);
        if (!job.paid) problems.push(`${job.event.id.slice(0, 12)}: never paid`);
    }
});
await check('pylon --json jobs: each request once, delivered, at the price of its invoice', async (problems) => {
    const all = await node.jobs(1000);
    const listed = all.filter((j) => !probes.has(j.id));
    if (all.some((j) => probes.has(j.id) && j.state !== 'rejected')) problems.push('a probe was not rejected');
    const byId = new Map();
    for (const j of listed) {
        if (byId.has(j.id)) problems.push(`${j.id.slice(0, 12)} listed twice`);
        byId.set(j.id, j);
    }
    if (listed.length !== jobs.length) problems.push(`${listed.length} jobs listed for ${jobs.length} requests`);
    for (const job of jobs) {
        const j = byId.get(job.event.id);
        if (!j) problems.push(`${job.event.id.slice(0, 12)}: not listed`);
        else if (j.state !== 'delivered' || j.price_msats !== job.invoice.msats)
            problems.push(`${job.event.id.slice(0, 12)}: ${j.state} at ${j.price_msats} msats (invoice ${job.invoice.msats})`);
    }
});
await check('pylon --json earnings: booked once, the total is the sum of the invoices paid', async (problems) => {
    const paid = jobs.reduce((sum, j) => sum + (j.paid ? j.invoice.msats : 0), 0);
    const earnings = await node.earnings();
    if (earnings.total_msats !== paid) problems.push(`total ${earnings.total_msats} msats, paid ${paid}`);
    const booked = earnings.backends.reduce((n, b) => n + b.jobs, 0);
    if (booked !== jobs.length) problems.push(`${booked} earnings rows for ${jobs.length} paid jobs`);
});
await check('every event the buyers saw is verified and signed by the node', async (problems) => {
    for (const b of buyers) problems.push(...b.problems.map((p) => `${b.name}: ${p}`));
});
await check('pylon stop after the campaign; no sanitizer report from any run', async (problems) => {
    const r = await node.stop();
    if (r.code !== 0) problems.push(`pylon stop: exit ${r.code} ${r.stderr}`);
    problems.push(...node.sanitizerProblems());
});
db.close();
buyers.forEach((b) => b.close());
note(`${jobs.length} jobs, ${kills} SIGKILLs, ${node.starts} starts, ${((Date.now() - t0) / 1000).toFixed(1)} s`);
finish();
