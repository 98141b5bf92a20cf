// interop_keys.mjs: Pylon's BIP-39 / BIP-32 / NIP-06 code against independent implementations.
//
// The C side is tests/tools/keys_tool (built to $PYLON_BUILD/tools/keys_tool), driven in
// batches over stdin/stdout. The JS side is @scure/bip39, @scure/bip32 and nostr-tools' nip06
// (which carries its own copies of the @scure packages) plus nostr-tools' getPublicKey, and
// OpenSSL's PBKDF2 through node:crypto. The pure-JS seed and nip06 paths cost ~25 ms a
// mnemonic, so they run on the first 100 of each thousand; the rest uses OpenSSL + @scure/bip32.
// Checked: 1,000 mnemonics generated in JS (12 and 24 words, with and without a BIP-39
// passphrase, several accounts) give the same entropy, seed, NIP-06 key pair and Lightning
// node key in C; 1,000 mnemonics generated in C are valid in JS and give the same keys;
// one-word and swapped-word corruptions get the same verdict on both sides; random seeds and
// paths derive the same BIP-32 keys; the well-known test mnemonics and the NIP-06 vectors.
// Prints TAP; exits non-zero on any failure.
import { createRequire } from 'node:module';
import { spawn } from 'node:child_process';
import { pbkdf2Sync, randomBytes, randomInt } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { pathToFileURL, fileURLToPath } from 'node:url';
import path from 'node:path';

const require = createRequire(new URL('../node/package.json', import.meta.url));
// Packages resolved from tests/node; a CommonJS build's exports arrive under 'default'.
async function load(name) {
  const module = await import(pathToFileURL(require.resolve(name)).href);
  return module.default && typeof module.default === 'object' ? { ...module.default, ...module } : module;
}
const bip39 = await load('@scure/bip39');
const { wordlist } = await load('@scure/bip39/wordlists/english.js');
const { HDKey } = await load('@scure/bip32');
const nip06 = await load('nostr-tools/nip06');
const { getPublicKey } = await load('nostr-tools/pure');

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const build = path.resolve(root, process.env.PYLON_BUILD || 'build/san');
const tool = path.join(build, 'tools', 'keys_tool');

let testNumber = 0, failures = 0;
function report(ok, name, detail) {
  testNumber++;
  console.log(`${ok ? 'ok' : 'not ok'} ${testNumber} - ${name}`);
  if (!ok) {
    failures++;
    if (detail) console.log(`# ${detail}`);
  }
}

const hex = (bytes) => Buffer.from(bytes).toString('hex');

// Run keys_tool on REQUESTS (arrays of fields); resolve to its answers as arrays of fields.
// Asynchronous, so the JS side can compute its answers while the C side computes its own.
function runTool(requests) {
  return new Promise((resolve, reject) => {
    const child = spawn(tool, [], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out = [], err = [];
    child.stdout.on('data', (chunk) => out.push(chunk));
    child.stderr.on('data', (chunk) => err.push(chunk));
    child.on('error', reject);
    child.on('close', (status) => {
      if (status !== 0) return reject(new Error(`keys_tool exited ${status}: ${Buffer.concat(err)}`));
      const lines = Buffer.concat(out).toString('utf8').split('\n');
      lines.pop();
      if (lines.length !== requests.length) return reject(new Error(`keys_tool answered ${lines.length} of ${requests.length}`));
      resolve(lines.map((line) => line.split('\t')));
    });
    child.stdin.end(requests.map((fields) => fields.join('\t')).join('\n') + '\n');
  });
}

// A printable-ASCII BIP-39 passphrase without TAB (the tool's separator), or ''.
function randomPassphrase() {
  if (randomInt(2) === 0) return '';
  let text = '';
  const length = 1 + randomInt(40);
  for (let i = 0; i < length; i++) text += String.fromCharCode(0x20 + randomInt(95));
  return text;
}

// BIP-39 seed with OpenSSL's PBKDF2 (node:crypto): a third implementation, and fast enough to
// run on every mnemonic; @scure/bip39's pure-JS PBKDF2 (~16 ms a seed) runs on a sample.
function opensslSeed(mnemonic, passphrase) {
  return pbkdf2Sync(mnemonic.normalize('NFKD'), ('mnemonic' + passphrase).normalize('NFKD'), 2048, 64, 'sha512');
}

// What the JS implementations say about one mnemonic. FULL adds the slow cross-checks:
// @scure/bip39's own seed and nostr-tools' nip06 (which re-derives everything itself).
function jsKeys(mnemonic, passphrase, account, full) {
  const seed = opensslSeed(mnemonic, passphrase);
  const accountKey = HDKey.fromMasterSeed(seed).derive(`m/44'/1237'/${account}'`);
  const nostr = accountKey.deriveChild(0).deriveChild(0);
  const keys = {
    entropy: hex(bip39.mnemonicToEntropy(mnemonic, wordlist)),
    seeds: [hex(seed)],
    secrets: [hex(nostr.privateKey)],
    pubkeys: [hex(nostr.publicKey.slice(1))],
    node: hex(accountKey.deriveChild(1).deriveChild(0).publicKey),
  };
  if (full) {
    keys.seeds.push(hex(bip39.mnemonicToSeedSync(mnemonic, passphrase)));
    const account06 = nip06.accountFromSeedWords(mnemonic, passphrase, account);
    keys.secrets.push(hex(account06.privateKey));
    keys.pubkeys.push(account06.publicKey, getPublicKey(account06.privateKey));
  }
  return keys;
}

// Check CASES ({mnemonic, passphrase, account}) in C and JS, the first FULL of them with every
// JS implementation; return the mismatches found, by kind.
async function compareKeys(cases, full = cases.length) {
  const pending = runTool(cases.map((c) => ['check', String(c.account), c.passphrase, c.mnemonic]));
  const jsAnswers = cases.map((c, i) => jsKeys(c.mnemonic, c.passphrase, c.account, i < full));
  const answers = await pending;
  const bad = { accepted: [], entropy: [], seed: [], nip06: [], node: [] };
  cases.forEach((c, i) => {
    const [status, entropy, seed, secret, pubkey, node] = answers[i];
    if (status !== 'ok') { bad.accepted.push(`${c.mnemonic}: ${answers[i].join(' ')}`); return; }
    const js = jsAnswers[i];
    if (entropy !== js.entropy) bad.entropy.push(c.mnemonic);
    if (js.seeds.some((s) => s !== seed)) bad.seed.push(c.mnemonic);
    if (js.secrets.some((s) => s !== secret) || js.pubkeys.some((p) => p !== pubkey)) bad.nip06.push(c.mnemonic);
    if (node !== js.node) bad.node.push(c.mnemonic);
  });
  return bad;
}

function reportKeys(label, bad, count, full) {
  report(bad.accepted.length === 0, `${label}: C accepts all ${count}`, bad.accepted[0]);
  report(bad.entropy.length === 0, `${label}: same entropy as @scure/bip39 (${count})`, bad.entropy[0]);
  report(bad.seed.length === 0, `${label}: same seed as OpenSSL PBKDF2 (${count}) and @scure/bip39 (${full})`, bad.seed[0]);
  report(bad.nip06.length === 0,
         `${label}: same NIP-06 key pair as @scure/bip32 (${count}) and nostr-tools nip06 + getPublicKey (${full})`, bad.nip06[0]);
  report(bad.node.length === 0, `${label}: same Lightning node key m/44'/1237'/a'/1/0 as @scure/bip32 (${count})`, bad.node[0]);
}

if (!existsSync(tool)) {
  report(false, `keys_tool built at ${tool}`, 'run: make SAN=1 ' + path.relative(root, tool));
  process.exit(1);
}
const started = Date.now();

// 1. Mnemonics generated in JS, checked in C
{
  const cases = [];
  for (let i = 0; i < 1000; i++) {
    cases.push({
      mnemonic: bip39.generateMnemonic(wordlist, i % 2 ? 256 : 128),
      passphrase: randomPassphrase(),
      account: i % 5 === 0 ? randomInt(100) : 0,
    });
  }
  report(cases.filter((c) => c.mnemonic.split(' ').length === 24).length === 500, 'JS generated 500 x 24 + 500 x 12 words');
  reportKeys('1000 JS mnemonics', await compareKeys(cases, 100), cases.length, 100);
}

// 2. Mnemonics generated in C, checked in JS
{
  const requests = [];
  for (let i = 0; i < 1000; i++) requests.push(['gen', i % 2 ? '24' : '12']);
  const answers = await runTool(requests);
  const mnemonics = answers.map((a) => a[1]);
  const generated = answers.every((a, i) => a[0] === 'ok' && a[1].split(' ').length === Number(requests[i][1]));
  report(generated, 'C generated 500 x 12 + 500 x 24 words');
  const invalid = mnemonics.filter((m) => !bip39.validateMnemonic(m, wordlist));
  report(invalid.length === 0, '1000 C mnemonics valid in @scure/bip39', invalid[0]);
  const invalidNostr = mnemonics.filter((m) => !nip06.validateWords(m));
  report(invalidNostr.length === 0, '1000 C mnemonics valid in nostr-tools nip06', invalidNostr[0]);
  report(new Set(mnemonics).size === mnemonics.length, '1000 C mnemonics all distinct');
  // Entropy of each position is spread: every word index used at least once over 1000 x 12+ words
  const used = new Set(mnemonics.flatMap((m) => m.split(' ')));
  report(used.size > 1900, `C mnemonics use ${used.size} of 2048 words`);
  const cases = mnemonics.map((mnemonic, i) => ({ mnemonic, passphrase: i % 3 ? '' : 'TREZOR', account: i % 7 }));
  reportKeys('1000 C mnemonics', await compareKeys(cases, 100), cases.length, 100);
}

// 3. Corrupted mnemonics: same verdict on both sides, and C names the checksum
{
  const cases = [];
  for (let i = 0; i < 1000; i++) {
    const words = bip39.generateMnemonic(wordlist, i % 2 ? 256 : 128).split(' ');
    if (i % 2) {
      words[randomInt(words.length)] = wordlist[randomInt(2048)];
    } else {
      const a = randomInt(words.length), b = randomInt(words.length);
      [words[a], words[b]] = [words[b], words[a]];
    }
    cases.push(words.join(' '));
  }
  const answers = await runTool(cases.map((m) => ['check', '0', '', m]));
  let disagree = 0, wrongCode = 0, jsInvalid = 0;
  cases.forEach((m, i) => {
    const jsValid = bip39.validateMnemonic(m, wordlist);
    const cValid = answers[i][0] === 'ok';
    if (!jsValid) jsInvalid++;
    if (jsValid !== cValid) disagree++;
    if (!cValid && answers[i][1] !== '-4') wrongCode++;
  });
  report(disagree === 0, `1000 corrupted mnemonics: same validity verdict (${jsInvalid} invalid in JS)`, `${disagree} disagree`);
  report(wrongCode === 0 && jsInvalid > 800, 'corrupted mnemonics rejected by C with the checksum error', `${wrongCode} other codes`);
}

// 4. Unknown words and wrong lengths are rejected in both, with C's distinct codes
{
  const base = 'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about';
  const cases = [
    { m: base.replace(/about$/, 'abut'), code: '-3', position: '12' },
    { m: 'abandonx ' + base.split(' ').slice(1).join(' '), code: '-3', position: '1' },
    { m: base.split(' ').slice(1).join(' '), code: '-2', position: '0' },
    { m: base + ' about', code: '-2', position: '0' },
  ];
  const answers = await runTool(cases.map((c) => ['check', '0', '', c.m]));
  const ok = cases.every((c, i) => answers[i][0] === 'err' && answers[i][1] === c.code && answers[i][2] === c.position
                                    && !bip39.validateMnemonic(c.m, wordlist));
  report(ok, 'unknown word (with position) and wrong word count rejected on both sides', JSON.stringify(answers));
}

// 5. BIP-32 on random seeds and paths, against @scure/bip32
{
  const cases = [];
  for (let i = 0; i < 500; i++) {
    const seed = randomBytes(16 + randomInt(49));
    let p = 'm';
    const depth = randomInt(7);
    for (let d = 0; d < depth; d++) {
      p += '/' + randomInt(i % 3 ? 2 ** 31 : 100) + (randomInt(2) ? "'" : '');
    }
    cases.push({ seed, path: p });
  }
  const answers = await runTool(cases.map((c) => ['derive', hex(c.seed), c.path]));
  const bad = [];
  cases.forEach((c, i) => {
    const key = HDKey.fromMasterSeed(c.seed).derive(c.path);
    const [status, secret, chain, pub] = answers[i];
    if (status !== 'ok' || secret !== hex(key.privateKey) || chain !== hex(key.chainCode) || pub !== hex(key.publicKey)) {
      bad.push(`${hex(c.seed)} ${c.path}: ${answers[i].join(' ')}`);
    }
  });
  report(bad.length === 0, '500 random seeds and paths: same key, chain code and public key as @scure/bip32', bad[0]);
}

// 6. The well-known test mnemonics and the NIP-06 vectors
{
  const vectors = JSON.parse(readFileSync(path.join(root, 'tests/vectors/nip06-vectors.json'), 'utf8'));
  const fixed = [
    'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about',
    'zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo wrong',
  ];
  const cases = [];
  for (const m of fixed) {
    for (const account of [0, 1]) cases.push({ mnemonic: m, passphrase: '', account });
    cases.push({ mnemonic: m, passphrase: 'TREZOR', account: 0 });
  }
  for (const v of vectors.vectors) cases.push({ mnemonic: v.mnemonic, passphrase: '', account: 0 });
  const bad = await compareKeys(cases);
  const mismatches = Object.values(bad).flat();
  report(mismatches.length === 0, 'abandon..about and zoo..wrong: same keys as nostr-tools and @scure', mismatches[0]);

  const answers = await runTool(vectors.vectors.map((v) => ['check', '0', '', v.mnemonic]));
  const ok = vectors.vectors.every((v, i) => answers[i][0] === 'ok' && answers[i][3] === v.private_key_hex
                                          && answers[i][4] === v.public_key_hex);
  report(ok, 'NIP-06 vectors: C gives the published key pairs');
}

// 7. Hostile lines do not upset the tool
{
  const answers = await runTool([['check', '0', '', 'x'.repeat(5000)], ['derive', '00', 'm/0'], ['check', '0', '', '\u00e9t\u00e9'],
                           ['derive', hex(randomBytes(32)), "m/0'/"], ['gen', '13'], ['nonsense']]);
  const ok = answers[0][1] === 'too-long' && answers[1][0] === 'err' && answers[2][1] === '-3'
          && answers[3][1] === '-2' && answers[4][0] === 'err' && answers[5][1] === 'usage';
  report(ok, 'oversize line, short seed, non-ASCII word, bad path, bad word count rejected', JSON.stringify(answers));
}

console.log(`# ${testNumber} checks in ${((Date.now() - started) / 1000).toFixed(1)} s`);
console.log(`1..${testNumber}`);
process.exit(failures ? 1 : 0);
