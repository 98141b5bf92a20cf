#!/usr/bin/env node
// lnbits_stub.mjs: a stub of the LNbits v1.x payments API (shared/reference/apis.md B3), for
// the LNbits wallet backend's tests. Node's built-in modules only. It listens on 127.0.0.1,
// port 0, and prints "LISTENING <port>" when ready.
//
// Flags:
//   --key KEY        the wallet's invoice key (default "inkey-test"); any other key → 404
//                    {"detail":"Wallet not found."}, no key → 401 {"detail":"No Api Key provided."}
//   --network HRP    invoice prefix: lnbcrt (default), lntb, lnbc
//
// API (as LNbits answers):
//   POST /api/v1/payments      {"out":false,"amount":<sat>,"memo","expiry"} → 201 Payment
//   GET  /api/v1/payments/<h>  {"paid":false,"status":"pending",...} | {"paid":true,...} | 404
//   GET  /api/v1/wallet        {"id","name","balance":<msat>}
//
// Control endpoint (POST, JSON body):
//   /__stub/pay     {"payment_hash"}        mark the invoice paid
//   /__stub/config  {"mode": MODE, "delay_ms": N}
//                   MODE: ""        normal
//                         legacy    create answers the pre-1.0 shape (payment_request only)
//                         malformed 200/201 bodies that are not JSON
//                         funding   520 {"detail":"funding source failed","status":"pending"}
//                         invalid   400 validation error on create
//                         stall     accept requests and never answer
//                         wrong_amount  invoices ask one sat more than requested
//   GET /__stub/stats               {"creates","lookups","invoices"}
import http from 'node:http';
import { newNode, encode, newPreimage } from './ln_invoice.mjs';

const cfg = { key: 'inkey-test', network: 'lnbcrt', mode: '', delay_ms: 0 };
for (let i = 2; i < process.argv.length; i += 2) cfg[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];

const node = newNode();
const invoices = new Map();         // hex hash → {amount msat, paid, bolt11, memo}
const stats = { creates: 0, lookups: 0, invoices: 0 };

function send(res, status, body) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(text);
}

function readBody(req) {
  return new Promise((resolve) => {
    const parts = [];
    req.on('data', (c) => parts.push(c));
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
  });
}

function payment(hex, inv) {
  return { checking_id: hex, payment_hash: hex, wallet_id: 'w1', amount: inv.amount, fee: 0,
           bolt11: inv.bolt11, payment_request: inv.bolt11, status: inv.paid ? 'success' : 'pending',
           memo: inv.memo, preimage: inv.paid ? inv.preimage : null, extra: {} };
}

async function handle(req, res) {
  const url = new URL(req.url, 'http://x');
  const body = await readBody(req);
  if (url.pathname.startsWith('/__stub/')) {
    const args = body ? JSON.parse(body) : {};
    if (url.pathname === '/__stub/pay') {
      const inv = invoices.get(args.payment_hash);
      if (!inv) return send(res, 404, { error: 'no such invoice' });
      inv.paid = true;
      return send(res, 200, { ok: true });
    }
    if (url.pathname === '/__stub/config') { Object.assign(cfg, args); return send(res, 200, cfg); }
    if (url.pathname === '/__stub/stats') return send(res, 200, stats);
    return send(res, 404, { error: 'no such control' });
  }
  if (cfg.mode === 'stall') return;
  if (cfg.delay_ms > 0) await new Promise((r) => setTimeout(r, Number(cfg.delay_ms)));
  const key = req.headers['x-api-key'];
  if (url.pathname.startsWith('/api/v1/')) {
    if (!key) return send(res, 401, { detail: 'No Api Key provided.' });
    if (key !== cfg.key) return send(res, 404, { detail: 'Wallet not found.' });
  }
  if (cfg.mode === 'funding') return send(res, 520, { detail: 'funding source failed', status: 'pending' });
  if (cfg.mode === 'malformed') return send(res, url.pathname === '/api/v1/payments' ? 201 : 200, '{"paid": tru');
  if (req.method === 'POST' && url.pathname === '/api/v1/payments') {
    stats.creates++;
    let ask;
    try { ask = JSON.parse(body); } catch { return send(res, 400, { detail: 'body is not JSON' }); }
    if (cfg.mode === 'invalid' || ask.out !== false || !Number.isInteger(ask.amount) || ask.amount <= 0)
      return send(res, 400, { detail: [{ loc: ['body', 'amount'], msg: 'invalid amount' }] });
    const { preimage, hash } = newPreimage();
    const hex = hash.toString('hex');
    const sats = ask.amount + (cfg.mode === 'wrong_amount' ? 1 : 0);
    const bolt11 = encode(node, { network: cfg.network, msat: sats * 1000, hash, description: ask.memo || '',
                                  expiry: ask.expiry || 3600, timestamp: Math.floor(Date.now() / 1000) });
    const inv = { amount: sats * 1000, paid: false, bolt11, memo: ask.memo, preimage: preimage.toString('hex') };
    invoices.set(hex, inv);
    stats.invoices++;
    if (cfg.mode === 'legacy')
      return send(res, 201, { payment_hash: hex, payment_request: bolt11, lnurl_response: null, checking_id: hex });
    return send(res, 201, payment(hex, inv));
  }
  const m = url.pathname.match(/^\/api\/v1\/payments\/([0-9a-f]{64})$/);
  if (req.method === 'GET' && m) {
    stats.lookups++;
    const inv = invoices.get(m[1]);
    if (!inv) return send(res, 404, { detail: 'Payment does not exist.' });
    if (inv.paid) return send(res, 200, { paid: true, preimage: inv.preimage, details: payment(m[1], inv) });
    return send(res, 200, { paid: false, status: 'pending', preimage: null, details: payment(m[1], inv) });
  }
  if (req.method === 'GET' && url.pathname === '/api/v1/wallet')
    return send(res, 200, { id: 'w1', name: 'stub', balance: 150000000 });
  return send(res, 404, { detail: 'Not Found' });
}

const server = http.createServer((req, res) => { handle(req, res).catch((e) => send(res, 500, { detail: String(e) })); });
server.listen(0, '127.0.0.1', () => console.log(`LISTENING ${server.address().port}`));
process.on('SIGTERM', () => process.exit(0));
