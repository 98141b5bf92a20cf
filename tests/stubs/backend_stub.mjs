#!/usr/bin/env node
// backend_stub.mjs: one scriptable stub of the inference back-ends Pylon talks to, reproducing
// their HTTP APIs as documented in shared/reference/apis.md (A1-A4) and as a real llama-server
// was observed to answer (llama-server-observed.md). Node's built-in http module only.
//
// It listens on 127.0.0.1, port 0 (ephemeral), and prints "LISTENING <port>" on stdout when ready.
//
// Flags (each is also a key of the control endpoint's JSON, e.g. {"fail":"die","die-after":2}):
//   --api NAME              llama | ollama | fm1 (FM bridge wire v1) | fm2 (FM bridge wire v0.2) | openai
//   --model NAME            model name the server reports (default per api)
//   --tokens A,B,C          the reply, as the pieces streamed one per event (default "Hello,\, world, ძ")
//   --first-token-delay MS  delay before the status line (prompt processing; default 0)
//   --token-delay MS        delay between streamed pieces (default 0)
//   --loading-ms MS         llama: 503 "Loading model" on every route for MS after start (or after
//                           the control call that sets it); fm1/fm2: /health not ready and 503 on
//                           completions; ollama: the first chat waits MS and reports load_duration
//   --api-key KEY           llama/openai: require "Authorization: Bearer KEY" (llama also takes a
//                           bare key or X-Api-Key); /health, /v1/health, /v1/models stay public on llama
//   --slots N               completions processed at once; the rest wait in an unbounded FIFO
//                           (llama's behaviour: no error, no status line while queued). Default 1.
//   --max-queue N           ollama: more than N waiting gives 503 "server busy" (default unbounded)
//   --ctx N                 per-slot context; a prompt over N tokens (chars/4) gives llama's 400
//                           exceed_context_size_error (also in stream mode, as plain JSON). Default 4096.
//   --fail MODE             force every completion to fail:
//                             auth        401 in the api's error shape
//                             bad_request 400 invalid request
//                             context     llama 400 exceed_context_size_error / openai context_length_exceeded
//                             not_found   404 model not found (ollama, openai, fm 404 route)
//                             busy        ollama 503 server busy, openai 429, llama 503 no slot
//                             unavailable llama 503 Loading model, fm 503 model_unavailable / apple_fm_not_ready
//                             server      500 in the api's shape
//                             malformed   200 with a body (or stream event) that is not JSON
//                             stream_error stream the first --die-after pieces, then an error event, no [DONE]
//                             die         send the first --die-after pieces, then destroy the socket
//                             huge        200 with a reply of --huge-bytes bytes
//                             stall       accept the request and never answer
//                             stall_mid   send headers and the first piece, then never anything more
//   --die-after K           pieces sent before stream_error / die (default 1)
//   --huge-bytes N          size of the huge reply (default 16 MiB)
//   --split N               write streamed bytes in pieces of N bytes (odd offsets, mid-UTF-8)
//   --ping                  llama/openai streams: a ": ping" comment line before each event
//   --models A,B            ollama /api/tags model names (default "llama3.2:latest"; "" = none)
//   --no-prompt-eval-count  ollama: omit prompt_eval_count from the final object
//
// Control endpoint (always public):
//   POST /__stub/config  JSON object of flags to change (names as above, without "--")
//   GET  /__stub/stats   {"requests","completions","concurrent","max_concurrent","active",
//                         "max_active","queued","max_queued","client_closed","last_body"}
//   POST /__stub/reset   zero the counters
import http from 'node:http';

const DEFAULT_MODELS = { llama: 'tiny.gguf', ollama: 'llama3.2', fm1: 'apple-foundation-model',
                         fm2: 'apple-foundation-model', openai: 'gpt-4o-mini' };

const cfg = {
  api: 'llama', model: '', tokens: 'Hello,\\, world, ძ', 'first-token-delay': 0, 'token-delay': 0,
  'loading-ms': 0, 'api-key': '', slots: 1, 'max-queue': -1, ctx: 4096, fail: '', 'die-after': 1,
  'huge-bytes': 16 * 1024 * 1024, split: 0, ping: false, models: 'llama3.2:latest',
  'no-prompt-eval-count': false,
};
const BOOLEAN_FLAGS = new Set(['ping', 'no-prompt-eval-count']);

function parseArgs(argv) {
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i].replace(/^--/, '');
    if (!(name in cfg)) { console.error(`backend_stub: unknown flag ${argv[i]}`); process.exit(2); }
    if (BOOLEAN_FLAGS.has(name)) cfg[name] = true;
    else cfg[name] = typeof cfg[name] === 'number' ? Number(argv[++i]) : argv[++i];
  }
}
parseArgs(process.argv.slice(2));
let loadingSince = Date.now();

const stats = {};
function resetStats() {
  Object.assign(stats, { requests: 0, completions: 0, concurrent: 0, max_concurrent: 0, active: 0,
                         max_active: 0, queued: 0, max_queued: 0, client_closed: 0, last_body: null });
}
resetStats();

const model = () => cfg.model || DEFAULT_MODELS[cfg.api];
// "a,b\,c" -> ["a", "b,c"]: a backslash keeps a comma inside a piece
const pieces = () => cfg.tokens.split(/(?<!\\),/).map((t) => t.replace(/\\,/g, ','));
const loading = () => cfg['loading-ms'] > 0 && Date.now() - loadingSince < cfg['loading-ms'];
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const now = () => Math.floor(Date.now() / 1000);

// Swift JSONEncoder with .sortedKeys: keys sorted at every level
function sortKeys(value) {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sortKeys(value[k])]));
  return value;
}
function encode(obj) {
  if (cfg.api === 'fm1') return JSON.stringify(sortKeys(obj), null, 2);
  if (cfg.api === 'fm2') return JSON.stringify(sortKeys(obj));
  return JSON.stringify(obj);
}

// --- slots: at most cfg.slots completions at once, FIFO waiters ---------------------------
const waiters = [];
function acquireSlot(state) {
  return new Promise((resolve, reject) => {
    if (stats.active < cfg.slots) { take(); return; }
    if (cfg.api === 'ollama' && cfg['max-queue'] >= 0 && waiters.length >= cfg['max-queue']) {
      reject(new Error('queue full')); return;
    }
    const waiter = { state, go: take };
    waiters.push(waiter);
    stats.queued = waiters.length;
    stats.max_queued = Math.max(stats.max_queued, stats.queued);
    state.dequeue = () => {
      const i = waiters.indexOf(waiter);
      if (i >= 0) waiters.splice(i, 1);
      stats.queued = waiters.length;
    };
    function take() {
      state.hasSlot = true;
      stats.active++;
      stats.max_active = Math.max(stats.max_active, stats.active);
      resolve();
    }
  });
}
function releaseSlot(state) {
  if (!state.hasSlot) return;
  state.hasSlot = false;
  stats.active--;
  while (stats.active < cfg.slots && waiters.length) {
    const next = waiters.shift();
    stats.queued = waiters.length;
    next.go();
  }
}

// --- error bodies, per api ----------------------------------------------------------------
function errorFor(kind, ctxInfo) {
  const api = cfg.api;
  const llama = (code, message, type, extra = {}) => [code, { error: { code, message, type, ...extra } }];
  const oai = (code, message, type, c = null) => [code, { error: { message, type, param: null, code: c } }];
  const fm1 = (code, message, type, c) => [code, { error: c ? { code: c, message, type } : { message, type } }];
  const fm2 = (code, error, message, extra = {}) => [code, { error, message, ...extra }];
  const table = {
    llama: {
      auth: () => llama(401, 'Invalid API Key', 'authentication_error'),
      bad_request: () => llama(400, "'messages' is required", 'invalid_request_error'),
      context: () => llama(400, `request (${ctxInfo.n_prompt_tokens} tokens) exceeds the available context size (${ctxInfo.n_ctx} tokens), try increasing it`,
                           'exceed_context_size_error', ctxInfo),
      not_found: () => llama(404, 'File Not Found', 'not_found_error'),
      busy: () => llama(503, 'no slot available', 'unavailable_error'),
      unavailable: () => llama(503, 'Loading model', 'unavailable_error'),
      server: () => llama(500, 'decode failed', 'server_error'),
    },
    openai: {
      auth: () => oai(401, 'Incorrect API key provided', 'invalid_request_error', 'invalid_api_key'),
      bad_request: () => oai(400, "'messages' is required", 'invalid_request_error'),
      context: () => oai(400, `This model's maximum context length is ${ctxInfo.n_ctx} tokens. However, your messages resulted in ${ctxInfo.n_prompt_tokens} tokens.`,
                         'invalid_request_error', 'context_length_exceeded'),
      not_found: () => oai(404, `The model \`${model()}\` does not exist`, 'invalid_request_error', 'model_not_found'),
      busy: () => oai(429, 'Rate limit reached', 'rate_limit_exceeded', 'rate_limit_exceeded'),
      unavailable: () => oai(503, 'The engine is currently overloaded', 'server_error'),
      server: () => oai(500, 'The server had an error', 'server_error'),
    },
    ollama: {
      auth: () => [401, { error: 'unauthorized' }],
      bad_request: () => [400, { error: 'model is required' }],
      context: () => [400, { error: 'input length exceeds the context length' }],
      not_found: () => [404, { error: `model "${model()}" not found, try pulling it first` }],
      busy: () => [503, { error: 'server busy, please try again.  maximum pending requests exceeded' }],
      unavailable: () => [503, { error: 'server busy, please try again.  maximum pending requests exceeded' }],
      server: () => [500, { error: 'llama runner process has terminated: exit status 2' }],
    },
    fm1: {
      auth: () => fm1(401, 'unauthorized', 'invalid_request_error', 'invalid_request'),
      bad_request: () => fm1(400, 'Invalid JSON', 'invalid_request_error', 'invalid_request'),
      context: () => fm1(400, 'Exceeded model context window size', 'invalid_request_error', 'invalid_request'),
      not_found: () => fm1(404, 'Not found: POST /v1/chat/completions', 'error'),
      busy: () => fm1(503, 'Foundation Models is busy', 'model_unavailable', 'model_unavailable'),
      unavailable: () => fm1(503, 'Apple Foundation Models unavailable', 'model_unavailable', 'model_unavailable'),
      server: () => fm1(500, 'generation failed', 'request_failed', 'request_failed'),
    },
    fm2: {
      auth: () => fm2(401, 'bad_request', 'unauthorized'),
      bad_request: () => fm2(400, 'bad_request', 'invalid body'),
      context: () => fm2(400, 'bad_request', 'Exceeded model context window size'),
      not_found: () => fm2(404, 'not_found', 'No route for POST /v1/chat/completions'),
      busy: () => fm2(503, 'apple_fm_not_ready', 'Apple Foundation Models unavailable: model_unavailable', { unavailableReason: 'model_unavailable' }),
      unavailable: () => fm2(503, 'apple_fm_not_ready', 'Apple Foundation Models unavailable: apple_intelligence_disabled', { unavailableReason: 'apple_intelligence_disabled' }),
      server: () => fm2(500, 'generation_failed', 'generation failed', { unavailableReason: 'model_unavailable' }),
    },
  };
  return table[api][kind]();
}

function sendJson(res, status, obj, extraHeaders = {}) {
  if (res.destroyed) return;
  const body = Buffer.from(typeof obj === 'string' ? obj : encode(obj));
  const headers = { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': body.length, ...extraHeaders };
  if (status >= 400 || cfg.api.startsWith('fm')) headers.Connection = 'close';
  res.writeHead(status, headers);
  res.end(body);
}
function sendError(res, kind, ctxInfo) {
  const [status, body] = errorFor(kind, ctxInfo);
  sendJson(res, status, body);
}

// Write streamed text, optionally in cfg.split-byte pieces (each its own write and HTTP chunk).
async function streamWrite(res, state, text) {
  if (state.closed) return;
  const bytes = Buffer.from(text);
  if (!cfg.split) { res.write(bytes); return; }
  for (let at = 0; at < bytes.length && !state.closed; at += cfg.split) {
    res.write(bytes.subarray(at, at + cfg.split));
    await sleep(1);
  }
}

// --- the chat completion, common to every api ------------------------------------------------
function promptChars(body) {
  let n = 0;
  for (const m of body.messages || []) n += typeof m.content === 'string' ? m.content.length : JSON.stringify(m.content || '').length;
  return n;
}

async function chat(req, res, body, state) {
  stats.completions++;
  const api = cfg.api;
  const promptTokens = Math.max(1, Math.ceil(promptChars(body) / 4));
  const fail = cfg.fail;
  const wantStream = api === 'ollama' ? body.stream !== false : body.stream === true && api !== 'fm2';
  const maxTokens = api === 'ollama' ? body.options?.num_predict : api === 'fm2' ? body.maxTokens : body.max_tokens;
  let reply = pieces();
  let finish = 'stop';
  if (Number.isInteger(maxTokens) && maxTokens >= 0 && reply.length > maxTokens) { reply = reply.slice(0, maxTokens); finish = 'length'; }
  if (fail === 'huge') reply = Array.from({ length: Math.ceil(cfg['huge-bytes'] / 4096) }, () => 'x'.repeat(4096));

  // Immediate errors (before any slot, like the servers' request validation)
  if (fail === 'stall') return;                                   // never answer
  if (api === 'fm1' && (state.reads > 1 || state.bytes > 65536)) return sendError(res, 'bad_request');
  if (['auth', 'bad_request', 'not_found', 'busy', 'unavailable', 'server', 'context'].includes(fail))
    return sendError(res, fail, { n_prompt_tokens: promptTokens, n_ctx: cfg.ctx });
  if (api.startsWith('fm') && loading()) return sendError(res, 'unavailable');
  if ((api === 'llama' || api === 'openai') && promptTokens > cfg.ctx)
    return sendError(res, 'context', { n_prompt_tokens: promptTokens, n_ctx: cfg.ctx });

  try { await acquireSlot(state); }
  catch { return sendError(res, 'busy'); }
  if (state.closed) return releaseSlot(state);

  // Ollama loads the model on the first request: it just takes longer
  let loadNs = 1334875;
  if (api === 'ollama' && loading()) {
    const left = cfg['loading-ms'] - (Date.now() - loadingSince);
    loadNs = left * 1e6;
    await sleep(left);
  }
  if (cfg['first-token-delay']) await sleep(cfg['first-token-delay']);
  if (state.closed) return releaseSlot(state);

  const completionTokens = reply.length;
  const content = reply.join('');
  const id = api === 'openai' ? 'chatcmpl-123' : api.startsWith('fm') ? 'fm-7E0D5A2B' : 'chatcmpl-zidNewLvOVsbPyND38VOkcAsxIM8IBYm';
  const created = now();
  const timings = { cache_n: 0, prompt_n: promptTokens, prompt_ms: 1.2, prompt_per_token_ms: 0.1, prompt_per_second: 808.0,
                    predicted_n: completionTokens, predicted_ms: 5.0, predicted_per_token_ms: 0.6, predicted_per_second: 1600.0 };
  const usage = { completion_tokens: completionTokens, prompt_tokens: promptTokens, total_tokens: promptTokens + completionTokens };

  if (!wantStream) {
    if (fail === 'malformed') { releaseSlot(state); return sendJson(res, 200, '{"choices":[{"finish_reason":"stop","message":{"content":"'); }
    if (fail === 'stall_mid' || fail === 'die') {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': 100000 });
      res.write('{"choices":[');
      if (fail === 'die') setTimeout(() => { state.killed = true; res.destroy(); releaseSlot(state); }, 5);
      return;   // stall_mid: hold the slot and the socket until the client gives up
    }
    let obj;
    if (api === 'ollama')
      obj = { model: model(), created_at: new Date().toISOString(), message: { role: 'assistant', content }, done: true,
              done_reason: finish, total_duration: 4883583458, load_duration: loadNs,
              ...(cfg['no-prompt-eval-count'] ? {} : { prompt_eval_count: promptTokens }), prompt_eval_duration: 342546000,
              eval_count: completionTokens, eval_duration: 4535599000 };
    else if (api === 'fm2')
      obj = { choices: [{ finishReason: finish, index: 0, message: { content, role: 'assistant' } }], id, model: model(),
              usage: { completionTokens, promptTokens, totalTokens: promptTokens + completionTokens, truth: 'estimated' } };
    else if (api === 'fm1')
      obj = { choices: [{ finish_reason: finish, index: 0, message: { content, role: 'assistant' } }], created, id, model: model(),
              object: 'chat.completion', usage };
    else
      obj = { choices: [{ finish_reason: finish, index: 0, message: { role: 'assistant', content } }], created, model: model(),
              system_fingerprint: api === 'openai' ? 'fp_123' : 'b0-unknown', object: 'chat.completion',
              usage: { ...usage, prompt_tokens_details: { cached_tokens: 0 } }, id,
              ...(api === 'llama' ? { timings } : {}) };
    releaseSlot(state);
    return sendJson(res, 200, obj);
  }

  // Streaming
  const ndjson = api === 'ollama';
  res.writeHead(200, ndjson ? { 'Content-Type': 'application/x-ndjson' }
                            : { 'Content-Type': 'text/event-stream', 'X-Accel-Buffering': 'no',
                                ...(api === 'fm1' ? { Connection: 'close' } : {}) });
  const includeUsage = body.stream_options?.include_usage === true;
  // SSE data is one line: compact JSON (sorted keys for the FM bridge)
  const compact = (obj) => JSON.stringify(api === 'fm1' ? sortKeys(obj) : obj);
  const sse = (obj) => (cfg.ping ? ': ping\n\n' : '') + (api === 'fm1' ? `id: ${id}\n` : '') + `data: ${typeof obj === 'string' ? obj : compact(obj)}\n\n`;
  const chunk = (delta, finishReason, extra = {}) => api === 'fm1'
    ? { id, object: 'chat.completion.chunk', created, model: model(), choices: [{ index: 0, delta, ...(finishReason !== undefined ? { finish_reason: finishReason } : {}) }] }
    : { choices: [{ finish_reason: finishReason ?? null, index: 0, delta }], created, id, model: model(),
        system_fingerprint: api === 'openai' ? 'fp_123' : 'b0-unknown', object: 'chat.completion.chunk', ...extra };
  const events = [];
  if (ndjson) {
    for (const piece of reply)
      events.push(JSON.stringify({ model: model(), created_at: new Date().toISOString(), message: { role: 'assistant', content: piece }, done: false }) + '\n');
    events.push(JSON.stringify({ model: model(), created_at: new Date().toISOString(), message: { role: 'assistant', content: '' }, done: true,
      done_reason: finish, total_duration: 4883583458, load_duration: loadNs,
      ...(cfg['no-prompt-eval-count'] ? {} : { prompt_eval_count: promptTokens }), prompt_eval_duration: 342546000,
      eval_count: completionTokens, eval_duration: 4535599000 }) + '\n');
  } else {
    events.push(sse(chunk({ role: 'assistant', content: api === 'llama' ? null : '' }, api === 'fm1' ? null : undefined)));
    for (const piece of reply) events.push(sse(chunk({ content: piece }, api === 'fm1' ? undefined : null)));
    if (api === 'fm1') events.push(sse(chunk({ content: '' }, finish)));
    else events.push(sse(chunk({}, finish, api === 'llama' && !includeUsage ? { timings } : {})));
    if (includeUsage && api !== 'fm1')
      events.push(sse({ choices: [], created, id, model: model(), object: 'chat.completion.chunk', usage, ...(api === 'llama' ? { timings } : {}) }));
    events.push((cfg.ping ? ': ping\n\n' : '') + 'data: [DONE]\n\n');
  }

  const dieAfter = cfg['die-after'];
  for (let i = 0; i < events.length; i++) {
    if (state.closed) return releaseSlot(state);
    if (i > 0 && cfg['token-delay']) await sleep(cfg['token-delay']);
    if ((fail === 'die' || fail === 'stream_error') && i === dieAfter) {
      if (fail === 'die') {
        await sleep(20);    // let the pieces already written reach the client first
        state.killed = true;
        res.destroy();
        return releaseSlot(state);
      }
      const err = ndjson ? JSON.stringify({ error: 'an error was encountered while running the model' }) + '\n'
        : api === 'fm1' ? sse({ error: { message: 'generation failed mid-stream' } })
        : sse({ error: { code: 500, message: 'decode failed mid-stream', type: 'server_error' } });
      await streamWrite(res, state, err);
      releaseSlot(state);
      return res.end();
    }
    if (fail === 'stall_mid' && i === 1) return;   // hold everything until the client gives up
    if (fail === 'malformed' && i === 1) { await streamWrite(res, state, ndjson ? '{"message":{"content":\n' : 'data: {"choices":[{\n\n'); continue; }
    await streamWrite(res, state, events[i]);
  }
  releaseSlot(state);
  res.end();
}

// --- routes ---------------------------------------------------------------------------------
function authorized(req) {
  if (!cfg['api-key']) return true;
  const key = cfg['api-key'];
  const auth = req.headers.authorization || '';
  return auth === `Bearer ${key}` || (cfg.api === 'llama' && (auth === key || req.headers['x-api-key'] === key));
}

function route(req, res, body, state) {
  const api = cfg.api;
  const path = req.url.split('?')[0];
  const isChat = req.method === 'POST' && (path === '/v1/chat/completions' || (api === 'ollama' && path === '/api/chat')
                                             || (api === 'fm1' && path === '/chat/completions'));
  if (api === 'llama' && loading()) return sendError(res, 'unavailable');
  // Observed llama-server: only /health and /v1/health are public (not /v1/models)
  const publicPath = ['/health', '/v1/health'].includes(path);
  if ((api === 'llama' || api === 'openai') && !publicPath && !authorized(req)) return sendError(res, 'auth');

  if (isChat) {
    let parsed;
    try { parsed = JSON.parse(body.toString('utf8')); }
    catch (e) {
      if (api === 'llama') return sendJson(res, 500, { error: { code: 500, message: `[json.exception.parse_error.101] ${e.message}`, type: 'server_error' } });
      return sendError(res, 'bad_request');
    }
    stats.last_body = parsed;
    if (api !== 'ollama' && api !== 'fm2' && !Array.isArray(parsed.messages) && api !== 'fm1') return sendError(res, 'bad_request');
    return chat(req, res, parsed, state);
  }
  if (req.method !== 'GET') return sendError(res, 'not_found');
  const m = model();
  switch (api) {
    case 'llama':
      if (path === '/health' || path === '/v1/health') return sendJson(res, 200, { status: 'ok' });
      if (path === '/props')
        return sendJson(res, 200, { default_generation_settings: { params: { temperature: 0.8, top_k: 40, top_p: 0.95, max_tokens: -1, n_predict: -1 }, n_ctx: cfg.ctx },
                                    total_slots: cfg.slots, model_alias: m, model_path: m, modalities: { vision: false }, build_info: 'b0-unknown', is_sleeping: false });
      if (path === '/v1/models' || path === '/models')
        return sendJson(res, 200, { models: [{ name: m, model: m }], object: 'list',
                                    data: [{ id: m, aliases: [m], tags: [], object: 'model', created: now(), owned_by: 'llamacpp', meta: { n_ctx: cfg.ctx } }] });
      if (path === '/slots')
        return sendJson(res, 200, Array.from({ length: cfg.slots }, (_, i) => ({ id: i, n_ctx: cfg.ctx, is_processing: i < stats.active })));
      if (path === '/metrics')
        return sendJson(res, 501, { error: { code: 501, message: 'This server does not support metrics endpoint. Start it with `--metrics`', type: 'not_supported_error' } });
      break;
    case 'ollama':
      if (path === '/') { res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' }); return res.end('Ollama is running'); }
      if (path === '/api/version') return sendJson(res, 200, { version: '0.11.4' });
      if (path === '/api/tags')
        return sendJson(res, 200, { models: cfg.models.split(',').filter(Boolean).map((name) => ({ name, model: name, modified_at: '2025-05-04T17:37:44.706015396-07:00',
          size: 2019393189, digest: 'a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72',
          details: { parent_model: '', format: 'gguf', family: 'llama', families: ['llama'], parameter_size: '3.2B', quantization_level: 'Q4_K_M' } })) });
      break;
    case 'fm1':
      if (path === '/health')
        return sendJson(res, 200, { model_available: !loading(), platform: 'macOS', status: loading() ? 'degraded' : 'ok', version: '1.0.0' });
      if (path === '/v1/models' || path === '/models')
        return sendJson(res, 200, { data: [{ created: 1733400000, id: m, object: 'model', owned_by: 'apple' }], object: 'list' });
      break;
    case 'fm2':
      if (path === '/health')
        return sendJson(res, 200, loading()
          ? { message: 'Apple Foundation Models unavailable: model_unavailable', model: m, modelId: m, platform: 'macOS', ready: false, unavailableReason: 'model_unavailable', version: '0.1.3' }
          : { message: 'Apple Foundation Models is available.', model: m, modelId: m, platform: 'macOS', ready: true, version: '0.1.3' });
      if (path === '/v1/models') return sendJson(res, 200, { data: [{ id: m, ownedBy: 'apple' }] });
      break;
    case 'openai':
      if (path === '/v1/models')
        return sendJson(res, 200, { object: 'list', data: [{ id: m, object: 'model', created: 1746404264, owned_by: 'system' }] });
      break;
  }
  return sendError(res, 'not_found');
}

const server = http.createServer((req, res) => {
  const path = req.url.split('?')[0];
  const chunks = [];
  const state = { closed: false, hasSlot: false, reads: 0, bytes: 0, dequeue: null };
  req.on('data', (c) => { chunks.push(c); state.reads++; state.bytes += c.length; });
  res.on('close', () => {
    if (res.writableFinished || state.killed) return;
    state.closed = true;
    stats.client_closed++;
    if (state.dequeue) state.dequeue();
    releaseSlot(state);
  });
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    if (path.startsWith('/__stub/')) {
      if (path === '/__stub/stats') return sendJsonPlain(res, 200, stats);
      if (path === '/__stub/reset') { resetStats(); return sendJsonPlain(res, 200, { ok: true }); }
      if (path === '/__stub/config') {
        let change;
        try { change = JSON.parse(body.toString('utf8') || '{}'); } catch { return sendJsonPlain(res, 400, { error: 'bad JSON' }); }
        for (const key of Object.keys(change))
          if (!(key in cfg)) return sendJsonPlain(res, 400, { error: `unknown key ${key}` });
        Object.assign(cfg, change);
        if ('loading-ms' in change) loadingSince = Date.now();
        // More slots may let waiters run now
        while (stats.active < cfg.slots && waiters.length) { const next = waiters.shift(); stats.queued = waiters.length; next.go(); }
        return sendJsonPlain(res, 200, cfg);
      }
      return sendJsonPlain(res, 404, { error: 'unknown control path' });
    }
    stats.requests++;
    stats.concurrent++;
    stats.max_concurrent = Math.max(stats.max_concurrent, stats.concurrent);
    res.on('close', () => { stats.concurrent--; });
    Promise.resolve(route(req, res, body, state)).catch((e) => {
      console.error('backend_stub:', e);
      if (!res.headersSent) sendJsonPlain(res, 500, { error: String(e) }); else res.destroy();
    });
  });
});
function sendJsonPlain(res, status, obj) {
  const body = JSON.stringify(obj);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

server.keepAliveTimeout = 5000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`LISTENING ${server.address().port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
