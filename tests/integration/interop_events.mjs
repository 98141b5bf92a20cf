// interop_events.mjs: our C events, NIP-44 and NIP-04 against nostr-tools, both ways.
//
// The C side is $PYLON_BUILD/tools/event_tool (tests/tools/event_tool.c), fed one JSON
// request per line in a single batch per phase, so thousands of cases run in seconds.
// Cases are random but reproducible (seeded), and mix in what breaks naive writers: every
// control character 0x00-0x1f and 0x7f, quotes, backslashes, '/', U+2028/2029, emoji,
// other non-ASCII, and long tags. Prints TAP; exits non-zero on any failure.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(new URL('../node/package.json', import.meta.url));
const { finalizeEvent, verifyEvent, getEventHash, getPublicKey } = require('nostr-tools/pure');
const nip44 = require('nostr-tools/nip44');
const nip04 = require('nostr-tools/nip04');

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const build = process.env.PYLON_BUILD || 'build/san';
const tool = path.resolve(root, build, 'tools/event_tool');
const CASES = 1000, NIP04_CASES = 300;

let testNo = 0, failures = 0;
function report(ok, name, detail) {
  testNo++;
  if (!ok) failures++;
  console.log(`${ok ? 'ok' : 'not ok'} ${testNo} - ${name}`);
  if (!ok && detail) console.log(`# ${String(detail).slice(0, 400).replace(/\n/g, '\n# ')}`);
}

// xorshift32: reproducible cases without a dependency.
let seed = 0x2545f491;
function rand(n) {
  seed ^= seed << 13; seed >>>= 0;
  seed ^= seed >>> 17;
  seed ^= seed << 5; seed >>>= 0;
  return seed % n;
}
const hex = (bytes) => Buffer.from(bytes).toString('hex');
// nostr-tools decodes plaintexts with TextDecoder, which drops a leading U+FEFF (BOM): what
// it returns for a C ciphertext is the plaintext less that. C keeps it (checked JS -> C).
const asDecodedByJs = (text) => text.replace(/^\ufeff/, '');
function secretKey() {
  const key = new Uint8Array(32);
  for (let i = 0; i < 32; i++) key[i] = rand(256);
  key[0] = (key[0] % 0xfe) + 1;         // stays in 1..n-1
  return key;
}

const controls = [];
for (let c = 0; c < 0x20; c++) controls.push(String.fromCharCode(c));
controls.push('\x7f');
const pieces = [...controls, '"', '\\', '/', '\\u0000', 'é', 'ナンセンス', '\u2028', '\u2029',
  '🚀', '🍕🫃', '⚠️', '¯\\_(ツ)_/¯', ' ', 'plain text ', '<script>', '{"json":[1]}', '\ufeff'];
function randomText(maxPieces) {
  let out = '';
  const n = rand(maxPieces + 1);
  for (let i = 0; i < n; i++) out += pieces[rand(pieces.length)];
  return out;
}
function randomTags() {
  const tags = [];
  const n = rand(7);
  for (let t = 0; t < n; t++) {
    const tag = [['e', 'p', 't', 'param', 'i', 'relays', 'x'][rand(7)]];
    const m = rand(5);
    for (let e = 0; e < m; e++)
      tag.push(rand(20) === 0 ? 'long-'.repeat(400) + randomText(5) : randomText(6));
    tags.push(tag);
  }
  return tags;
}

// Run the C tool on a batch of requests; answers come back one per line, in order.
function runTool(requests) {
  const input = requests.map((r) => JSON.stringify(r)).join('\n') + '\n';
  const result = spawnSync(tool, [], { input, maxBuffer: 1 << 28, encoding: 'utf8' });
  if (result.status !== 0)
    throw new Error(`event_tool exited ${result.status}: ${result.stderr}`);
  const lines = result.stdout.split('\n').filter((l) => l.length);
  if (lines.length !== requests.length)
    throw new Error(`event_tool answered ${lines.length} of ${requests.length}: ${result.stderr}`);
  return lines;
}

function phase(name, fn) {
  try {
    fn();
  } catch (err) {
    report(false, name, err.stack);
  }
}

// 1. Events signed in C verify in nostr-tools, with the same id, fields intact.
phase('C-signed events verify in nostr-tools', () => {
  const cases = [];
  for (let i = 0; i < CASES; i++) {
    const sk = secretKey();
    cases.push({ op: 'sign', seckey: hex(sk), kind: rand(65536), created_at: rand(2 ** 31),
                 tags: randomTags(), content: randomText(40), pub: getPublicKey(sk) });
  }
  const answers = runTool(cases);
  let bad = null, count = 0;
  answers.forEach((line, i) => {
    const want = cases[i];
    let event;
    try { event = JSON.parse(line); } catch (err) { bad ??= `case ${i}: ${err} ${line}`; return; }
    const same = event.content === want.content && JSON.stringify(event.tags) === JSON.stringify(want.tags)
      && event.kind === want.kind && event.created_at === want.created_at && event.pubkey === want.pub;
    if (!same) { bad ??= `case ${i}: fields differ: ${line}`; return; }
    if (getEventHash(event) !== event.id) { bad ??= `case ${i}: id differs: ${line}`; return; }
    if (!verifyEvent(event)) { bad ??= `case ${i}: signature rejected: ${line}`; return; }
    count++;
  });
  report(bad === null && count === CASES, `${count}/${CASES} C-signed events verify in nostr-tools`, bad);
});

// 2. Events signed by nostr-tools verify in C with the same id; tampered ones fail.
phase('nostr-tools events verify in C', () => {
  const events = [];
  for (let i = 0; i < CASES; i++) {
    events.push(finalizeEvent({ kind: rand(65536), created_at: rand(2 ** 31),
                                tags: randomTags(), content: randomText(40) }, secretKey()));
  }
  const answers = runTool(events.map((e) => ({ op: 'verify', event: JSON.stringify(e) })));
  let bad = null, count = 0;
  answers.forEach((line, i) => {
    const answer = JSON.parse(line);
    if (answer.ok && answer.id === events[i].id) count++;
    else bad ??= `case ${i}: ${line} for ${JSON.stringify(events[i])}`;
  });
  report(bad === null && count === CASES, `${count}/${CASES} nostr-tools events verify in C, same id`, bad);

  // The same events with one change each must all be refused.
  const tampered = events.slice(0, 200).map((e, i) => {
    const t = { ...e };
    if (i % 3 === 0) t.content += 'x';
    else if (i % 3 === 1) t.created_at += 1;
    else t.sig = (t.sig[0] === 'a' ? 'b' : 'a') + t.sig.slice(1);
    return { op: 'verify', event: JSON.stringify(t) };
  });
  const refused = runTool(tampered).filter((l) => JSON.parse(l).ok === false).length;
  report(refused === tampered.length, `${refused}/${tampered.length} tampered events refused by C`);

  // Escaped forms a sender may use (\/, \u00e9, whitespace) decode to the same id.
  const escaped = events.slice(0, 200).map((e) => ({
    op: 'verify',
    event: JSON.stringify(e, null, 1).replace(/\//g, '\\/')
      .replace(/[\u0080-\uffff]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0')),
  }));
  const same = runTool(escaped).filter((l, i) => {
    const a = JSON.parse(l);
    return a.ok && a.id === events[i].id;
  }).length;
  report(same === escaped.length, `${same}/${escaped.length} re-escaped events verify in C, same id`);
});

// 3. NIP-44 v2 both ways.
phase('NIP-44 interop', () => {
  const pairs = [];
  for (let i = 0; i < CASES; i++) {
    const a = secretKey(), b = secretKey();
    let plaintext = randomText(30);
    if (plaintext.length === 0) plaintext = 'x';
    if (rand(50) === 0) plaintext = '🚀'.repeat(16000);    // near the 65,535-byte limit
    pairs.push({ a, b, plaintext });
  }
  const fromC = runTool(pairs.map((p) => ({ op: 'nip44_encrypt', seckey: hex(p.a),
                                             pubkey: getPublicKey(p.b), plaintext: p.plaintext })));
  let bad = null, count = 0;
  fromC.forEach((line, i) => {
    const { a, b, plaintext } = pairs[i];
    const answer = JSON.parse(line);
    try {
      const key = nip44.v2.utils.getConversationKey(b, getPublicKey(a));
      if (nip44.v2.decrypt(answer.payload, key) === asDecodedByJs(plaintext)) count++;
      else bad ??= `case ${i}: plaintext differs: ${JSON.stringify(plaintext).slice(0, 80)}`;
    } catch (err) { bad ??= `case ${i}: ${err} ${line}`; }
  });
  report(bad === null && count === CASES, `${count}/${CASES} C NIP-44 payloads decrypt in nostr-tools`, bad);

  const toC = pairs.map((p) => {
    const key = nip44.v2.utils.getConversationKey(p.a, getPublicKey(p.b));
    return { op: 'nip44_decrypt', seckey: hex(p.b), pubkey: getPublicKey(p.a),
             payload: nip44.v2.encrypt(p.plaintext, key) };
  });
  bad = null; count = 0;
  runTool(toC).forEach((line, i) => {
    const answer = JSON.parse(line);
    if (answer.plaintext === pairs[i].plaintext) count++;
    else bad ??= `case ${i}: ${line}`;
  });
  report(bad === null && count === CASES, `${count}/${CASES} nostr-tools NIP-44 payloads decrypt in C`, bad);

  // A flipped character in a nostr-tools payload is refused by C.
  const flipped = toC.slice(0, 100).map((r) => {
    const at = 40 + rand(r.payload.length - 80);
    const c = r.payload[at] === 'A' ? 'B' : 'A';
    return { ...r, payload: r.payload.slice(0, at) + c + r.payload.slice(at + 1) };
  });
  const refused = runTool(flipped).filter((l) => JSON.parse(l).error === 'invalid MAC').length;
  report(refused === flipped.length, `${refused}/${flipped.length} altered NIP-44 payloads refused with "invalid MAC"`);
});

// 4. NIP-04 both ways.
phase('NIP-04 interop', () => {
  const pairs = [];
  for (let i = 0; i < NIP04_CASES; i++)
    pairs.push({ a: secretKey(), b: secretKey(), plaintext: randomText(30) });
  let bad = null, count = 0;
  runTool(pairs.map((p) => ({ op: 'nip04_encrypt', seckey: hex(p.a), pubkey: getPublicKey(p.b),
                              plaintext: p.plaintext }))).forEach((line, i) => {
    const { a, b, plaintext } = pairs[i];
    try {
      if (nip04.decrypt(b, getPublicKey(a), JSON.parse(line).content) === asDecodedByJs(plaintext)) count++;
      else bad ??= `case ${i}: plaintext differs: ${JSON.stringify(plaintext).slice(0, 80)}`;
    } catch (err) { bad ??= `case ${i}: ${err} ${line}`; }
  });
  report(bad === null && count === NIP04_CASES, `${count}/${NIP04_CASES} C NIP-04 contents decrypt in nostr-tools`, bad);

  bad = null; count = 0;
  const toC = pairs.map((p) => ({ op: 'nip04_decrypt', seckey: hex(p.b), pubkey: getPublicKey(p.a),
                                  content: nip04.encrypt(p.a, getPublicKey(p.b), p.plaintext) }));
  runTool(toC).forEach((line, i) => {
    if (JSON.parse(line).plaintext === pairs[i].plaintext) count++;
    else bad ??= `case ${i}: ${line}`;
  });
  report(bad === null && count === NIP04_CASES, `${count}/${NIP04_CASES} nostr-tools NIP-04 contents decrypt in C`, bad);
});

console.log(`1..${testNo}`);
process.exit(failures ? 1 : 0);
