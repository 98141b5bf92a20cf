// interop_nip19.mjs: Pylon's NIP-19 code (runtime/nip19.c through tests/tools/bech_tool)
// against nostr-tools' nip19, in both directions, on random keys, ids and TLV entities.
//
// All requests go through one bech_tool process (JSON lines on stdin/stdout), so thousands of
// cases take a few seconds. Prints TAP; exits non-zero on any failure.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(new URL('../node/package.json', import.meta.url));
const nip19 = require('nostr-tools/nip19');

const root = fileURLToPath(new URL('../..', import.meta.url));
const tool = `${process.env.PYLON_BUILD || 'build/san'}/tools/bech_tool`;

// Send requests (objects) to bech_tool, return its answers in order.
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
const alnum = 'abcdefghijklmnopqrstuvwxyz0123456789';
function randomRelay() {
    let host = '';
    const len = 1 + Math.floor(Math.random() * 30);
    for (let i = 0; i < len; i++)
        host += pick(alnum);
    const path = Math.random() < 0.3 ? `/${pick(['nostr', 'inbox', 'a/b?c=d', '%20x'])}` : '';
    return `${pick(['wss://', 'ws://'])}${host}.${pick(['com', 'io', 'relay'])}${path}`;
}
function randomRelays() {
    const n = Math.floor(Math.random() * 6);
    return Array.from({ length: n }, randomRelay);
}
// A random nprofile/nevent description in bech_tool's terms.
function randomTlvEntity() {
    const e = { type: pick(['nprofile', 'nevent']), hex: hex(32), relays: randomRelays() };
    if (e.type === 'nevent') {
        if (Math.random() < 0.5) e.author = hex(32);
        if (Math.random() < 0.5) e.kind = pick([0, 1, 5050, 6050, 7000, 31990, Math.floor(Math.random() * 2 ** 31)]);
    }
    return e;
}
// The same entity with nostr-tools.
function jsEncode(e) {
    if (e.type === 'npub') return nip19.npubEncode(e.hex);
    if (e.type === 'nsec') return nip19.nsecEncode(Buffer.from(e.hex, 'hex'));
    if (e.type === 'note') return nip19.noteEncode(e.hex);
    if (e.type === 'nprofile') return nip19.nprofileEncode({ pubkey: e.hex, relays: e.relays });
    const pointer = { id: e.hex, relays: e.relays };
    if (e.author !== undefined) pointer.author = e.author;
    if (e.kind !== undefined) pointer.kind = e.kind;
    return nip19.neventEncode(pointer);
}
// Compare nostr-tools' decode result with an entity description; returns a problem or null.
function compareJs(decoded, e) {
    if (decoded.type !== e.type) return `type ${decoded.type} != ${e.type}`;
    const d = decoded.data;
    if (e.type === 'nsec') return Buffer.from(d).toString('hex') === e.hex ? null : 'nsec bytes differ';
    if (e.type === 'npub' || e.type === 'note') return d === e.hex ? null : `${e.type} hex differs`;
    const main = e.type === 'nprofile' ? d.pubkey : d.id;
    if (main !== e.hex) return 'special differs';
    if (JSON.stringify(d.relays || []) !== JSON.stringify(e.relays || [])) return `relays ${JSON.stringify(d.relays)} != ${JSON.stringify(e.relays)}`;
    if (e.type === 'nevent') {
        if (d.author !== e.author) return `author ${d.author} != ${e.author}`;
        if (d.kind !== e.kind) return `kind ${d.kind} != ${e.kind}`;
    }
    return null;
}
// Compare bech_tool's decode answer with an entity description.
function compareC(answer, e) {
    if (!answer.ok) return `C rejected: ${answer.error}`;
    if (answer.type !== e.type) return `type ${answer.type} != ${e.type}`;
    if (answer.hex !== e.hex) return 'bytes differ';
    if (e.type === 'nprofile' || e.type === 'nevent')
        if (JSON.stringify(answer.relays) !== JSON.stringify(e.relays || [])) return 'relays differ';
    if (e.type === 'nevent') {
        if (answer.author !== e.author) return `author ${answer.author} != ${e.author}`;
        if (answer.kind !== e.kind) return `kind ${answer.kind} != ${e.kind}`;
    }
    return null;
}

const BARE = 1200, TLV = 600;
const bare = Array.from({ length: BARE }, () => ({ type: pick(['npub', 'nsec', 'note']), hex: hex(32) }));
const tlv = Array.from({ length: TLV }, randomTlvEntity);
const all = bare.concat(tlv);

// 1-2. C encodes, nostr-tools decodes; and the strings equal nostr-tools' own encoding.
const encoded = runTool(all.map((e) => ({ op: 'nip19_encode', ...e })));
{
    const decodeProblems = [], sameProblems = [];
    encoded.forEach((a, i) => {
        if (!a.ok) { decodeProblems.push(`C failed to encode ${JSON.stringify(all[i])}: ${a.error}`); return; }
        try {
            const p = compareJs(nip19.decode(a.str), all[i]);
            if (p) decodeProblems.push(`${a.str}: ${p}`);
        } catch (err) {
            decodeProblems.push(`${a.str}: nostr-tools threw ${err.message}`);
        }
        // TLV record order is free (nostr-tools writes relays before the special entry, the
        // NIP-19 example writes it first, as we do), so only bare entities compare as text.
        if (i < BARE && a.str !== jsEncode(all[i])) sameProblems.push(`${a.str} != ${jsEncode(all[i])}`);
    });
    report(`${BARE} npub/nsec/note and ${TLV} nprofile/nevent encoded in C decode identically in nostr-tools`, decodeProblems);
    report(`C and nostr-tools encode the same ${BARE} npub/nsec/note to identical strings`, sameProblems);
}

// 3. nostr-tools encodes (fresh random entities), C decodes; upper-case variants too.
{
    const fresh = Array.from({ length: BARE }, () => ({ type: pick(['npub', 'nsec', 'note']), hex: hex(32) }))
        .concat(Array.from({ length: TLV }, randomTlvEntity));
    const strings = fresh.map(jsEncode);
    const answers = runTool(strings.map((s, i) => ({ op: 'nip19_decode', str: i % 10 === 0 ? s.toUpperCase() : s })));
    const problems = [];
    answers.forEach((a, i) => {
        const p = compareC(a, fresh[i]);
        if (p) problems.push(`${strings[i]}: ${p}`);
    });
    report(`${fresh.length} entities encoded by nostr-tools decode identically in C (every 10th upper-cased)`, problems);
}

// 4. Single-character corruptions: both implementations reject every one.
{
    const charset = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
    const sample = encoded.filter((a) => a.ok).slice(0, 400).map((a) => a.str);
    const corrupted = sample.map((s) => {
        const at = s.lastIndexOf('1') + 1 + Math.floor(Math.random() * (s.length - s.lastIndexOf('1') - 1));
        let c;
        do c = pick(charset); while (c === s[at]);
        return s.slice(0, at) + c + s.slice(at + 1);
    });
    const answers = runTool(corrupted.map((s) => ({ op: 'nip19_decode', str: s })));
    const problems = [];
    answers.forEach((a, i) => {
        let jsAccepted = true;
        try { nip19.decode(corrupted[i]); } catch { jsAccepted = false; }
        if (a.ok) problems.push(`C accepted corrupted ${corrupted[i]}`);
        if (jsAccepted) problems.push(`nostr-tools accepted corrupted ${corrupted[i]}`);
    });
    report(`${corrupted.length} single-character corruptions rejected by both`, problems);
}

// 5. Hostile strings: C rejects with an error, never crashes.
{
    const hostile = ['', 'npub1', 'npub', 'nostr:' + encoded[0].str, 'x'.repeat(6000),
        'nprofile1' + 'q'.repeat(4990), encoded[0].str.slice(0, 20), '\u00e9npub1qqqq', 'NPUB1' + encoded[0].str.slice(5)];
    const answers = runTool(hostile.map((s) => ({ op: 'nip19_decode', str: s })));
    const problems = answers.map((a, i) => (a.ok ? `accepted ${JSON.stringify(hostile[i]).slice(0, 40)}` : null)).filter(Boolean);
    report('hostile strings rejected with an error', problems);
}

process.exit(failures ? 1 : 0);
