// memory_wallet.mjs: a Lightning wallet in memory behind @getalby/sdk's NWCWalletService (an
// independent NIP-47 implementation), for tests that need a real NWC wallet service on a
// local relay. It writes real regtest invoices with npm bolt11 and its pay_invoice settles its
// own invoices, which is enough for a full create → pay → detect loop between two NWC
// connections (the node's and the buyer's).
import { createHash, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';

const require = createRequire(new URL('../../node/package.json', import.meta.url));
const bolt11 = require('bolt11');
const { WebSocket } = require('ws');
globalThis.WebSocket = WebSocket;   // the sdk expects a global WebSocket (Node 20 has none)
const { NWCWalletService, NWCWalletServiceKeyPair } = await import(require.resolve('@getalby/sdk'));
const { generateSecretKey, getPublicKey } = require('nostr-tools/pure');
const { bytesToHex } = require('@noble/hashes/utils');

export const REGTEST = { bech32: 'bcrt', pubKeyHash: 0x6f, scriptHash: 0xc4, validWitnessVersions: [0, 1] };
const sha256 = (buf) => createHash('sha256').update(buf).digest();
const METHODS = ['make_invoice', 'lookup_invoice', 'pay_invoice', 'get_balance', 'get_info'];

// Start the service on relayUrl; returns { uri(), invoices, faults, close() }: uri() makes a
// connection URI for a new client (one per actor that connects); faults.refuseNext = 'CODE'
// makes the next make_invoice fail with that NIP-47 error, faults.wrongAmountNext = true makes
// it write an invoice for another amount.
export async function startMemoryWallet(relayUrl) {
    const nodeKey = randomBytes(32);
    const invoices = new Map();   // payment hash hex → transaction
    const faults = { refuseNext: null, wrongAmountNext: false };
    const handler = {
        async getInfo() {
            return { result: { alias: 'memory', color: '#000000', pubkey: '', network: 'regtest',
                block_height: 1, block_hash: '', methods: METHODS }, error: undefined };
        },
        async getBalance() { return { result: { balance: 5000000 }, error: undefined }; },
        async makeInvoice(req) {
            if (faults.refuseNext) {
                const code = faults.refuseNext;
                faults.refuseNext = null;
                return { result: undefined, error: { code, message: 'refused by the test' } };
            }
            const preimage = randomBytes(32), hash = sha256(preimage).toString('hex');
            const amount = faults.wrongAmountNext ? req.amount + 1000 : req.amount;
            faults.wrongAmountNext = false;
            const now = Math.floor(Date.now() / 1000);
            const unsigned = bolt11.encode({ network: REGTEST, millisatoshis: String(amount), timestamp: now,
                tags: [{ tagName: 'payment_hash', data: hash },
                    { tagName: 'payment_secret', data: randomBytes(32).toString('hex') },
                    { tagName: 'description', data: req.description || '' },
                    { tagName: 'expire_time', data: req.expiry || 3600 }] });
            const signed = bolt11.sign(unsigned, nodeKey).paymentRequest;
            const tx = { type: 'incoming', state: 'pending', invoice: signed, description: req.description,
                payment_hash: hash, amount, fees_paid: 0, created_at: now,
                expires_at: now + (req.expiry || 3600), preimage: preimage.toString('hex') };
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
    await service.publishWalletServiceInfoEvent(walletSecret, METHODS, []);
    const unsubscribes = [];
    return {
        invoices,
        faults,
        async uri() {
            const secret = bytesToHex(generateSecretKey());
            const keys = new NWCWalletServiceKeyPair(walletSecret, getPublicKey(Buffer.from(secret, 'hex')));
            unsubscribes.push(await service.subscribe(keys, handler));
            return `nostr+walletconnect://${keys.walletPubkey}?relay=${encodeURIComponent(relayUrl)}&secret=${secret}`;
        },
        close() {
            unsubscribes.forEach((u) => u());
            service.close();
        },
    };
}
