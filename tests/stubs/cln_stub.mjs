#!/usr/bin/env node
// cln_stub.mjs: a stub of Core Lightning's JSON-RPC over its unix socket
// (shared/reference/apis.md B2 and "CLN stub"), for the Core Lightning wallet backend's tests.
// Node's built-in modules only. Usage: node cln_stub.mjs <socket path> [--network lnbcrt]
// It prints "CONTROL <port>" (a plain-HTTP control port on 127.0.0.1), then
// "LISTENING <path>" once the socket accepts connections.
//
// Requests may arrive split anywhere and several on one connection; each is found by counting
// braces outside strings. Every response ends with "\n\n", as lightningd's do.
//
// Methods (as lightningd answers them):
//   invoice {amount_msat, label, description, expiry}  → {payment_hash, expires_at, bolt11,
//            payment_secret, created_index}; 900 "Duplicate label '<label>'"
//   listinvoices {payment_hash | label}                → {invoices: [...]}, status unpaid |
//            paid | expired (unpaid past expires_at reads expired)
//   waitanyinvoice {lastpay_index, timeout?}           → the paid invoice with the smallest
//            pay_index above lastpay_index, at once or when one is paid; 904 on timeout
//   getinfo {}                                         → {id, alias, network: "regtest", ...}
//   anything else                                      → -32601 "Unknown command '<m>'"
//
// Control (POST, JSON):
//   /__stub/pay    {"payment_hash": hex}  mark it paid (next pay_index), wake the waiters
//   /__stub/drop   {}                     destroy every client connection
//   /__stub/down   {}                     drop every connection and remove the socket file
//   /__stub/up     {}                     listen on the socket path again
//   /__stub/next   {"method", "action", "code"?, "message"?}  the next call of method is
//                  answered otherwise; action: error (code, message) | malformed (invalid
//                  JSON, balanced braces) | garbage (not JSON at all) | oversized (a result of
//                  2 MiB) | truncate (half a response, then silence) | close (no answer, the
//                  connection closed) | warning (a normal answer with warning_capacity)
//   /__stub/stats  {} → {connects, connections, waiters, calls: {method: n},
//                  last_lastpay_index, last_invoice: params}
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import crypto from 'node:crypto';
import { newNode, encode, newPreimage } from './ln_invoice.mjs';

const path = process.argv[2];
const cfg = { network: 'lnbcrt' };
for (let i = 3; i < process.argv.length; i += 2) cfg[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];

const node = newNode();
const invoices = new Map();     // hex hash → invoice record
const clients = new Set();      // open sockets
const waiters = new Set();      // {sock, id, after, timer}
const next = new Map();         // method → {action, code, message}
const stats = { connects: 0, connections: 0, waiters: 0, calls: {}, last_lastpay_index: -1, last_invoice: null };
let createdIndex = 0, payIndex = 0, server = null;

const now = () => Math.floor(Date.now() / 1000);

function entry(inv) {
  const status = inv.status === 'unpaid' && inv.expires_at <= now() ? 'expired' : inv.status;
  const out = { label: inv.label, bolt11: inv.bolt11, payment_hash: inv.hash, amount_msat: inv.msat, status,
                description: inv.description, expires_at: inv.expires_at, created_index: inv.created_index };
  if (status === 'paid') {
    Object.assign(out, { pay_index: inv.pay_index, amount_received_msat: inv.msat, paid_at: inv.paid_at,
                         payment_preimage: inv.preimage, updated_index: inv.pay_index });
  }
  return out;
}

function write(sock, text) { if (!sock.destroyed) sock.write(text + '\n\n'); }
function reply(sock, id, result) { write(sock, JSON.stringify({ jsonrpc: '2.0', id, result })); }
function fail(sock, id, code, message, data) {
  const error = { code, message };
  if (data) error.data = data;
  write(sock, JSON.stringify({ jsonrpc: '2.0', id, error }));
}

// Answer a call, unless the test asked for something else for this method.
function answer(sock, id, method, result) {
  const special = next.get(method);
  if (!special) return reply(sock, id, result);
  next.delete(method);
  switch (special.action) {
    case 'error': return fail(sock, id, special.code ?? -1, special.message ?? 'stub error');
    case 'malformed': return write(sock, `{"jsonrpc":"2.0","id":${id},"result":{"bolt11": }}`);
    case 'garbage': return write(sock, 'lightningd: internal error');
    case 'oversized': return reply(sock, id, { ...result, padding: 'x'.repeat(2 * 1024 * 1024) });
    case 'truncate': {
      const text = JSON.stringify({ jsonrpc: '2.0', id, result });
      return sock.write(text.slice(0, Math.floor(text.length / 2)));
    }
    case 'close': return sock.destroy();
    case 'warning': return reply(sock, id, { ...result, warning_capacity: 'Insufficient incoming channel capacity to pay invoice' });
    default: return reply(sock, id, result);
  }
}

function paidAfter(after) {
  return [...invoices.values()].filter((i) => i.status === 'paid' && i.pay_index > after)
    .sort((a, b) => a.pay_index - b.pay_index)[0];
}

function wake() {
  for (const w of [...waiters]) {
    const inv = paidAfter(w.after);
    if (!inv) continue;
    waiters.delete(w);
    clearTimeout(w.timer);
    answer(w.sock, w.id, 'waitanyinvoice', entry(inv));
  }
  stats.waiters = waiters.size;
}

function call(sock, req) {
  const { id, method } = req;
  const params = req.params || {};
  stats.calls[method] = (stats.calls[method] || 0) + 1;
  if (method === 'getinfo') {
    return answer(sock, id, method, { id: node.pub.toString('hex'), alias: 'STUBBYCLN', num_peers: 0,
                                      num_active_channels: 0, blockheight: 800000, network: 'regtest',
                                      version: 'v24.08-stub' });
  }
  if (method === 'invoice') {
    stats.last_invoice = params;
    const special = next.get(method);
    if (special && special.action === 'error') return answer(sock, id, method, null);
    const { amount_msat: msat, label, description } = params;
    const expiry = params.expiry ?? 604800;
    if (typeof label !== 'string' || typeof description !== 'string' || !Number.isInteger(msat)) {
      return fail(sock, id, -32602, 'label, description and amount_msat are required');
    }
    if ([...invoices.values()].some((i) => i.label === label)) return fail(sock, id, 900, `Duplicate label '${label}'`);
    const { preimage, hash } = newPreimage();
    const created = now();
    const bolt11 = encode(node, { network: cfg.network, msat: BigInt(msat), hash, description, expiry, timestamp: created });
    const inv = { label, description, msat, bolt11, hash: hash.toString('hex'), preimage: preimage.toString('hex'),
                  expires_at: created + expiry, created_index: ++createdIndex, status: 'unpaid' };
    invoices.set(inv.hash, inv);
    return answer(sock, id, method, { payment_hash: inv.hash, expires_at: inv.expires_at, bolt11,
                                      payment_secret: crypto.randomBytes(32).toString('hex'),
                                      created_index: inv.created_index });
  }
  if (method === 'listinvoices') {
    let list = [...invoices.values()];
    if (params.payment_hash) list = list.filter((i) => i.hash === params.payment_hash);
    if (params.label) list = list.filter((i) => i.label === params.label);
    return answer(sock, id, method, { invoices: list.map(entry) });
  }
  if (method === 'waitanyinvoice') {
    const after = params.lastpay_index ?? 0;
    if (!Number.isInteger(after) || after < 0) return fail(sock, id, -32602, 'lastpay_index: should be an unsigned 64 bit integer');
    stats.last_lastpay_index = after;
    const w = { sock, id, after, timer: null };
    if (params.timeout !== undefined) {
      w.timer = setTimeout(() => {
        waiters.delete(w);
        stats.waiters = waiters.size;
        fail(sock, id, 904, 'Timed out while waiting for invoice to be paid');
      }, params.timeout * 1000);
    }
    waiters.add(w);
    stats.waiters = waiters.size;
    // A special answer for this method applies at once, whether or not a payment is there.
    const special = next.get(method);
    if (special && special.action !== 'warning') {
      waiters.delete(w);
      stats.waiters = waiters.size;
      return answer(sock, id, method, paidAfter(after) ? entry(paidAfter(after)) : {});
    }
    return wake();
  }
  return fail(sock, id, -32601, `Unknown command '${method}'`);
}

// Whole JSON objects out of a connection's bytes (braces counted outside strings).
function onConnection(sock) {
  stats.connects++;
  clients.add(sock);
  stats.connections = clients.size;
  let buf = '';
  sock.setEncoding('utf8');
  sock.on('data', (chunk) => {
    buf += chunk;
    for (;;) {
      let depth = 0, inString = false, escape = false, start = -1, end = -1;
      for (let i = 0; i < buf.length && end < 0; i++) {
        const c = buf[i];
        if (start < 0) { if (c === '{') { start = i; depth = 1; } continue; }
        if (inString) { if (escape) escape = false; else if (c === '\\') escape = true; else if (c === '"') inString = false; continue; }
        if (c === '"') inString = true;
        else if (c === '{' || c === '[') depth++;
        else if ((c === '}' || c === ']') && --depth === 0) end = i + 1;
      }
      if (end < 0) return;
      const text = buf.slice(start, end);
      buf = buf.slice(end);
      let req;
      try { req = JSON.parse(text); } catch { fail(sock, null, -32700, 'Parse error'); continue; }
      call(sock, req);
    }
  });
  const gone = () => {
    clients.delete(sock);
    stats.connections = clients.size;
    for (const w of [...waiters]) if (w.sock === sock) { clearTimeout(w.timer); waiters.delete(w); }
    stats.waiters = waiters.size;
  };
  sock.on('close', gone);
  sock.on('error', gone);
}

function dropAll() { for (const s of clients) s.destroy(); }

function listen(done) {
  try { fs.unlinkSync(path); } catch { /* not there */ }
  server = net.createServer(onConnection);
  server.listen(path, done);
}

function send(res, status, body) {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
}

function readBody(req) {
  return new Promise((resolve) => {
    const parts = [];
    req.on('data', (c) => parts.push(c));
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
  });
}

async function control(req, res) {
  const url = new URL(req.url, 'http://x');
  const body = await readBody(req);
  const args = body ? JSON.parse(body) : {};
  if (url.pathname === '/__stub/pay') {
    const inv = invoices.get(args.payment_hash);
    if (!inv) return send(res, 404, { error: 'no such invoice' });
    if (inv.status !== 'paid') Object.assign(inv, { status: 'paid', pay_index: ++payIndex, paid_at: now() });
    wake();
    return send(res, 200, { pay_index: inv.pay_index });
  }
  if (url.pathname === '/__stub/drop') { dropAll(); return send(res, 200, { ok: true }); }
  if (url.pathname === '/__stub/down') {
    dropAll();
    server.close();
    try { fs.unlinkSync(path); } catch { /* gone already */ }
    return send(res, 200, { ok: true });
  }
  if (url.pathname === '/__stub/up') { listen(() => send(res, 200, { ok: true })); return; }
  if (url.pathname === '/__stub/next') { next.set(args.method, args); return send(res, 200, { ok: true }); }
  if (url.pathname === '/__stub/stats') return send(res, 200, stats);
  return send(res, 404, { error: 'no such control' });
}

const ctl = http.createServer((req, res) => { control(req, res).catch((e) => send(res, 500, { error: String(e) })); });
ctl.listen(0, '127.0.0.1', () => {
  console.log(`CONTROL ${ctl.address().port}`);
  listen(() => console.log(`LISTENING ${path}`));
});
process.on('SIGTERM', () => { try { fs.unlinkSync(path); } catch { /* gone */ } process.exit(0); });
