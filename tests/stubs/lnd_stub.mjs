#!/usr/bin/env node
// lnd_stub.mjs: a stub of LND's REST gateway (shared/reference/apis.md B1) for the LND wallet
// backend's tests. Node's built-in modules only. HTTPS with the certificate the test made
// (openssl req -x509 ...); every call needs Grpc-Metadata-macaroon with the expected hex.
// It prints "CONTROL <port>" (a plain-HTTP control port) then "LISTENING <port>" (the API).
//
// Flags:
//   --cert FILE --key FILE   the TLS certificate and key
//   --macaroon HEX           the macaroon the client must send (hex)
//   --balance yes|no         whether the macaroon allows /v1/balance/channels (default no:
//                            LND's invoice.macaroon does not; the answer is "permission denied")
//
// API (as LND answers: int64 as strings, bytes as base64):
//   POST /v1/invoices                      {r_hash, payment_request, add_index, payment_addr}
//   GET  /v1/invoice/<hex>                 the Invoice; 404 code 5 unknown; 500 bad length
//   GET  /v1/invoices/subscribe?settle_index=N   chunked NDJSON {"result": Invoice}; replays
//                                          the settlements after N first, then new events
//   GET  /v1/balance/channels
//   no macaroon → 500 "expected 1 macaroon, got 0"; a wrong one → 500 "verification failed:
//   signature mismatch after caveat verification"
//
// Control (POST, JSON):
//   /__stub/pay     {"payment_hash": hex}  settle the invoice (stream event with settle_index)
//   /__stub/drop    {}                     destroy every open subscription socket
//   /__stub/config  {"mode": MODE}         "" | locked (500 wallet locked) | malformed (the
//                                          create answer is not JSON) | stream_garbage (a
//                                          non-JSON line and an error line on new streams)
//   /__stub/stats   {"subscribes","last_settle_index","creates","streams"}
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { newNode, encode, newPreimage } from './ln_invoice.mjs';

const cfg = { cert: '', key: '', macaroon: '', balance: 'no', mode: '' };
for (let i = 2; i < process.argv.length; i += 2) cfg[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];

const node = newNode();
const invoices = new Map();     // hex hash → invoice record
const streams = new Set();      // open subscription responses
const stats = { subscribes: 0, last_settle_index: -1, creates: 0, streams: 0 };
let addIndex = 0, settleIndex = 0;

function lndInvoice(inv) {
  return { memo: inv.memo, r_preimage: inv.preimage.toString('base64'), r_hash: inv.hash.toString('base64'),
           value: String(inv.msat / 1000n), value_msat: String(inv.msat), settled: inv.state === 'SETTLED',
           creation_date: String(inv.created), settle_date: String(inv.settleDate),
           payment_request: inv.bolt11, description_hash: '', expiry: String(inv.expiry), fallback_addr: '',
           cltv_expiry: '80', route_hints: [], private: false, add_index: String(inv.addIndex),
           settle_index: String(inv.settleIndex), amt_paid: String(inv.paid), amt_paid_sat: String(inv.paid / 1000n),
           amt_paid_msat: String(inv.paid), state: inv.state, htlcs: [], features: {}, is_keysend: false,
           payment_addr: '', is_amp: false, amp_invoice_state: {}, is_blinded: false, blinded_path_config: null };
}

function send(res, status, body) {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
}
const grpcError = (res, status, code, message) => send(res, status, { code, message, details: [] });

function readBody(req) {
  return new Promise((resolve) => {
    const parts = [];
    req.on('data', (c) => parts.push(c));
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
  });
}

function streamWrite(res, obj) { res.write(JSON.stringify(obj) + '\n'); }

async function api(req, res) {
  const url = new URL(req.url, 'https://x');
  const body = await readBody(req);
  const mac = req.headers['grpc-metadata-macaroon'];
  if (!mac) return grpcError(res, 500, 2, 'expected 1 macaroon, got 0');
  if (mac !== cfg.macaroon) return grpcError(res, 500, 2, 'verification failed: signature mismatch after caveat verification');
  if (cfg.mode === 'locked') return grpcError(res, 500, 2, 'wallet locked, unlock it to enable full RPC access');
  if (req.method === 'POST' && url.pathname === '/v1/invoices') {
    stats.creates++;
    if (cfg.mode === 'malformed') return send(res, 200, '{"r_hash": ');
    const ask = JSON.parse(body);
    const msat = BigInt(ask.value_msat || 0) || BigInt(ask.value || 0) * 1000n;
    const expiry = Number(ask.expiry || 86400);
    const { preimage, hash } = newPreimage();
    const created = Math.floor(Date.now() / 1000);
    const bolt11 = encode(node, { network: 'lnbcrt', msat, hash, description: ask.memo || '', expiry, timestamp: created });
    const inv = { memo: ask.memo || '', preimage, hash, msat, created, expiry, bolt11, addIndex: ++addIndex,
                  settleIndex: 0, settleDate: 0, paid: 0n, state: 'OPEN' };
    invoices.set(hash.toString('hex'), inv);
    for (const s of streams) streamWrite(s, { result: lndInvoice(inv) });
    return send(res, 200, { r_hash: hash.toString('base64'), payment_request: bolt11, add_index: String(inv.addIndex),
                            payment_addr: 'Ifijl+NmlyGNLbIsu8piHZb/wKY/NYWGA1Gx2QX3LMI=' });
  }
  const m = url.pathname.match(/^\/v1\/invoice\/([0-9a-fA-F]*)$/);
  if (req.method === 'GET' && m) {
    if (m[1].length !== 64) return grpcError(res, 500, 2, 'payment hash must be exactly 32 bytes');
    const inv = invoices.get(m[1].toLowerCase());
    if (!inv) return grpcError(res, 404, 5, 'unable to locate invoice');
    if (inv.state === 'OPEN' && inv.created + inv.expiry < Date.now() / 1000) inv.state = 'CANCELED';
    return send(res, 200, lndInvoice(inv));
  }
  if (req.method === 'GET' && url.pathname === '/v1/invoices/subscribe') {
    stats.subscribes++;
    const after = Number(url.searchParams.get('settle_index') || 0);
    stats.last_settle_index = after;
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.flushHeaders();
    if (cfg.mode === 'stream_garbage') {
      res.write('this is not json\n');
      streamWrite(res, { error: { code: 2, message: 'invoice\nsubscription hiccup', details: [] } });
    }
    const replay = [...invoices.values()].filter((i) => i.settleIndex > after).sort((a, b) => a.settleIndex - b.settleIndex);
    for (const inv of replay) streamWrite(res, { result: lndInvoice(inv) });
    streams.add(res);
    stats.streams = streams.size;
    res.on('close', () => { streams.delete(res); stats.streams = streams.size; });
    return;
  }
  if (req.method === 'GET' && url.pathname === '/v1/balance/channels') {
    if (cfg.balance !== 'yes') return grpcError(res, 500, 2, 'permission denied');
    return send(res, 200, { balance: '150000', pending_open_balance: '0', local_balance: { sat: '150000', msat: '150000000' },
                            remote_balance: { sat: '850000', msat: '850000000' } });
  }
  return grpcError(res, 404, 5, 'Not Found');
}

async function control(req, res) {
  const url = new URL(req.url, 'http://x');
  const body = await readBody(req);
  const args = body ? JSON.parse(body) : {};
  if (url.pathname === '/__stub/pay') {
    const inv = invoices.get(args.payment_hash);
    if (!inv) return send(res, 404, { error: 'no such invoice' });
    inv.state = 'SETTLED';
    inv.settleIndex = ++settleIndex;
    inv.settleDate = Math.floor(Date.now() / 1000);
    inv.paid = inv.msat;
    for (const s of streams) streamWrite(s, { result: lndInvoice(inv) });
    return send(res, 200, { settle_index: inv.settleIndex });
  }
  if (url.pathname === '/__stub/drop') {
    for (const s of streams) s.socket.destroy();
    streams.clear();
    return send(res, 200, { ok: true });
  }
  if (url.pathname === '/__stub/config') { Object.assign(cfg, args); return send(res, 200, { mode: cfg.mode }); }
  if (url.pathname === '/__stub/stats') return send(res, 200, stats);
  return send(res, 404, { error: 'no such control' });
}

const ctl = http.createServer((req, res) => { control(req, res).catch((e) => send(res, 500, { error: String(e) })); });
const server = https.createServer({ cert: fs.readFileSync(cfg.cert), key: fs.readFileSync(cfg.key) },
  (req, res) => { api(req, res).catch((e) => grpcError(res, 500, 2, String(e))); });
ctl.listen(0, '127.0.0.1', () => {
  console.log(`CONTROL ${ctl.address().port}`);
  server.listen(0, '127.0.0.1', () => console.log(`LISTENING ${server.address().port}`));
});
process.on('SIGTERM', () => process.exit(0));
