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
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { startMemoryWallet, REGTEST } from './lib/memory_wallet.mjs';

const require = createRequire(new URL('../node/package.json', import.meta.url));
const bolt11 = require('bolt11');
const { WebSocket } = require('ws');
globalThis.WebSocket = WebSocket;
const { NWCClient } = await import(require.resolve('@getalby/sdk'));

const root = fileURLToPath(new URL('../..', import.meta.url));
const tool = `${process.env.PYLON_BUILD || 'build/san'}/tools/wallet_tool`;

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
const memory = await startMemoryWallet(relayUrl);
const invoices = memory.invoices;
const pylonUri = await memory.uri(), payerUri = await memory.uri();

const wt = start(tool, [], { PYLON_WALLET: 'nwc', PYLON_NWC_URI: pylonUri, PYLON_RELAYS: relayUrl,
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
    const payer = new NWCClient({ nostrWalletConnectUrl: payerUri });
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
    memory.faults.refuseNext = 'QUOTA_EXCEEDED';
    wt.send({ op: 'invoice', amount_msats: 1000, description: 'refused', expiry_s: 600 });
    const inv = JSON.parse(await wt.next(json('invoice'), 20000));
    const want = 'nwc wallet: this connection\'s spending quota in the wallet is used up (QUOTA_EXCEEDED: refused by the test)';
    if (inv.ok || inv.error !== want) problems.push(`got ${JSON.stringify(inv)}`);
    memory.faults.wrongAmountNext = true;
    wt.send({ op: 'invoice', amount_msats: 1000, description: 'wrong amount', expiry_s: 600 });
    const bad = JSON.parse(await wt.next(json('invoice'), 20000));
    if (bad.ok || !bad.error.includes('does not match')) problems.push(`wrong amount accepted: ${JSON.stringify(bad)}`);
    report('nwc wallet errors and a wrong invoice become failed INVOICEs with clear errors', problems);
}
wt.stdin.end();
memory.close();
relay.kill('SIGTERM');
process.exit(failures ? 1 : 0);
