// ask_replies.mjs: `pylon ask` against a provider played here (nostr-tools), over two real
// relays: every reply reaches the buyer twice, once per relay. A long streamed answer (more
// partial feedback events than a small fixed table of ids holds) must still print each piece
// once, and the result once. Prints TAP.
import { Buyer, check, finish, makeTempDir, runPylon, sleep, startRelay, tag, waitUntil } from './lib/common.mjs';

const dir = makeTempDir('pylon-ask-');
const relays = [await startRelay(dir, 'r1'), await startRelay(dir, 'r2')];
const urls = relays.map((r) => r.url);

await check('pylon ask prints each of 100 partials and the result once, over two relays', async (problems) => {
    // The provider: signs with its own key; the buyer's key is learnt from its request.
    const provider = new Buyer(urls, null, 'provider');
    const requests = [];
    provider.onEvent = (event) => { if (event && event.kind === 5935) requests.push(event); };
    await Promise.all(provider.links.map((l) => l.subscribe('requests', [{ kinds: [5935], '#p': [provider.pubkey] }])));
    const ask = runPylon(['ask', '--to', provider.pubkey, '--stream', '--timeout', '60',
                          ...urls.flatMap((u) => ['--relay', u]), 'Count.'],
                         { env: { PYLON_CONFIG_DIR: dir }, timeoutMs: 90000 });
    const request = await waitUntil(() => requests[0], 30000, 'the request of pylon ask');
    const buyer = request.pubkey;
    await sleep(1000);          // its subscription is live on both relays by now
    const pieces = [];
    for (let i = 0; i < 100; i++) {
        const piece = `<${i}>`;
        pieces.push(piece);
        await provider.request(7000, { content: piece, p: buyer,
                                       tags: [['status', 'partial'], ['e', request.id]] });
    }
    const content = pieces.join('');
    await provider.request(6935, { p: buyer, tags: [['e', request.id]],
                                   content: JSON.stringify({ content, backend: 'test', model: 'test' }) });
    const out = await ask;
    provider.close();
    if (out.code !== 0) problems.push(`exit ${out.code}: ${out.stderr.slice(-400)}`);
    if (out.stdout !== content + '\n')
        problems.push(`stdout is not each piece once then a line end: ${JSON.stringify(out.stdout.slice(0, 300))}...`);
    if (tag(request, 'p') !== provider.pubkey) problems.push('the request is not addressed to the provider');
});

finish();
