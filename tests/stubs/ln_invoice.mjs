// ln_invoice.mjs: BOLT 11 invoices for the Lightning wallet stubs (lnd_stub, cln_stub,
// lnbits_stub), with Node's built-in crypto only. Each stub is a node with its own secp256k1
// key: invoices carry an explicit payee (n field) and a low-S signature, so Pylon's decoder
// verifies them against n without key recovery. Fields written: p (payment hash), d
// (description), x (expiry), n (payee), s (payment secret), 9 (features 8 and 14).
import crypto from 'node:crypto';

const CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
const ORDER = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

function polymod(values) {
  const GEN = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];
  let chk = 1;
  for (const v of values) {
    const top = chk >>> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    for (let i = 0; i < 5; i++) if ((top >>> i) & 1) chk ^= GEN[i];
  }
  return chk >>> 0;
}

function bech32(hrp, words) {
  const expand = [...hrp].map((c) => c.charCodeAt(0) >> 5).concat([0],
    [...hrp].map((c) => c.charCodeAt(0) & 31));
  const mod = polymod(expand.concat(words, [0, 0, 0, 0, 0, 0])) ^ 1;
  const check = [];
  for (let i = 0; i < 6; i++) check.push((mod >>> (5 * (5 - i))) & 31);
  return hrp + '1' + words.concat(check).map((w) => CHARSET[w]).join('');
}

function toWords(bytes) {
  const out = [];
  let acc = 0, bits = 0;
  for (const b of bytes) {
    acc = (acc << 8) | b; bits += 8;
    while (bits >= 5) { bits -= 5; out.push((acc >>> bits) & 31); }
    acc &= (1 << bits) - 1;
  }
  if (bits > 0) out.push((acc << (5 - bits)) & 31);
  return out;
}

function wordsToBytes(words) {
  const out = [];
  let acc = 0, bits = 0;
  for (const w of words) {
    acc = (acc << 5) | w; bits += 5;
    while (bits >= 8) { bits -= 8; out.push((acc >>> bits) & 255); }
    acc &= (1 << bits) - 1;
  }
  if (bits > 0) out.push((acc << (8 - bits)) & 255);
  return Buffer.from(out);
}

function intWords(value, minLen = 1) {
  const out = [];
  let v = BigInt(value);
  while (v > 0n) { out.unshift(Number(v & 31n)); v >>= 5n; }
  while (out.length < minLen) out.unshift(0);
  return out;
}

function field(tag, words) {
  return [CHARSET.indexOf(tag), words.length >> 5, words.length & 31, ...words];
}

// Amount in msat → the human-readable part's amount (smallest exact multiplier).
function amountText(msat) {
  const m = BigInt(msat);
  if (m % 100000000000n === 0n) return (m / 100000000000n).toString();
  if (m % 100000000n === 0n) return (m / 100000000n).toString() + 'm';
  if (m % 100000n === 0n) return (m / 100000n).toString() + 'u';
  if (m % 100n === 0n) return (m / 100n).toString() + 'n';
  return (m * 10n).toString() + 'p';
}

// A node: a fresh secp256k1 key that signs invoices.
export function newNode() {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'secp256k1' });
  const jwk = publicKey.export({ format: 'jwk' });
  const x = Buffer.from(jwk.x, 'base64url'), y = Buffer.from(jwk.y, 'base64url');
  const pub = Buffer.concat([Buffer.from([(y[31] & 1) ? 3 : 2]), x]);
  return { privateKey, pub };
}

// Write an invoice: { network: 'lnbcrt', msat, hash (Buffer 32), description, expiry,
// timestamp (s) }.
export function encode(node, { network = 'lnbcrt', msat, hash, description, expiry, timestamp }) {
  const hrp = network + amountText(msat);
  let words = intWords(timestamp, 7);
  words = words.concat(field('p', toWords(hash)));
  words = words.concat(field('d', toWords(Buffer.from(description, 'utf8'))));
  if (expiry !== 3600) words = words.concat(field('x', intWords(expiry)));
  words = words.concat(field('n', toWords(node.pub)));
  words = words.concat(field('s', toWords(crypto.randomBytes(32))));
  words = words.concat(field('9', intWords((1 << 8) | (1 << 14))));
  const message = Buffer.concat([Buffer.from(hrp, 'utf8'), wordsToBytes(words)]);
  const sig = crypto.sign('sha256', message, { key: node.privateKey, dsaEncoding: 'ieee-p1363' });
  let s = BigInt('0x' + sig.subarray(32).toString('hex'));
  if (s > ORDER / 2n) s = ORDER - s;
  const full = Buffer.concat([sig.subarray(0, 32), Buffer.from(s.toString(16).padStart(64, '0'), 'hex'),
                              Buffer.from([0])]);
  return bech32(hrp, words.concat(toWords(full)));
}

// A fresh preimage and its payment hash.
export function newPreimage() {
  const preimage = crypto.randomBytes(32);
  return { preimage, hash: crypto.createHash('sha256').update(preimage).digest() };
}
