// interop_bolt11.mjs: Pylon's BOLT 11 code (runtime/bolt11.c through tests/tools/bech_tool)
// against the npm `bolt11` package, in both directions, on random regtest invoices.
//
//   1. invoices encoded and signed in C decode in npm bolt11 with the same fields and the
//      payee key of the signing secret;
//   2. invoices encoded and signed by npm bolt11 (encode + sign) decode in C the same way;
//   3. for the same fields both produce the identical string (same field order, RFC 6979);
//   4. a foreign signature never yields the payee key (and fails against an n field);
//   5. a non-minimal feature field (which npm bolt11 can write) is rejected by C.
// All requests go through one bech_tool process (JSON lines). Prints TAP; exits non-zero on
// any failure.
import { spawnSync } from 'node:child_process';
import { createECDH, randomBytes, randomInt } from 'node:crypto';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(new URL('../node/package.json', import.meta.url));
const bolt11 = require('bolt11');

const root = fileURLToPath(new URL('../..', import.meta.url));
const tool = `${process.env.PYLON_BUILD || 'build/san'}/tools/bech_tool`;
const REGTEST = { bech32: 'bcrt', pubKeyHash: 0x6f, scriptHash: 0xc4, validWitnessVersions: [0, 1] };
// Feature names of npm bolt11, in bit-pair order: name k is bits 2k (required) / 2k+1.
const FEATURE_ORDER = ['option_data_loss_protect', 'initial_routing_sync', 'option_upfront_shutdown_script',
    'gossip_queries', 'var_onion_optin', 'gossip_queries_ex', 'option_static_remotekey', 'payment_secret',
    'basic_mpp', 'option_support_large_channel'];

function runTool(requests) {
    const out = spawnSync(tool, [], {
        cwd: root,
        input: requests.map((r) => JSON.stringify(r)).join('\n') + '\n',
        maxBuffer: 256 * 1024 * 1024,
    });
    if (out.status !== 0)
        throw new Error(`bech_tool exited ${out.status}: ${out.stderr}`);
    const lines = out.stdout.toString().trim().split('\n');
    if (lines.length !== requests.length)
        throw new Error(`bech_tool answered ${lines.length} of ${requests.length}`);
    return lines.map((l) => JSON.parse(l));
}

let testNo = 0;
let failures = 0;
function report(name, problems) {
    testNo++;
    if (problems.length === 0) {
        console.log(`ok ${testNo} - ${name}`);
    } else {
        failures++;
        console.log(`not ok ${testNo} - ${name}`);
        for (const p of problems.slice(0, 5))
            console.log(`# ${p}`);
    }
}

const hex = (n) => randomBytes(n).toString('hex');
const pick = (list) => list[Math.floor(Math.random() * list.length)];
function nodeKey(seckey) {
    const ecdh = createECDH('secp256k1');
    ecdh.setPrivateKey(Buffer.from(seckey, 'hex'));
    return ecdh.getPublicKey('hex', 'compressed');
}
// Random amount in msat as a decimal string (or null), covering every multiplier.
function randomAmount() {
    const r = Math.random();
    if (r < 0.1) return null;
    if (r < 0.35) return String(randomInt(1, 2 ** 47)); // usually pico (not a multiple of 100)
    if (r < 0.5) return String(BigInt(randomInt(1, 1e9)) * 100n); // n
    if (r < 0.65) return String(BigInt(randomInt(1, 1e9)) * 100000n); // u
    if (r < 0.8) return String(BigInt(randomInt(1, 1e6)) * 100000000n); // m
    if (r < 0.9) return String(BigInt(randomInt(1, 21000000)) * 100000000000n); // whole BTC
    return String(2100000000000000000n - BigInt(randomInt(0, 1e9))); // near the maximum
}
const TEXT = ['job', 'text-generation', 'kind 5050', 'Pylon', '\u26a1', '\u00e9t\u00e9', '\u65e5\u672c',
    'a "quoted" word', 'emoji \ud83d\ude80', 'tab\there', 'new\nline', '#', '%', '\\'];
function randomDescription() {
    let s = '';
    const words = randomInt(0, 40);
    for (let i = 0; i < words; i++) s += (i ? ' ' : '') + pick(TEXT);
    while (Buffer.byteLength(s) > 639) s = s.slice(0, -1);
    return s;
}
// A random invoice description in bech_tool's terms.
function randomInvoice() {
    const inv = {
        network: 'regtest',
        amount_msat: randomAmount(),
        timestamp: randomInt(1e9, 2 ** 33),
        payment_hash: hex(32),
        payment_secret: hex(32),
        expiry: Math.random() < 0.3 ? 3600 : randomInt(1, 1e7),
        min_final_cltv: Math.random() < 0.3 ? 18 : randomInt(1, 5000),
        payee_field: Math.random() < 0.3,
        features: Math.random() < 0.5 ? [8, 14] : pick([[9, 15], [8, 15, 17], [8, 14, 16], [9, 14, 17]]),
        seckey: hex(32),
    };
    if (Math.random() < 0.7) inv.description = randomDescription();
    else inv.description_hash = hex(32);
    return inv;
}
// Feature bit list from npm bolt11's feature_bits object.
function npmFeatureBits(fb) {
    const bits = [];
    FEATURE_ORDER.forEach((name, k) => {
        if (fb[name]?.required) bits.push(2 * k);
        if (fb[name]?.supported) bits.push(2 * k + 1);
    });
    (fb.extra_bits?.bits || []).forEach((b, i) => { if (b) bits.push(fb.extra_bits.start_bit + i); });
    return bits;
}
// Compare npm bolt11's decode of an invoice with what was encoded; returns problems.
function compareNpm(d, inv) {
    const t = d.tagsObject;
    const problems = [];
    const want = (name, got, exp) => { if (got !== exp) problems.push(`${name}: ${got} != ${exp}`); };
    want('network', d.network.bech32, 'bcrt');
    want('millisatoshis', d.millisatoshis ?? null, inv.amount_msat);
    want('timestamp', d.timestamp, inv.timestamp);
    want('payment_hash', t.payment_hash, inv.payment_hash);
    want('payment_secret', t.payment_secret, inv.payment_secret);
    want('description', t.description, inv.description);
    want('purpose_commit_hash', t.purpose_commit_hash, inv.description_hash);
    want('expire_time', t.expire_time ?? 3600, inv.expiry);
    want('min_final_cltv', t.min_final_cltv_expiry ?? 18, inv.min_final_cltv);
    want('payee n field', t.payee_node_key !== undefined, inv.payee_field);
    want('payee', d.payeeNodeKey, nodeKey(inv.seckey));
    want('features', JSON.stringify(npmFeatureBits(t.feature_bits)), JSON.stringify(inv.features));
    return problems;
}
// Compare bech_tool's decode answer with what was encoded.
function compareC(a, inv) {
    if (!a.ok) return [`C rejected: ${a.error}`];
    const problems = [];
    const want = (name, got, exp) => { if (got !== exp) problems.push(`${name}: ${got} != ${exp}`); };
    want('network', a.network, 'regtest');
    want('amount_msat', a.amount_msat, inv.amount_msat);
    want('timestamp', a.timestamp, inv.timestamp);
    want('payment_hash', a.payment_hash, inv.payment_hash);
    want('payment_secret', a.payment_secret, inv.payment_secret);
    want('description', a.description, inv.description);
    want('description_hash', a.description_hash, inv.description_hash);
    want('expiry', a.expiry, inv.expiry);
    want('min_final_cltv', a.min_final_cltv, inv.min_final_cltv);
    want('payee_field', a.payee_field, inv.payee_field);
    want('payee', a.payee, nodeKey(inv.seckey));
    want('features', JSON.stringify(a.features), JSON.stringify(inv.features));
    return problems;
}
// Encode and sign with npm bolt11, tags in the order bolt11.c writes them.
function npmEncode(inv) {
    const tags = [{ tagName: 'payment_hash', data: inv.payment_hash }];
    if (inv.description !== undefined) tags.push({ tagName: 'description', data: inv.description });
    else tags.push({ tagName: 'purpose_commit_hash', data: inv.description_hash });
    if (inv.expiry !== 3600) tags.push({ tagName: 'expire_time', data: inv.expiry });
    if (inv.min_final_cltv !== 18) tags.push({ tagName: 'min_final_cltv_expiry', data: inv.min_final_cltv });
    if (inv.payee_field) tags.push({ tagName: 'payee_node_key', data: nodeKey(inv.seckey) });
    tags.push({ tagName: 'payment_secret', data: inv.payment_secret });
    const fb = {};
    for (const bit of inv.features) {
        const name = FEATURE_ORDER[bit >> 1];
        fb[name] = fb[name] || {};
        fb[name][bit & 1 ? 'supported' : 'required'] = true;
    }
    tags.push({ tagName: 'feature_bits', data: fb });
    const data = { network: REGTEST, timestamp: inv.timestamp, tags };
    if (inv.amount_msat !== null) data.millisatoshis = inv.amount_msat;
    return bolt11.sign(bolt11.encode(data, false), inv.seckey).paymentRequest;
}

const COUNT = 250;

// 1. C encodes, npm decodes.
{
    const invoices = Array.from({ length: COUNT }, randomInvoice);
    const answers = runTool(invoices.map((inv) => ({ op: 'bolt11_encode', ...inv })));
    const problems = [];
    let pico = 0;
    answers.forEach((a, i) => {
        if (!a.ok) { problems.push(`C failed to encode: ${a.error}`); return; }
        if (/^lnbcrt\d+p1/.test(a.invoice)) pico++;
        try {
            for (const p of compareNpm(bolt11.decode(a.invoice), invoices[i])) problems.push(`${a.invoice.slice(0, 30)}: ${p}`);
        } catch (err) {
            problems.push(`${a.invoice}: npm bolt11 threw ${err.message}`);
        }
    });
    if (pico < 20) problems.push(`only ${pico} pico amounts generated`);
    report(`${COUNT} regtest invoices signed in C decode in npm bolt11 with the same fields and payee (${pico} in pico)`, problems);
}

// 2 + 3. npm encodes and signs, C decodes; C encoding the same fields gives the same string.
{
    const invoices = Array.from({ length: COUNT }, randomInvoice);
    const strings = invoices.map(npmEncode);
    const answers = runTool(strings.map((s, i) => ({ op: 'bolt11_decode', invoice: i % 10 === 0 ? s.toUpperCase() : s })));
    const problems = [];
    answers.forEach((a, i) => { for (const p of compareC(a, invoices[i])) problems.push(`${strings[i].slice(0, 30)}: ${p}`); });
    report(`${COUNT} regtest invoices signed by npm bolt11 decode in C with the same fields and payee (every 10th upper-cased)`, problems);

    const mine = runTool(invoices.map((inv) => ({ op: 'bolt11_encode', ...inv })));
    const same = [];
    mine.forEach((a, i) => { if (a.invoice !== strings[i]) same.push(`C ${a.invoice} != npm ${strings[i]}`); });
    report(`C and npm bolt11 write identical strings for the same ${COUNT} invoices`, same);
}

// 4. A foreign signature: this invoice's fields with the signature of an invoice that has
// another payment hash (spliced at the word level, so the bech32 checksum is valid).
{
    const bech32lib = require('bech32'); // bolt11's own dependency
    const bech32 = bech32lib.bech32 || bech32lib;
    const invoices = Array.from({ length: 100 }, randomInvoice);
    const built = invoices.map((inv) => {
        const a = bech32.decode(npmEncode(inv), 1e6);
        const b = bech32.decode(npmEncode({ ...inv, payment_hash: hex(32) }), 1e6);
        return bech32.encode(a.prefix, a.words.slice(0, -104).concat(b.words.slice(-104)), 1e6);
    });
    const answers = runTool(built.map((s) => ({ op: 'bolt11_decode', invoice: s })));
    const problems = [];
    answers.forEach((a, i) => {
        // Without an n field the signature recovers some other key; with n it must fail.
        if (a.ok && a.payee === nodeKey(invoices[i].seckey)) problems.push(`${built[i].slice(0, 30)}: payee key recovered from a foreign signature`);
        if (a.ok && invoices[i].payee_field) problems.push(`${built[i].slice(0, 30)}: foreign signature accepted with n`);
    });
    report('100 invoices with a foreign signature never yield the payee key, and fail when n is present', problems);
}

// 5. Non-minimal feature field: npm bolt11 writes leading zero words when asked for a larger
// word_length; bolt11.c treats that as invalid (BOLT 11: c/x/9 with leading zeros SHOULD fail).
{
    const inv = randomInvoice();
    const data = { network: REGTEST, timestamp: inv.timestamp, millisatoshis: '1000', tags: [
        { tagName: 'payment_hash', data: inv.payment_hash },
        { tagName: 'description', data: 'x' },
        { tagName: 'payment_secret', data: inv.payment_secret },
        { tagName: 'feature_bits', data: { word_length: 5, var_onion_optin: { supported: true }, payment_secret: { supported: true } } },
    ] };
    const padded = bolt11.sign(bolt11.encode(data, false), inv.seckey).paymentRequest;
    data.tags[3].data.word_length = 4;
    const minimal = bolt11.sign(bolt11.encode(data, false), inv.seckey).paymentRequest;
    const [a, b] = runTool([{ op: 'bolt11_decode', invoice: padded }, { op: 'bolt11_decode', invoice: minimal }]);
    const problems = [];
    if (a.ok) problems.push('feature field with a leading zero word accepted');
    if (!b.ok) problems.push(`minimal feature field rejected: ${b.error}`);
    report('feature field with leading zero words rejected, minimal one accepted', problems);
}

process.exit(failures ? 1 : 0);
