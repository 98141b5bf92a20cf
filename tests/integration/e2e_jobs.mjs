// e2e_jobs.mjs: NIP-90 jobs end to end, as processes, against an independent buyer.
//
// Two real relays (tests/node/relay.mjs, SQLite files), the llama-server stub, one Pylon node
// (`pylon init` / `pylon start`, demo wallet, invoice_expiry_s = 60, both relays) and buyers
// written with nostr-tools and ws alone (lib/common.mjs): they sign their requests with their
// own keys, publish them on both relays, collect every kind 7000/6935/6050 event tagged with
// their key from both relays (each verified), decrypt NIP-44/NIP-04 replies and pay invoices
// with `pylon wallet demo-pay`. What is checked is what docs/buyers-guide.md promises:
//   - the paid flow for 5935 and 5050: payment-required with the guide's price and an invoice
//     that npm bolt11 decodes to that amount, processing, one result with its tags and content;
//   - partial feedback with params.stream; encrypted requests (NIP-44, NIP-04) answered
//     encrypted; each error of the guide that can be provoked; a backend failing after payment;
//   - an invoice left unpaid expires with error feedback (checked last: it takes 60 s, which
//     the other cases use);
//   - a request seen on two relays is handled once; a request not addressed to the node gets
//     no answer; `pylon --json jobs` and `pylon --json earnings` agree with what was paid;
//   - no sanitizer report in the daemon, and `pylon stop` ends it cleanly.
// Prints TAP; exits non-zero on any failure.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import {
    Buyer, Node, check, expectedPrice, finish, invoiceOf, makeTempDir, note, randomPubkey,
    startRelay, startStub, tag, tagFull, waitServing, waitUntil,
} from './lib/common.mjs';

const t0 = Date.now();
const dir = makeTempDir('pylon-e2e-jobs-');
const TOKENS = ['Rayleigh ', 'scattering ', 'makes ', 'the sky ', 'blue.'];
const ANSWER = TOKENS.join('');
const MODEL = 'gpt-oss-20b-STUB';
const BACKEND = 'llamacpp:gpt_oss_20b';
const MAX_PROMPT = 8192, MAX_TOKENS = 1024;
const T = 30000;            // ms to wait for any one reply (the sanitizer build is slow)

const relayA = await startRelay(dir, 'relay-a');
const relayB = await startRelay(dir, 'relay-b');
const stub = await startStub(['--model', MODEL, '--slots', '2', '--tokens', TOKENS.join(',')]);
mkdirSync(path.join(dir, 'node'), { mode: 0o700 });
const node = new Node(path.join(dir, 'node'));
await node.init();
node.writeConfig({ relays: [relayA.url, relayB.url], backendUrl: stub.url, extra: `invoice_expiry_s = 60

[limits]
max_prompt_bytes = ${MAX_PROMPT}
max_tokens = ${MAX_TOKENS}
jobs_per_minute_per_buyer = 1000
` });
await check('the node starts and is ready: backend available, both relays connected', async () => {
    await node.start();
    await node.waitReady(2);
});

const relays = [relayA.url, relayB.url];
const buyer = new Buyer(relays, node.pubkey, 'buyer');
await buyer.connect();
const probes = new Set(await waitServing(buyer));   // rejected jobs of the test's own
const requests = [];            // every request addressed to the node: {event, buyer, expect}
let paidMsats = 0;              // what the buyers paid, in total
const paidJobs = new Map();     // request id -> price paid
const user = (text) => [{ role: 'user', content: text }];
const bytes = (s) => Buffer.byteLength(s, 'utf8');

async function send(b, kind, opts, expect) {
    const event = await b.request(kind, opts);
    requests.push({ event, buyer: b, expect });
    return event;
}

// Waits for payment-required, checks its invoice against the price, pays it.
async function payFor(b, request, price, problems) {
    const feedback = await b.waitStatus(request.id, 'payment-required', T);
    const inv = invoiceOf(feedback);
    if (price !== undefined && inv.msats !== price) problems.push(`amount ${inv.msats} msats, the guide's price is ${price}`);
    if (inv.decoded.millisatoshis !== String(inv.msats))
        problems.push(`bolt11 says ${inv.decoded.millisatoshis} msats, the amount tag ${inv.msats}`);
    if (!inv.bolt11.startsWith('lnbcrt')) problems.push(`not a regtest invoice: ${inv.bolt11.slice(0, 12)}`);
    if (!inv.decoded.complete || !inv.decoded.payeeNodeKey) problems.push('the invoice signature does not recover a payee');
    if (!inv.decoded.tags.some((t) => t.tagName === 'payment_hash')) problems.push('no payment hash in the invoice');
    const paid = await node.demoPay(inv.bolt11);
    if (!paid.ok) throw new Error(`demo-pay refused: ${paid.err}`);
    paidMsats += inv.msats;
    paidJobs.set(request.id, inv.msats);
    return { feedback, inv };
}

// ---- the expiring invoice: asked first, checked last -------------------------------------
const lateBuyer = new Buyer(relays, node.pubkey, 'late buyer');
await lateBuyer.connect();
const expiring = await send(lateBuyer, 5935, { content: JSON.stringify({ messages: user('never paid'), params: { max_tokens: 8 } }) }, 'expired');
let expiringInvoice = null, expiringSince = 0;
await check('an invoice is offered with the configured expiry (60 s)', async (problems) => {
    const feedback = await lateBuyer.waitStatus(expiring.id, 'payment-required', T);
    expiringSince = Date.now();
    expiringInvoice = invoiceOf(feedback);
    const expiry = expiringInvoice.decoded.tags.find((t) => t.tagName === 'expire_time')?.data;
    if (expiry !== 60) problems.push(`expire_time ${expiry}`);
});

// ---- 5935, paid --------------------------------------------------------------------------
await check('5935 paid flow: payment-required with the price and a matching bolt11, processing, one result 6935', async (problems) => {
    const messages = [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Why is the sky blue?' }];
    const content = JSON.stringify({ backend: BACKEND, messages, params: { max_tokens: 64, temperature: 0.7 } });
    const request = await send(buyer, 5935, { content }, 'delivered');
    const price = expectedPrice({ promptBytes: bytes('Be brief.') + bytes('Why is the sky blue?'), maxTokens: 64 });
    const { feedback } = await payFor(buyer, request, price, problems);
    const result = await buyer.waitResult(request.id, T);
    const processing = await buyer.waitStatus(request.id, 'processing', T);
    const order = buyer.replies(request.id);
    if (!(order.indexOf(feedback) < order.indexOf(processing) && order.indexOf(processing) < order.indexOf(result)))
        problems.push(`order: ${order.map((e) => tag(e, 'status') || e.kind).join(' → ')}`);
    if (result.kind !== 6935) problems.push(`result kind ${result.kind}`);
    const echoed = tag(result, 'request');
    let echoedId = null;
    try { echoedId = JSON.parse(echoed).id; } catch { problems.push('the request tag is not the request as JSON'); }
    if (echoedId !== request.id) problems.push(`request tag echoes ${echoedId}`);
    if (tag(result, 'e') !== request.id) problems.push('e tag is not the request id');
    if (tag(result, 'p') !== buyer.pubkey) problems.push('p tag is not the buyer');
    if (tag(result, 'amount') !== String(price)) problems.push(`amount tag ${tag(result, 'amount')}, paid ${price}`);
    const body = JSON.parse(result.content);
    const stats = await stub.stats();
    const sent = stats.last_body;
    const promptChars = sent.messages.reduce((n, m) => n + m.content.length, 0);
    if (body.content !== ANSWER) problems.push(`content ${JSON.stringify(body.content)}`);
    if (body.finish_reason !== 'stop') problems.push(`finish_reason ${body.finish_reason}`);
    if (body.backend !== BACKEND || body.model !== MODEL) problems.push(`backend/model ${body.backend}/${body.model}`);
    if (body.usage?.prompt_tokens !== Math.max(1, Math.ceil(promptChars / 4)) || body.usage?.completion_tokens !== TOKENS.length)
        problems.push(`usage ${JSON.stringify(body.usage)} is not the stub's (prompt ${Math.ceil(promptChars / 4)}, completion ${TOKENS.length})`);
    if (JSON.stringify(sent.messages) !== JSON.stringify(messages)) problems.push(`the backend got messages ${JSON.stringify(sent.messages)}`);
    if (sent.max_tokens !== 64 || sent.temperature !== 0.7) problems.push(`the backend got max_tokens ${sent.max_tokens}, temperature ${sent.temperature}`);
    if (buyer.feedback(request.id, 'partial').length) problems.push('partial feedback without stream');
});

// ---- 5050, paid --------------------------------------------------------------------------
await check('5050 paid flow: i tags joined, top-k / top_p params, result 6050 echoing the i tags', async (problems) => {
    const inputs = [['i', 'Why is the sky blue?', 'text'], ['i', 'Answer in one line.', 'prompt']];
    const params = [['param', 'model', BACKEND], ['param', 'max_tokens', '32'], ['param', 'temperature', '0.5'],
                    ['param', 'top-k', '40'], ['param', 'top_p', '0.9']];
    const request = await send(buyer, 5050, { tags: [...inputs, ...params] }, 'delivered');
    const prompt = 'Why is the sky blue?\n\nAnswer in one line.';
    const price = expectedPrice({ promptBytes: bytes(prompt), maxTokens: 32 });
    await payFor(buyer, request, price, problems);
    const result = await buyer.waitResult(request.id, T);
    await buyer.waitStatus(request.id, 'processing', T);
    if (result.kind !== 6050) problems.push(`result kind ${result.kind}`);
    if (result.content !== ANSWER) problems.push(`content ${JSON.stringify(result.content)}`);
    const echoedInputs = result.tags.filter((x) => x[0] === 'i');
    if (JSON.stringify(echoedInputs) !== JSON.stringify(inputs)) problems.push(`i tags echoed: ${JSON.stringify(echoedInputs)}`);
    if (tag(result, 'e') !== request.id || tag(result, 'p') !== buyer.pubkey || tag(result, 'amount') !== String(price))
        problems.push(`e/p/amount tags ${JSON.stringify(result.tags.filter((x) => ['e', 'p', 'amount'].includes(x[0])))}`);
    if (JSON.parse(tag(result, 'request') || '{}').id !== request.id) problems.push('no request tag echoing the request');
    const sent = (await stub.stats()).last_body;
    if (sent.messages?.[0]?.content !== prompt || sent.messages.length !== 1) problems.push(`the backend got ${JSON.stringify(sent.messages)}`);
    if (sent.top_k !== 40 || sent.top_p !== 0.9 || sent.max_tokens !== 32 || sent.temperature !== 0.5)
        problems.push(`the backend got top_k ${sent.top_k}, top_p ${sent.top_p}, max_tokens ${sent.max_tokens}, temperature ${sent.temperature}`);
});

// ---- stream ------------------------------------------------------------------------------
await stub.config({ 'token-delay': 80 });
await check('params.stream: partial feedback carries the text as it is generated, before the result', async (problems) => {
    const content = JSON.stringify({ messages: user('Stream it.'), params: { max_tokens: 16, stream: true } });
    const request = await send(buyer, 5935, { content }, 'delivered');
    await payFor(buyer, request, expectedPrice({ promptBytes: bytes('Stream it.'), maxTokens: 16 }), problems);
    const result = await buyer.waitResult(request.id, T);
    const replies = buyer.replies(request.id);
    const partials = buyer.feedback(request.id, 'partial');
    if (partials.length < 2) problems.push(`${partials.length} partial feedback events`);
    if (partials.map((e) => e.content).join('') !== JSON.parse(result.content).content)
        problems.push(`partials ${JSON.stringify(partials.map((e) => e.content))} do not add up to the result`);
    if (partials.some((e) => replies.indexOf(e) > replies.indexOf(result))) problems.push('a partial after the result');
});

// ---- encrypted ---------------------------------------------------------------------------
// Every reply of an encrypted exchange: the encrypted tag, no reason in clear, content that
// decrypts in the buyer's scheme.
function checkSealed(b, request, scheme, problems) {
    for (const e of b.replies(request.id)) {
        if (!tagFull(e, 'encrypted')) problems.push(`${e.kind}/${tag(e, 'status')} without the encrypted tag`);
        const status = tagFull(e, 'status');
        if (status && status[2]) problems.push(`reason in clear: ${status[2]}`);
        if (e.content) {
            try { b.decrypt(scheme, e.content); } catch (err) { problems.push(`${e.kind}/${tag(e, 'status')}: does not decrypt with ${scheme}: ${err.message}`); }
        }
        if (e.tags.some((x) => x[0] === 'request' || x[0] === 'i')) problems.push(`${e.kind} echoes the request or its inputs`);
    }
}
await check('NIP-44 encrypted 5935 with stream: every reply encrypted, partials and the result decrypt', async (problems) => {
    const content = JSON.stringify({ messages: user('A secret question.'), params: { max_tokens: 16, stream: true } });
    const request = await send(buyer, 5935, { content, encrypt: 'nip44' }, 'delivered');
    await payFor(buyer, request, expectedPrice({ promptBytes: bytes('A secret question.'), maxTokens: 16 }), problems);
    const result = await buyer.waitResult(request.id, T);
    const body = JSON.parse(buyer.decrypt('nip44', result.content));
    if (body.content !== ANSWER) problems.push(`decrypted content ${JSON.stringify(body.content)}`);
    const partials = buyer.feedback(request.id, 'partial');
    if (partials.length < 2) problems.push(`${partials.length} partials`);
    if (partials.map((e) => buyer.decrypt('nip44', e.content)).join('') !== ANSWER) problems.push('decrypted partials do not add up');
    checkSealed(buyer, request, 'nip44', problems);
});
await stub.config({ 'token-delay': 0 });
await check('NIP-04 encrypted 5050 (top_k / top-p spellings): replies encrypted, the result decrypts, no inputs echoed', async (problems) => {
    const tags = [['i', 'An old-style secret.', 'text'], ['param', 'max_tokens', '24'], ['param', 'top_k', '7'], ['param', 'top-p', '0.5']];
    const request = await send(buyer, 5050, { content: JSON.stringify(tags), encrypt: 'nip04' }, 'delivered');
    await payFor(buyer, request, expectedPrice({ promptBytes: bytes('An old-style secret.'), maxTokens: 24 }), problems);
    const result = await buyer.waitResult(request.id, T);
    if (result.kind !== 6050) problems.push(`kind ${result.kind}`);
    if (!result.content.includes('?iv=')) problems.push('the result is not NIP-04');
    if (buyer.decrypt('nip04', result.content) !== ANSWER) problems.push('the result does not decrypt to the answer');
    const sent = (await stub.stats()).last_body;
    if (sent.top_k !== 7 || sent.top_p !== 0.5) problems.push(`the backend got top_k ${sent.top_k}, top_p ${sent.top_p}`);
    checkSealed(buyer, request, 'nip04', problems);
});
await check('NIP-44 encrypted request with an error: the error text is encrypted', async (problems) => {
    const request = await send(buyer, 5935, { content: JSON.stringify({ messages: [] }), encrypt: 'nip44' }, 'rejected');
    const error = await buyer.waitStatus(request.id, 'error', T);
    const text = buyer.decrypt('nip44', error.content);
    if (!text.startsWith('messages must be a non-empty array')) problems.push(`decrypted error: ${text}`);
    checkSealed(buyer, request, 'nip44', problems);
});

// ---- errors --------------------------------------------------------------------------------
const bigPrompt = 'x'.repeat(MAX_PROMPT + 808);
const errorCases = [
    ['bad JSON', 5935, { content: '{"messages": [' }, 'content is not a JSON object {"backend", "messages", "params"}'],
    ['empty messages', 5935, { content: JSON.stringify({ messages: [] }) }, 'messages must be a non-empty array of {"role", "content"}'],
    ['a bad role', 5935, { content: JSON.stringify({ messages: [{ role: 'wizard', content: 'hi' }] }) }, 'messages[0]: role must be '],
    ['unknown backend', 5935, { content: JSON.stringify({ backend: 'llamacpp:nope', messages: user('hi') }) }, "unknown backend 'llamacpp:nope'"],
    ['max_tokens over the limit', 5935, { content: JSON.stringify({ messages: user('hi'), params: { max_tokens: MAX_TOKENS + 1 } }) },
        `max_tokens ${MAX_TOKENS + 1} is over this node's limit of ${MAX_TOKENS}`],
    ['temperature out of range', 5935, { content: JSON.stringify({ messages: user('hi'), params: { temperature: 3 } }) }, 'temperature must be a number between 0 and 2'],
    ['bid below the price', 5935, { content: JSON.stringify({ messages: user('hi'), params: { max_tokens: 100 } }), tags: [['bid', '1000']] },
        `bid of 1000 msats is below the price of ${expectedPrice({ promptBytes: 2, maxTokens: 100 })} msats`],
    ['prompt over the limit', 5935, { content: JSON.stringify({ messages: user(bigPrompt) }) },
        `the prompt is ${bigPrompt.length} bytes, over this node's limit of ${MAX_PROMPT}`],
    ['5050 without input', 5050, { tags: [['param', 'max_tokens', '8']] }, 'no input: put the prompt in an ["i", "<text>", "text"] tag'],
    ['5050 url input', 5050, { tags: [['i', 'https://example.com/x', 'url']] }, "input type 'url' is not supported: send the prompt as text"],
];
const sentErrors = [];
for (const [name, kind, opts, reason] of errorCases)
    sentErrors.push([name, await send(buyer, kind, opts, 'rejected'), reason]);
for (const [name, request, reason] of sentErrors)
    await check(`error feedback: ${name}`, async (problems) => {
        const error = await buyer.waitStatus(request.id, 'error', T);
        const said = tagFull(error, 'status')[2] || '';
        if (!said.startsWith(reason)) problems.push(`reason "${said}", expected "${reason}"`);
        if (tag(error, 'e') !== request.id || tag(error, 'p') !== buyer.pubkey) problems.push('e/p tags');
        const other = buyer.replies(request.id).filter((e) => e !== error);
        if (other.length) problems.push(`other replies: ${other.map((e) => tag(e, 'status') || e.kind).join(', ')}`);
    });

await check('a bid covering the price is honoured: the invoice asks the price, not the bid', async (problems) => {
    const price = expectedPrice({ promptBytes: 2, maxTokens: 10 });
    const request = await send(buyer, 5935, { content: JSON.stringify({ messages: user('hi'), params: { max_tokens: 10 } }),
                                              tags: [['bid', String(price + 5000)]] }, 'delivered');
    await payFor(buyer, request, price, problems);
    await buyer.waitResult(request.id, T);
});

await check('a backend failing after payment (stub --fail context): error feedback with the code, job failed', async (problems) => {
    await stub.config({ fail: 'context' });
    try {
        const request = await send(buyer, 5935, { content: JSON.stringify({ messages: user('too long for you'), params: { max_tokens: 8 } }) }, 'failed');
        await payFor(buyer, request, expectedPrice({ promptBytes: bytes('too long for you'), maxTokens: 8 }), problems);
        const error = await buyer.waitStatus(request.id, 'error', T);
        const said = tagFull(error, 'status')[2] || '';
        if (!said.startsWith('context_too_long: ')) problems.push(`reason "${said}"`);
        if (buyer.results(request.id).length) problems.push('a result anyway');
        await buyer.waitStatus(request.id, 'processing', T);
    } finally {
        await stub.config({ fail: '' });
    }
});

// ---- two relays, and requests not for us ------------------------------------------------------
await check('one request published on both relays is handled once: one invoice, one result on both relays', async (problems) => {
    const before = (await node.status()).actors.relay.duplicates;
    const request = await send(buyer, 5935, { content: JSON.stringify({ messages: user('twice?'), params: { max_tokens: 8 } }) }, 'delivered');
    await payFor(buyer, request, undefined, problems);
    const result = await buyer.waitResult(request.id, T);
    // Both relays hand the request to the node: wait until the second copy was seen.
    await waitUntil(async () => (await node.status()).actors.relay.duplicates > before, T, 'the relay actor to count the second copy');
    await waitUntil(() => buyer.copies.get(result.id) >= 2, T, 'the result on both relays');
    if (buyer.feedback(request.id, 'payment-required').length !== 1) problems.push('not one invoice');
    if (buyer.results(request.id).length !== 1) problems.push(`${buyer.results(request.id).length} results`);
});

const someoneElse = randomPubkey();
const notForUs = [
    await send(buyer, 5935, { content: JSON.stringify({ messages: user('for someone else') }), p: someoneElse }, 'none'),
    await send(buyer, 5935, { content: JSON.stringify({ messages: user('for nobody') }), p: null }, 'none'),
];
await check('requests addressed to another key, or to nobody, get no answer', async (problems) => {
    // A request sent after them, on the same connections, is answered: they had their chance.
    const barrier = await send(buyer, 5935, { content: 'barrier: not JSON' }, 'rejected');
    await buyer.waitStatus(barrier.id, 'error', T);
    for (const r of notForUs)
        if (buyer.replies(r.id).length) problems.push(`${r.id.slice(0, 12)} got ${buyer.replies(r.id).map((e) => e.kind).join(',')}`);
    const jobs = await node.jobs();
    if (jobs.some((j) => notForUs.some((r) => r.id === j.id))) problems.push('the ledger has a job for one of them');
});

// ---- the expired invoice -------------------------------------------------------------------------
await check('the unpaid invoice expires: error feedback, demo-pay refused, job expired', async (problems) => {
    if (!expiringInvoice) throw new Error('no invoice was offered');
    const left = 60000 - (Date.now() - expiringSince);
    note(`waiting up to ${Math.round(left / 1000) + 30} s for the invoice to expire`);
    const error = await lateBuyer.waitStatus(expiring.id, 'error', left + 30000);
    const said = tagFull(error, 'status')[2] || '';
    if (said !== 'the invoice expired unpaid: send the request again to get a new one') problems.push(`reason "${said}"`);
    if (Date.now() - expiringSince < 55000) problems.push(`expired after ${Date.now() - expiringSince} ms`);
    const pay = await node.demoPay(expiringInvoice.bolt11);
    if (pay.ok || !/expired/.test(pay.err)) problems.push(`demo-pay after expiry: ${pay.ok ? 'paid' : pay.err}`);
    const job = (await node.jobs()).find((j) => j.id === expiring.id);
    if (job?.state !== 'expired') problems.push(`the job is ${job?.state}`);
    if (lateBuyer.results(expiring.id).length || lateBuyer.feedback(expiring.id, 'processing').length) problems.push('it ran anyway');
});

// ---- the books, and the invariants over every request --------------------------------------------
await check('pylon --json jobs: each request once, in the state its replies said, at the price paid', async (problems) => {
    const jobs = (await node.jobs()).filter((j) => !probes.has(j.id));
    const byId = new Map();
    for (const j of jobs) {
        if (byId.has(j.id)) problems.push(`job ${j.id.slice(0, 12)} listed twice`);
        byId.set(j.id, j);
    }
    for (const { event, expect } of requests) {
        if (expect === 'none') continue;
        const j = byId.get(event.id);
        if (!j) { problems.push(`no job for ${event.id.slice(0, 12)}`); continue; }
        if (j.state !== expect) problems.push(`${event.id.slice(0, 12)}: ${j.state}, expected ${expect}`);
        if (paidJobs.has(event.id) && j.price_msats !== paidJobs.get(event.id)) problems.push(`${event.id.slice(0, 12)}: price ${j.price_msats}, paid ${paidJobs.get(event.id)}`);
    }
    const addressed = requests.filter((r) => r.expect !== 'none').length;
    if (jobs.length !== addressed) problems.push(`${jobs.length} jobs for ${addressed} requests`);
});
await check('pylon --json earnings: the total is the sum of what was paid', async (problems) => {
    const earnings = await node.earnings();
    if (earnings.total_msats !== paidMsats) problems.push(`total ${earnings.total_msats}, paid ${paidMsats}`);
    const backend = earnings.backends.find((b) => b.backend === BACKEND);
    if (!backend || backend.msats !== paidMsats || backend.jobs !== paidJobs.size)
        problems.push(`backends ${JSON.stringify(earnings.backends)}; paid ${paidJobs.size} jobs`);
});
await check('every request: at most one invoice and one result, every event verified and by the node', async (problems) => {
    for (const { event, buyer: b, expect } of requests) {
        const invoices = b.feedback(event.id, 'payment-required').length, results = b.results(event.id).length;
        if (invoices > 1 || results > 1) problems.push(`${event.id.slice(0, 12)}: ${invoices} invoices, ${results} results`);
        if (expect === 'delivered' && results !== 1) problems.push(`${event.id.slice(0, 12)}: delivered with ${results} results`);
    }
    problems.push(...buyer.problems, ...lateBuyer.problems);
});
await check('pylon stop ends the daemon; no sanitizer report', async (problems) => {
    const r = await node.stop();
    if (r.code !== 0) problems.push(`pylon stop: exit ${r.code} ${r.stderr}`);
    problems.push(...node.sanitizerProblems());
});
buyer.close();
lateBuyer.close();
note(`${requests.length} requests, ${paidJobs.size} paid (${paidMsats} msats), ${((Date.now() - t0) / 1000).toFixed(1)} s`);
finish();
