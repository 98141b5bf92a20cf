#!/usr/bin/env node
// relay.mjs: a real Nostr relay for Pylon's tests.
//
// An independent implementation (@nostr-relay/core 0.0.40, its SQLite event store and its message
// validator) served with `ws` on 127.0.0.1, so Pylon's relay client is tested against code it
// shares nothing with. It prints `LISTENING <port>` on stdout once it accepts connections, and
// stops cleanly on SIGTERM or SIGINT. Started again with the same --port and --db it serves the
// same stored events, which is how tests prove that events published while a relay was down
// still reach a client that reconnects.
//
// Usage: node relay.mjs [--port N] [--db FILE|:memory:] [--max-message BYTES]
//                       [--auth-required] [--rate-limit N] [--tls-cert FILE --tls-key FILE]
//                       [--default-limit N] [--quiet]
//   --port N          TCP port on 127.0.0.1; 0 (the default) picks an ephemeral port
//   --db FILE         SQLite database file; default :memory:
//   --max-message B   largest websocket message accepted from a client (default 1 MiB); a bigger
//                     one closes that client's connection with code 1009, as `ws` does
//   --auth-required   NIP-42: the relay sends an AUTH challenge on connect and answers EVENT and
//                     REQ from an unauthenticated client with `auth-required:`
//   --rate-limit N    answer the first N EVENT messages of each connection with
//                     `OK false "rate-limited: ..."` (exercises a client's retry path)
//   --tls-cert FILE   serve wss:// with this PEM certificate (and --tls-key, its PEM key)
//   --default-limit N events a REQ filter without a limit returns (default 100, the library's);
//                     a filter's own limit is capped at 10 times this
//   --quiet           no log lines on stderr
import { NostrRelay } from '@nostr-relay/core';
import { EventRepositorySqlite } from '@nostr-relay/event-repository-sqlite';
import { Validator } from '@nostr-relay/validator';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { WebSocketServer } from 'ws';

function parseArgs(argv) {
    const opts = { port: 0, db: ':memory:', maxMessage: 1024 * 1024, authRequired: false,
                   rateLimit: 0, tlsCert: null, tlsKey: null, defaultLimit: 100, quiet: false };
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        const value = () => {
            if (i + 1 >= argv.length) throw new Error(`${arg} needs a value`);
            return argv[++i];
        };
        if (arg === '--port') opts.port = Number(value());
        else if (arg === '--db') opts.db = value();
        else if (arg === '--max-message') opts.maxMessage = Number(value());
        else if (arg === '--auth-required') opts.authRequired = true;
        else if (arg === '--rate-limit') opts.rateLimit = Number(value());
        else if (arg === '--tls-cert') opts.tlsCert = value();
        else if (arg === '--tls-key') opts.tlsKey = value();
        else if (arg === '--default-limit') opts.defaultLimit = Number(value());
        else if (arg === '--quiet') opts.quiet = true;
        else throw new Error(`unknown argument ${arg}`);
    }
    if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535)
        throw new Error('--port must be 0..65535');
    if (!opts.tlsCert !== !opts.tlsKey)
        throw new Error('--tls-cert and --tls-key go together');
    if (!Number.isInteger(opts.maxMessage) || opts.maxMessage < 64)
        throw new Error('--max-message must be an integer >= 64');
    if (!Number.isInteger(opts.defaultLimit) || opts.defaultLimit < 1)
        throw new Error('--default-limit must be an integer >= 1');
    return opts;
}

// A middleware plugin: refuses EVENT/REQ from unauthenticated clients (NIP-42), and rate-limits
// the first N EVENTs of a connection. The library itself only restricts DMs when NIP-42 is on.
class GatePlugin {
    constructor(opts, relay) {
        this.opts = opts;
        this.relay = relay;
        this.eventsSeen = new WeakMap();   // ClientContext -> EVENT messages received so far
    }
    async handleMessage(ctx, message, next) {
        const [type] = message;
        if (this.opts.authRequired && !ctx.pubkey) {
            if (type === 'EVENT') {
                ctx.sendMessage(['OK', message[1].id, false, 'auth-required: authenticate first']);
                return { messageType: 'EVENT', success: false };
            }
            if (type === 'REQ') {
                ctx.sendMessage(['CLOSED', message[1], 'auth-required: authenticate first']);
                return { messageType: 'REQ', events: [] };
            }
        }
        if (type === 'EVENT' && this.opts.rateLimit > 0) {
            const seen = (this.eventsSeen.get(ctx) ?? 0) + 1;
            this.eventsSeen.set(ctx, seen);
            if (seen <= this.opts.rateLimit) {
                ctx.sendMessage(['OK', message[1].id, false, 'rate-limited: slow down']);
                return { messageType: 'EVENT', success: false };
            }
        }
        return next();
    }
}

async function main() {
    const opts = parseArgs(process.argv.slice(2));
    const log = opts.quiet ? () => {} : (...a) => console.error('relay:', ...a);

    const repository = new EventRepositorySqlite(opts.db, { defaultLimit: opts.defaultLimit });
    await repository.init();
    const relay = new NostrRelay(repository, {
        hostname: opts.authRequired ? '127.0.0.1' : undefined,
        logLevel: 3,   // errors only: the library's info lines would drown the test logs
        eventHandlingResultCacheTtl: 0,
        filterResultCacheTtl: 0,   // the default caches a filter's answer for 1 s: a client that
                                   // resubscribes after a restart would miss what was stored since
    });
    relay.register(new GatePlugin(opts, relay));
    const validator = new Validator();

    // Plain ws:// by default; wss:// on an https server when given a certificate.
    let wss, listener;
    if (opts.tlsCert) {
        listener = createServer({ cert: readFileSync(opts.tlsCert), key: readFileSync(opts.tlsKey) });
        wss = new WebSocketServer({ server: listener, maxPayload: opts.maxMessage });
    } else {
        wss = new WebSocketServer({ host: '127.0.0.1', port: opts.port, maxPayload: opts.maxMessage });
        listener = wss;
    }
    wss.on('connection', (ws, req) => {
        log('connection from', req.socket.remotePort);
        relay.handleConnection(ws, req.socket.remoteAddress);
        ws.on('message', async data => {
            try {
                const message = await validator.validateIncomingMessage(data);
                await relay.handleMessage(ws, message);
            } catch (error) {
                // Same behaviour as the library's reference server: the reason as a NOTICE.
                ws.send(JSON.stringify(['NOTICE', `invalid: ${error.message}`]));
            }
        });
        ws.on('close', () => relay.handleDisconnect(ws));
        ws.on('error', error => log('client error:', error.message));
    });
    listener.on('error', error => {
        console.error('relay: server error:', error.message);
        process.exit(1);
    });
    listener.on('listening', () => {
        process.stdout.write(`LISTENING ${listener.address().port}\n`);
        log('db', opts.db, 'max message', opts.maxMessage, opts.tlsCert ? 'tls' : 'plain');
    });
    if (opts.tlsCert) listener.listen(opts.port, '127.0.0.1');

    let stopping = false;
    const stop = async () => {
        if (stopping) return;
        stopping = true;
        log('stopping');
        for (const client of wss.clients) client.terminate();
        wss.close();
        if (listener !== wss) listener.close();
        await relay.destroy();
        await repository.destroy();
        process.exit(0);
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
}

main().catch(error => {
    console.error('relay:', error.message);
    process.exit(2);
});
