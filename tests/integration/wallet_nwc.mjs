// wallet_nwc.mjs: the wallet actor end to end against independent implementations.
//
//   demo: invoices of the demo wallet decode and verify in the npm `bolt11` package (regtest,
//         amount, payment hash, description, signature by the node key), demo-pay settles
//         them once, and a second payment is refused;
//   nwc:  Pylon's wallet and relay actors (tests/tools/wallet_tool) against @getalby/sdk's
//         NWCWalletService over a real relay (tests/node/relay.mjs), with an in-memory
//         Lightning wallet behind the service that writes real regtest invoices with npm
//         bolt11. A second NWC client (NWCClient) pays the invoice with pay_invoice, the
//         service settles its own invoice, and Pylon must detect it: create → pay → detect.
//         Then the wallet's NIP-47 errors must come back as a failed INVOICE with the mapped
//         text, and an invoice whose amount is wrong must be refused.
// Prints TAP; exits non-zero on any failure.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const require = createRequire(new URL('../node/package.json', import.meta.url));
const bolt11 = require('bolt11');
const { WebSocket } = require('ws');
globalThis.WebSocket = WebSocket;
const { NWCWalletService, NWCWalletServiceKeyPair, NWCClient } = await import(
    require.resolve('@getalby/sdk'));
const { generateSecretKey, getPublicKey } = require('nostr-tools/pure');
const { bytesToHex } = require('@noble/hashes/utils');

const root = fileURLToPath(new URL('../..', import.meta.url));
const tool = `${process.env.PYLON_BUILD || 'build/san'}/tools/wallet_tool`;
const REGTEST = { bech32: 'bcrt', pubKeyHash: 0x6f, scriptHash: 0xc4, validWitnessVersions: [0, 1] };

let testNo = 0, failures = 0;
function report(name, problems) {
    testNo++;
    if (problems.length === 0)
        console.log(`ok ${testNo} - ${name}`);
    else {
        failures++;
        console.log(`not ok ${testNo} - ${name}`);
        for (const p of problems.slice(0, 5))
            console.log(`# ${p}`);
    }
}
const children = [];
process.on('exit', () => children.forEach((c) => c.kill('SIGKILL')));

// A child that prints lines; next(pred, ms) waits for a line matching pred.
function start(cmd, args, env) {
    const child = spawn(cmd, args, { cwd: root, env: { ...process.env, ...env },
        stdio: ['pipe', 'pipe', 'inherit'] });
    children.push(child);
    const lines = [], waiters = [];
    createInterface({ input: child.stdout }).on('line', (line) => {
        lines.push(line);
        for (const w of [...waiters]) w();
    });
    child.next = (pred, ms) => new Promise((resolve, reject) => {
        const look = () => {
            const i = lines.findIndex(pred);
            if (i < 0) return false;
            const [line] = lines.splice(i, 1);
            waiters.splice(waiters.indexOf(look), 1);
            clearTimeout(timer);
            resolve(line);
            return true;
        };
        const timer = setTimeout(() => {
            waiters.splice(waiters.indexOf(look), 1);
            reject(new Error(`no matching line within ${ms} ms`));
        }, ms);
        waiters.push(look);
        look();
    });
    child.send = (obj) => child.stdin.write(JSON.stringify(obj) + '\n');
    return child;
}
const json = (type) => (line) => line.startsWith('{') && JSON.parse(line).type === type;
const sha256 = (buf) => createHash('sha256').update(buf).digest();

// ---- demo -----------------------------------------------------------------------------------
{
    const wt = start(tool, [], { PYLON_WALLET: 'demo' });
    await wt.next((l) => l === 'READY', 10000);
    wt.send({ op: 'invoice', amount_msats: 21000, description: 'job 7f3a: 812 tokens', expiry_s: 600 });
    const inv = JSON.parse(await wt.next(json('invoice'), 5000));
    const problems = [];
    if (!inv.ok) problems.push(`invoice failed: ${inv.error}`);
    let decoded = null;
    try {
        decoded = bolt11.decode(inv.bolt11, REGTEST);
    } catch (e) { problems.push(`npm bolt11 refuses it: ${e.message}`); }
    if (decoded) {
        const tag = (n) => decoded.tags.find((t) => t.tagName === n)?.data;
        if (!inv.bolt11.startsWith('lnbcrt')) problems.push('not a regtest invoice');
        if (decoded.millisatoshis !== '21000') problems.push(`amount ${decoded.millisatoshis}`);
        if (tag('payment_hash') !== inv.payment_hash) problems.push('payment hash differs');
        if (tag('description') !== 'job 7f3a: 812 tokens') problems.push('description differs');
        if (tag('expire_time') !== 600) problems.push(`expiry ${tag('expire_time')}`);
        if (!decoded.complete || !decoded.payeeNodeKey) problems.push('signature not recovered');
    }
    report('demo invoice decodes and verifies in npm bolt11', problems);

    const p2 = [];
    wt.send({ op: 'demo_pay', bolt11: inv.bolt11 });
    const paid = JSON.parse(await wt.next(json('demo_paid'), 5000));
    if (!paid.ok) p2.push(`demo-pay failed: ${paid.error}`);
    const settled = JSON.parse(await wt.next(json('settled'), 5000));
    if (settled.payment_hash !== inv.payment_hash || settled.amount_msats !== 21000)
        p2.push(`settled ${JSON.stringify(settled)}`);
    wt.send({ op: 'demo_pay', bolt11: inv.bolt11 });
    const again = JSON.parse(await wt.next(json('demo_paid'), 5000));
    if (again.ok || again.error !== 'this invoice is already paid') p2.push(`second pay: ${JSON.stringify(again)}`);
    report('demo-pay settles once; a second payment is refused', p2);
    wt.stdin.end();
}

// ---- nwc ------------------------------------------------------------------------------------
const relay = start('node', ['tests/node/relay.mjs', '--quiet']);
const port = Number((await relay.next((l) => l.startsWith('LISTENING'), 10000)).split(' ')[1]);
const relayUrl = `ws://127.0.0.1:${port}`;

// The in-memory Lightning wallet behind the NWC service: real regtest invoices.
const nodeKey = randomBytes(32);
const invoices = new Map();   // payment hash hex → {bolt11, amount, preimage, settled_at, expires_at}
let refuseNext = null, wrongAmountNext = false;
const handler = {
    async getInfo() {
        return { result: { alias: 'memory', color: '#000000', pubkey: '', network: 'regtest',
            block_height: 1, block_hash: '', methods: ['make_invoice', 'lookup_invoice', 'pay_invoice', 'get_balance', 'get_info'] }, error: undefined };
    },
    async getBalance() { return { result: { balance: 5000000 }, error: undefined }; },
    async makeInvoice(req) {
        if (refuseNext) {
            const code = refuseNext;
            refuseNext = null;
            return { result: undefined, error: { code, message: 'refused by the test' } };
        }
        const preimage = randomBytes(32), hash = sha256(preimage).toString('hex');
        const amount = wrongAmountNext ? req.amount + 1000 : req.amount;
        wrongAmountNext = false;
        const now = Math.floor(Date.now() / 1000);
        const unsigned = bolt11.encode({ network: REGTEST, millisatoshis: String(amount), timestamp: now,
            tags: [{ tagName: 'payment_hash', data: hash }, { tagName: 'payment_secret', data: randomBytes(32).toString('hex') },
                { tagName: 'description', data: req.description || '' }, { tagName: 'expire_time', data: req.expiry || 3600 }] });
        const signed = bolt11.sign(unsigned, nodeKey).paymentRequest;
        const tx = { type: 'incoming', state: 'pending', invoice: signed, description: req.description, payment_hash: hash,
            amount, fees_paid: 0, created_at: now, expires_at: now + (req.expiry || 3600), preimage: preimage.toString('hex') };
        invoices.set(hash, tx);
        const { preimage: _secret, ...visible } = tx;
        return { result: visible, error: undefined };
    },
    async payInvoice(req) {
        const hash = bolt11.decode(req.invoice, REGTEST).tags.find((t) => t.tagName === 'payment_hash').data;
        const tx = invoices.get(hash);
        if (!tx || tx.state !== 'pending')
            return { result: undefined, error: { code: 'PAYMENT_FAILED', message: 'not payable here' } };
        tx.state = 'settled';
        tx.settled_at = Math.floor(Date.now() / 1000);
        return { result: { preimage: tx.preimage, fees_paid: 0 }, error: undefined };
    },
    async lookupInvoice(req) {
        const tx = invoices.get(req.payment_hash);
        if (!tx) return { result: undefined, error: { code: 'NOT_FOUND', message: 'no such invoice' } };
        const { preimage, ...rest } = tx;
        return { result: tx.state === 'settled' ? tx : rest, error: undefined };
    },
};
const walletSecret = bytesToHex(generateSecretKey());
const service = new NWCWalletService({ relayUrls: [relayUrl] });
const pylonSecret = bytesToHex(generateSecretKey()), payerSecret = bytesToHex(generateSecretKey());
const pylonKeys = new NWCWalletServiceKeyPair(walletSecret, getPublicKey(Buffer.from(pylonSecret, 'hex')));
const payerKeys = new NWCWalletServiceKeyPair(walletSecret, getPublicKey(Buffer.from(payerSecret, 'hex')));
await service.publishWalletServiceInfoEvent(walletSecret,
    ['make_invoice', 'lookup_invoice', 'pay_invoice', 'get_balance', 'get_info'], []);
const unsub1 = await service.subscribe(pylonKeys, handler);
const unsub2 = await service.subscribe(payerKeys, handler);
const uri = (secret) => `nostr+walletconnect://${pylonKeys.walletPubkey}?relay=${encodeURIComponent(relayUrl)}&secret=${secret}`;

const wt = start(tool, [], { PYLON_WALLET: 'nwc', PYLON_NWC_URI: uri(pylonSecret), PYLON_RELAYS: relayUrl,
    WALLET_POLL_MS: '300' });
await wt.next((l) => l === 'READY', 10000);
{
    const problems = [];
    const t0 = Date.now();
    wt.send({ op: 'invoice', amount_msats: 42000, description: 'job e2e', expiry_s: 600 });
    const inv = JSON.parse(await wt.next(json('invoice'), 20000));
    const created = Date.now() - t0;
    if (!inv.ok) problems.push(`invoice failed: ${inv.error}`);
    const tx = invoices.get(inv.payment_hash);
    if (!tx || tx.invoice !== inv.bolt11) problems.push('the invoice is not the wallet service\'s');
    report(`nwc make_invoice through the relay (${created} ms)`, problems);

    const p2 = [];
    const payer = new NWCClient({ nostrWalletConnectUrl: uri(payerSecret) });
    const t1 = Date.now();
    const paid = await payer.payInvoice({ invoice: inv.bolt11 });
    if (!paid.preimage || sha256(Buffer.from(paid.preimage, 'hex')).toString('hex') !== inv.payment_hash)
        p2.push('pay_invoice gave no matching preimage');
    const settled = JSON.parse(await wt.next(json('settled'), 20000));
    const detected = Date.now() - t1;
    if (settled.payment_hash !== inv.payment_hash) p2.push('settled another hash');
    if (settled.amount_msats !== 42000) p2.push(`settled amount ${settled.amount_msats}`);
    report(`nwc create → pay (NWCClient pay_invoice) → detect (${detected} ms after paying)`, p2);
    payer.close();
}
{
    const problems = [];
    refuseNext = 'QUOTA_EXCEEDED';
    wt.send({ op: 'invoice', amount_msats: 1000, description: 'refused', expiry_s: 600 });
    const inv = JSON.parse(await wt.next(json('invoice'), 20000));
    const want = 'nwc wallet: this connection\'s spending quota in the wallet is used up (QUOTA_EXCEEDED: refused by the test)';
    if (inv.ok || inv.error !== want) problems.push(`got ${JSON.stringify(inv)}`);
    wrongAmountNext = true;
    wt.send({ op: 'invoice', amount_msats: 1000, description: 'wrong amount', expiry_s: 600 });
    const bad = JSON.parse(await wt.next(json('invoice'), 20000));
    if (bad.ok || !bad.error.includes('does not match')) problems.push(`wrong amount accepted: ${JSON.stringify(bad)}`);
    report('nwc wallet errors and a wrong invoice become failed INVOICEs with clear errors', problems);
}
wt.stdin.end();
unsub1();
unsub2();
service.close();
relay.kill('SIGTERM');
process.exit(failures ? 1 : 0);
