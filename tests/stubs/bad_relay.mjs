#!/usr/bin/env node
// bad_relay.mjs: a misbehaving websocket "relay", to prove Pylon's relay client survives one.
//
// Prints `LISTENING <port>` on stdout when ready; stops on SIGTERM. What it does to a client
// depends on the path the client connects to:
//   /garbage         floods the client, every 10 ms, with: binary frames, text that is not
//                    JSON, invalid UTF-8, JSON of the wrong shape, a deeply nested array, OK
//                    with a bad id, and EVENTs whose signature or id is forged
//   /oversize?bytes=N  sends one text message of N bytes (a JSON NOTICE padded to size), then
//                    `["NOTICE","after-oversize"]`, and answers every later text message with
//                    a NOTICE echoing its length (the connection stays usable)
//   /mute            completes the handshake, then never sends a byte and never answers a
//                    ping (a dead link as TCP sees it: the socket stays open)
//   /close           closes at once with code 4000, reason "go away"
// Usage: node bad_relay.mjs [--port N]
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';

// The pinned npm tools live in tests/node.
const require = createRequire(new URL('../node/package.json', import.meta.url));
const { WebSocketServer } = require('ws');

const portArg = process.argv.indexOf('--port');
const port = portArg > 0 ? Number(process.argv[portArg + 1]) : 0;
const official = JSON.parse(readFileSync(new URL('../vectors/nip01-nip13-official-event.json',
                                                 import.meta.url))).event;

const forgedSig = { ...official, sig: official.sig.replace(/^./, c => (c === '0' ? '1' : '0')) };
const forgedId = { ...official, content: 'edited after signing' };
const garbage = [
    Buffer.from([0x00, 0xff, 0x13, 0x37, 0x42]),           // sent as a binary frame
    'this is not json',
    Buffer.from([0x5b, 0x22, 0xc3, 0x28, 0x22, 0x5d]),     // ["\xc3("] invalid UTF-8, as text
    '{"EVENT":"wrong shape"}',
    '["OK","not-hex",true,""]',
    '["EVENT","s",' + '['.repeat(5000) + ']'.repeat(5000) + ']',
    JSON.stringify(['EVENT', 'healthy', forgedSig]),
    JSON.stringify(['EVENT', 'healthy', forgedId]),
    '["NOTICE",' + '"x'.repeat(3) + ']',
    '',
];

const wss = new WebSocketServer({ host: '127.0.0.1', port, autoPong: true });
wss.on('connection', (ws, req) => {
    const url = new URL(req.url, 'ws://127.0.0.1');
    ws.on('error', () => {});
    if (url.pathname === '/garbage') {
        let i = 0;
        const timer = setInterval(() => {
            const item = garbage[i++ % garbage.length];
            const binary = i % garbage.length === 1;
            if (ws.readyState === ws.OPEN) ws.send(item, { binary });
        }, 10);
        ws.on('close', () => clearInterval(timer));
    } else if (url.pathname === '/oversize') {
        const bytes = Number(url.searchParams.get('bytes') ?? 2 * 1024 * 1024);
        const head = '["NOTICE","';
        const tail = '"]';
        ws.send(head + 'x'.repeat(Math.max(0, bytes - head.length - tail.length)) + tail);
        ws.send('["NOTICE","after-oversize"]');
        ws.on('message', data => ws.send(JSON.stringify(['NOTICE', `got ${data.length}`])));
    } else if (url.pathname === '/mute') {
        ws._socket.pause();   // stop reading: pings are never seen, so never answered
    } else if (url.pathname === '/close') {
        ws.close(4000, 'go away');
    } else {
        ws.close(4004, 'unknown path');
    }
});
wss.on('listening', () => process.stdout.write(`LISTENING ${wss.address().port}\n`));
wss.on('error', error => {
    console.error('bad_relay:', error.message);
    process.exit(1);
});
const stop = () => {
    for (const client of wss.clients) client.terminate();
    wss.close(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
