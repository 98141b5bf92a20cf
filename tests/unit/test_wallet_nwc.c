/*  test_wallet_nwc.c: the NWC (NIP-47) wallet backend. The URI and message parsers with
    hostile input, the error-code texts, and the wallet actor over the runtime with probes
    playing the relay actor, the ledger and the job router; the test itself plays the wallet
    service: it decrypts each request the actor publishes and answers with signed, encrypted
    events, good and bad. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <json-c/json.h>
#include <sodium.h>

#include "actors.h"
#include "bolt11.h"
#include "nip44.h"
#include "node.h"
#include "nostr_event.h"
#include "nostr_keys.h"
#include "probe.h"
#include "wallet.h"
#include "wallet/nwc.h"

#define WALLET_SECRET "6f5e9f0c5b1e4b8a0d3c2b1a09f8e7d6c5b4a3928170f6e5d4c3b2a190817263"
#define CLIENT_SECRET "71a8c14c1407c113601079c4302dab36460f0ccd0ad506f1f2dc73b5100e4f3c"

/* ---- parsers ------------------------------------------------------------------------------- */

/* Fill a URI template: @P the wallet key, @S the client secret, @p60 / @s62 shortened. */
static void
s_fill(const char *tmpl, const char *pk, char *out, size_t size)
{
    size_t n = 0;
    while (*tmpl && n + 70 < size) {
        if (strncmp(tmpl, "@p60", 4) == 0 || strncmp(tmpl, "@s62", 4) == 0) {
            const char *src = tmpl[1] == 'p' ? pk : CLIENT_SECRET;
            size_t len = tmpl[1] == 'p' ? 60 : 62;
            memcpy(out + n, src, len);
            n += len;
            tmpl += 4;
        }
        else if (strncmp(tmpl, "@P", 2) == 0 || strncmp(tmpl, "@S", 2) == 0) {
            memcpy(out + n, tmpl[1] == 'P' ? pk : CLIENT_SECRET, 64);
            n += 64;
            tmpl += 2;
        }
        else
            out[n++] = *tmpl++;
    }
    out[n] = 0;
}

static void
t_uri(void **state)
{
    uint8_t wallet_sk[32], wallet_pk[32];
    sodium_hex2bin(wallet_sk, 32, WALLET_SECRET, 64, NULL, NULL, NULL);
    nostr_keys_pubkey_from_seckey(wallet_sk, wallet_pk);
    char pk[65], uri[1024], err[256];
    nostr_event_hex(wallet_pk, 32, pk);
    nwc_uri_t u;
    snprintf(uri, sizeof uri, "nostr+walletconnect://%s?relay=wss%%3A%%2F%%2Frelay.example.com"
             "&relay=ws%%3A%%2F%%2F127.0.0.1%%3A7000&secret=%s&lud16=pay%%40example.com&x=1",
             pk, CLIENT_SECRET);
    assert_int_equal(nwc_uri_parse(uri, &u, err, sizeof err), 0);
    assert_int_equal(u.relay_count, 2);
    assert_string_equal(u.relays[0], "wss://relay.example.com");
    assert_string_equal(u.relays[1], "ws://127.0.0.1:7000");
    assert_string_equal(u.lud16, "pay@example.com");
    assert_memory_equal(u.wallet_pubkey, wallet_pk, 32);
    nwc_uri_wipe(&u);

    struct { const char *uri; const char *error; } bad[] = {
        {"", "the NWC URI is empty: set [wallet] nwc_uri"},
        {"https://@P?relay=wss://r&secret=@S", "the NWC URI must start with nostr+walletconnect://"},
        {"nostr+walletconnect://@P?secret=@S", "the NWC URI has no relay= parameter"},
        {"nostr+walletconnect://@P?relay=wss://r", "the NWC URI has no secret= parameter"},
        {"nostr+walletconnect://@P?relay=https://r&secret=@S", "an NWC relay must be a ws:// or wss:// URL"},
        {"nostr+walletconnect://@P?relay=wss://r%0a&secret=@S",
         "the NWC URI has a malformed %-escape or a control character"},
        {"nostr+walletconnect://@P?relay=wss://r%4&secret=@S",
         "the NWC URI has a malformed %-escape or a control character"},
        {"nostr+walletconnect://@p60?relay=wss://r&secret=@S", "the NWC URI's wallet key must be 64 hex digits"},
        {"nostr+walletconnect://@P?relay=wss://r&secret=@s62", "the NWC URI's secret must be 64 hex digits"},
        {"nostr+walletconnect://@P?relay=wss://r&secret=@S&secret=@S", "the NWC URI has two secret= parameters"},
        {"nostr+walletconnect://@P?relay=wss://r&lud16=nobody&secret=@S",
         "the NWC URI's lud16 is not a lightning address (name@domain)"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        s_fill(bad[i].uri, pk, uri, sizeof uri);
        assert_int_equal(nwc_uri_parse(uri, &u, err, sizeof err), -1);
        assert_string_equal(err, bad[i].error);
        assert_null(strstr(err, CLIENT_SECRET));    /* the secret never shows */
    }
    /* A zero secret is not a key; x = 0 is not on the curve. */
    snprintf(uri, sizeof uri, "nostr+walletconnect://%s?relay=wss://r&secret=%064d", pk, 0);
    assert_int_equal(nwc_uri_parse(uri, &u, err, sizeof err), -1);
    assert_string_equal(err, "the NWC URI's secret is not a valid secp256k1 key");
    snprintf(uri, sizeof uri, "nostr+walletconnect://%064d?relay=wss://r&secret=%s", 0, CLIENT_SECRET);
    assert_int_equal(nwc_uri_parse(uri, &u, err, sizeof err), -1);
    assert_string_equal(err, "the NWC URI's wallet key is not a point on secp256k1");
    /* Too long. */
    char *huge = malloc(2 * NWC_URI_MAX);
    snprintf(huge, 2 * NWC_URI_MAX, "nostr+walletconnect://%s?relay=wss://r&secret=%s&x=", pk,
             CLIENT_SECRET);
    memset(huge + strlen(huge), 'a', NWC_URI_MAX);
    huge[NWC_URI_MAX + 50] = 0;
    assert_int_equal(nwc_uri_parse(huge, &u, err, sizeof err), -1);
    assert_string_equal(err, "the NWC URI is longer than 4096 bytes");
    free(huge);
}

static int
s_parse(const char *json, nwc_message_t *m, char *err)
{
    return nwc_message_parse(json, strlen(json), m, err, 256);
}

static void
t_messages(void **state)
{
    nwc_message_t m;
    char err[256];
    const char *hash = "2c7e8f0000000000000000000000000000000000000000000000000000000001";
    char text[2048];
    snprintf(text, sizeof text, "{\"result_type\":\"lookup_invoice\",\"error\":null,\"result\":"
             "{\"type\":\"incoming\",\"invoice\":\"lnbc1\",\"payment_hash\":\"%s\","
             "\"preimage\":\"0a1b\",\"amount\":1000,\"settled_at\":1738000042,\"unknown\":[1]}}",
             hash);
    assert_int_equal(s_parse(text, &m, err), 0);
    assert_string_equal(m.type, "lookup_invoice");
    assert_false(m.has_error);
    assert_true(m.has_payment_hash);
    assert_int_equal(m.payment_hash[31], 1);
    assert_int_equal(m.amount, 1000);
    assert_int_equal(m.state, NWC_STATE_NONE);
    assert_true(nwc_message_paid(&m));      /* no state: settled_at decides */
    /* A state beats the other members. */
    assert_int_equal(s_parse("{\"result_type\":\"lookup_invoice\",\"result\":{\"state\":"
                             "\"pending\",\"preimage\":\"00\"}}", &m, err), 0);
    assert_false(nwc_message_paid(&m));
    /* An error without "result" (NWCWalletService leaves it out). */
    assert_int_equal(s_parse("{\"result_type\":\"make_invoice\",\"error\":{\"code\":"
                             "\"RATE_LIMITED\",\"message\":\"slow down\"}}", &m, err), 0);
    assert_true(m.has_error);
    assert_string_equal(m.error_code, "RATE_LIMITED");
    assert_string_equal(m.error_message, "slow down");
    /* Notifications. */
    snprintf(text, sizeof text, "{\"notification_type\":\"payment_received\",\"notification\":"
             "{\"state\":\"settled\",\"payment_hash\":\"%s\",\"amount\":5}}", hash);
    assert_int_equal(s_parse(text, &m, err), 0);
    assert_true(m.is_notification);
    assert_true(nwc_message_paid(&m));

    struct { const char *json; const char *error; } bad[] = {
        {"", "not a JSON object"},
        {"[]", "not a JSON object"},
        {"{\"result_type\":\"x\"} {}", "not a JSON object"},
        {"{\"result_type\":\"x\",}", "not a JSON object"},
        {"{\"error\":null}", "result_type missing or not a short string"},
        {"{\"result_type\":7}", "result_type missing or not a short string"},
        {"{\"result_type\":\"x\",\"error\":\"bad\"}", "error is not an object with a code"},
        {"{\"result_type\":\"x\",\"error\":{\"message\":\"m\"}}", "error is not an object with a code"},
        {"{\"result_type\":\"x\",\"result\":[1]}", "result is not an object"},
        {"{\"result_type\":\"x\",\"result\":{\"amount\":-1}}", "result.amount is not a non-negative integer"},
        {"{\"result_type\":\"x\",\"result\":{\"amount\":\"1000\"}}", "result.amount is not a non-negative integer"},
        {"{\"result_type\":\"x\",\"result\":{\"settled_at\":1.5}}", "result.settled_at is not a non-negative integer"},
        {"{\"result_type\":\"x\",\"result\":{\"payment_hash\":\"abc\"}}", "result.payment_hash is not 64 hex digits"},
        {"{\"result_type\":\"x\",\"result\":{\"state\":\"paid\"}}", "result.state is not one of NIP-47's states"},
        {"{\"notification_type\":\"payment_received\"}", "notification without a body"},
        {"[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]", "not a JSON object"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(s_parse(bad[i].json, &m, err), -1);
        assert_string_equal(err, bad[i].error);
    }
    /* An invoice over its limit; a message over the size limit. */
    char *big = malloc(NWC_MESSAGE_MAX + 10);
    int n = snprintf(big, NWC_MESSAGE_MAX, "{\"result_type\":\"x\",\"result\":{\"invoice\":\"");
    memset(big + n, 'a', 5000);
    strcpy(big + n + 5000, "\"}}");
    assert_int_equal(s_parse(big, &m, err), -1);
    assert_string_equal(err, "result.invoice is not a string of at most 4096 bytes");
    memset(big, ' ', NWC_MESSAGE_MAX + 1);
    big[NWC_MESSAGE_MAX + 1] = 0;
    assert_int_equal(s_parse(big, &m, err), -1);
    assert_string_equal(err, "message longer than 65536 bytes");
    free(big);
}

static void
t_error_texts(void **state)
{
    const char *codes[] = {"RATE_LIMITED", "NOT_IMPLEMENTED", "INSUFFICIENT_BALANCE",
                           "QUOTA_EXCEEDED", "RESTRICTED", "UNAUTHORIZED", "INTERNAL",
                           "UNSUPPORTED_ENCRYPTION", "OTHER", "NOT_FOUND", "PAYMENT_FAILED"};
    const char *generic = nwc_error_text("NO_SUCH_CODE");
    assert_string_equal(generic, "the wallet answered with an error code NIP-47 does not define");
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        const char *text = nwc_error_text(codes[i]);
        assert_true(strlen(text) > 10);
        assert_ptr_not_equal(text, generic);
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(text, nwc_error_text(codes[j]));
    }
    assert_string_equal(nwc_error_text(NULL), generic);
}

/* ---- the actor ----------------------------------------------------------------------------- */

typedef struct {
    config_t cfg;
    wallet_args_t args;
    probe_t *relay, *ledger, *router;
    node_t *node;
    char wallet_ep[64];
    nostr_keys_t *wallet;           /* the wallet service's keys (played by the test) */
    uint8_t client_pk[32];
    char client_hex[65], wallet_hex[65];
    uint8_t conv[32];               /* NIP-44 key between the two */
} fx_t;

static int fx_no;

static int
setup(void **state)
{
    fx_t *f = calloc(1, sizeof *f);
    config_defaults(&f->cfg);
    uint8_t sk[32], csk[32];
    sodium_hex2bin(sk, 32, WALLET_SECRET, 64, NULL, NULL, NULL);
    sodium_hex2bin(csk, 32, CLIENT_SECRET, 64, NULL, NULL, NULL);
    f->wallet = nostr_keys_new(sk);
    nostr_keys_pubkey_from_seckey(csk, f->client_pk);
    nostr_event_hex(f->client_pk, 32, f->client_hex);
    nostr_event_hex(nostr_keys_pubkey(f->wallet), 32, f->wallet_hex);
    nip44_conversation_key(sk, f->client_pk, f->conv);
    char uri[512];
    snprintf(uri, sizeof uri, "nostr+walletconnect://%s?relay=ws%%3A%%2F%%2F127.0.0.1%%3A1&secret=%s",
             f->wallet_hex, CLIENT_SECRET);
    free(f->cfg.nwc_uri);
    f->cfg.nwc_uri = strdup(uri);
    free(f->cfg.wallet_backend);
    f->cfg.wallet_backend = strdup("nwc");
    f->cfg.wallet_request_timeout_ms = 1000;
    f->cfg.wallet_poll_interval_ms = 600000;
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    fx_t *f = *state;
    node_stop(&f->node);
    probe_destroy(&f->relay);
    probe_destroy(&f->ledger);
    probe_destroy(&f->router);
    nostr_keys_destroy(&f->wallet);
    config_free(&f->cfg);
    free(f);
    return 0;
}

static void
s_expect(probe_t *probe, msg_t *in, int type, int timeout_ms)
{
    assert_int_equal(probe_recv(probe, in, timeout_ms), 0);
    if ((int) in->type != type)
        fail_msg("expected %s, got %s", msg_type_name(type), msg_type_name(in->type));
}

/* Send the actor an event signed by the wallet service. */
static void
s_wallet_event(fx_t *f, const char *sub, int kind, const char *content, const char *e_hex,
               const char *encryption)
{
    nostr_event_t *ev = nostr_event_new((uint32_t) kind, (int64_t) time(NULL), content,
                                        strlen(content));
    if (kind == 13194)
        nostr_event_add_tagv(ev, "encryption", encryption, NULL);
    else
        nostr_event_add_tagv(ev, "p", f->client_hex, NULL);
    if (e_hex)
        nostr_event_add_tagv(ev, "e", e_hex, NULL);
    assert_int_equal(nostr_event_sign(ev, f->wallet), 0);
    char *json = nostr_event_to_json(ev, NULL);
    msg_t msg = {.type = MSG_RELAY_EVENT,
                 .relay_event = {.sub = sub, .relay = "ws://127.0.0.1:1", .event = json}};
    assert_int_equal(probe_send(f->relay, "wallet", f->wallet_ep, &msg), 0);
    free(json);
    nostr_event_destroy(&ev);
}

/* Start the actor, check its two subscriptions, and publish the info event. */
static void
s_start(fx_t *f, const char *methods)
{
    char prefix[32], ep[3][64];
    snprintf(prefix, sizeof prefix, "tn%d-", ++fx_no);
    snprintf(ep[0], 64, "inproc://%srelay", prefix);
    snprintf(ep[1], 64, "inproc://%sledger", prefix);
    snprintf(ep[2], 64, "inproc://%sjob_router", prefix);
    snprintf(f->wallet_ep, sizeof f->wallet_ep, "inproc://%swallet", prefix);
    actor_directory_t dir = {0};
    actor_directory_add(&dir, "relay", ep[0]);
    actor_directory_add(&dir, "ledger", ep[1]);
    actor_directory_add(&dir, "job_router", ep[2]);
    f->relay = probe_new("relay", ep[0]);
    f->ledger = probe_new("ledger", ep[1]);
    f->router = probe_new("job_router", ep[2]);
    f->args = (wallet_args_t) {.cfg = &f->cfg};
    node_member_t members[] = {{&wallet_actor, &f->args}};
    f->node = node_start(members, 1, &dir, prefix, NULL);
    assert_non_null(f->node);
    msg_t in = {0};
    s_expect(f->ledger, &in, MSG_LEDGER_QUERY, 2000);
    msg_t rows = {.type = MSG_LEDGER_ROWS,
                  .ledger_rows = {.ref = in.ledger_query.ref, .ok = true, .json = "[]"}};
    assert_int_equal(probe_send(f->ledger, "wallet", f->wallet_ep, &rows), 0);
    msg_release(&in);
    /* The wallet's own relay is added to the relay actor's set first. */
    s_expect(f->relay, &in, MSG_RELAY_ADD, 2000);
    assert_non_null(strstr(in.relay_add.url, "ws"));
    msg_release(&in);
    s_expect(f->relay, &in, MSG_RELAY_SUBSCRIBE, 2000);
    assert_string_equal(in.relay_subscribe.sub, "wallet-nwc-info");
    assert_non_null(strstr(in.relay_subscribe.filter, f->wallet_hex));
    assert_non_null(strstr(in.relay_subscribe.filter, "13194"));
    msg_release(&in);
    s_expect(f->relay, &in, MSG_RELAY_SUBSCRIBE, 2000);
    assert_string_equal(in.relay_subscribe.sub, "wallet-nwc");
    assert_non_null(strstr(in.relay_subscribe.filter, f->client_hex));
    assert_non_null(strstr(in.relay_subscribe.filter, "23195"));
    msg_release(&in);
    if (methods)
        s_wallet_event(f, "wallet-nwc-info", 13194, methods, NULL, "nip44_v2 nip04");
}

/* Take the next request the actor publishes: its method (decrypted) and event id. */
static json_object *
s_take_request(fx_t *f, char id_hex[65], uint64_t *ref)
{
    msg_t in = {0};
    s_expect(f->relay, &in, MSG_RELAY_PUBLISH, 3000);
    nostr_event_t *ev = nostr_event_parse(in.relay_publish.event, strlen(in.relay_publish.event),
                                          NULL, NULL);
    assert_non_null(ev);
    assert_int_equal(nostr_event_check(ev), 0);
    assert_int_equal(ev->kind, 23194);
    assert_memory_equal(ev->pubkey, f->client_pk, 32);
    const nostr_tag_t *p = nostr_event_tag(ev, "p"), *enc = nostr_event_tag(ev, "encryption");
    assert_string_equal(p->elems[1].str, f->wallet_hex);
    assert_string_equal(enc->elems[1].str, "nip44_v2");
    assert_non_null(nostr_event_tag(ev, "expiration"));
    size_t len;
    int err;
    uint8_t *plain = nip44_decrypt(f->conv, ev->content.str, ev->content.len, 0, &len, &err);
    assert_non_null(plain);
    json_object *req = json_tokener_parse((const char *) plain);
    free(plain);
    nostr_event_hex(ev->id, 32, id_hex);
    if (ref)
        *ref = in.relay_publish.ref;
    nostr_event_destroy(&ev);
    msg_release(&in);
    return req;
}

static void
s_answer(fx_t *f, const char *id_hex, const char *plain)
{
    size_t len;
    int err;
    char *content = nip44_encrypt(f->conv, (const uint8_t *) plain, strlen(plain), NULL, 0,
                                  &len, &err);
    s_wallet_event(f, "wallet-nwc", 23195, content, id_hex, NULL);
    free(content);
}

static void
s_request(fx_t *f, uint8_t job, uint64_t amount)
{
    msg_t ask = {.type = MSG_INVOICE_REQUEST,
                 .invoice_request = {.amount_msats = amount, .description = "job", .expiry_s = 600}};
    memset(ask.invoice_request.job, job, 32);
    assert_int_equal(probe_send(f->router, "wallet", f->wallet_ep, &ask), 0);
}

/* A real invoice as a wallet would write it (regtest, amount, a fresh hash). */
static void
s_bolt11(uint64_t amount, uint8_t hash[32], char *out, size_t size)
{
    bolt11_invoice_t inv;
    bolt11_invoice_init(&inv, BOLT11_REGTEST);
    inv.has_amount = true;
    inv.amount_msat = amount;
    inv.timestamp = (uint64_t) time(NULL);
    inv.expiry = 600;
    inv.has_description = true;
    strcpy(inv.description, "job");
    randombytes_buf(hash, 32);
    memcpy(inv.payment_hash, hash, 32);
    randombytes_buf(inv.payment_secret, 32);
    uint8_t key[32];
    memset(key, 0x11, 32);
    assert_int_equal(bolt11_encode(out, size, &inv, key), 0);
}

static void
t_invoice_and_notification(void **state)
{
    fx_t *f = *state;
    s_start(f, "make_invoice lookup_invoice");
    s_request(f, 5, 42000);
    char id[65], bolt11[2048], hash_hex[65];
    uint8_t hash[32];
    json_object *req = s_take_request(f, id, NULL);
    assert_string_equal(json_object_get_string(json_object_object_get(req, "method")), "make_invoice");
    json_object *params = json_object_object_get(req, "params");
    assert_int_equal(json_object_get_int64(json_object_object_get(params, "amount")), 42000);
    assert_int_equal(json_object_get_int64(json_object_object_get(params, "expiry")), 600);
    json_object_put(req);
    s_bolt11(42000, hash, bolt11, sizeof bolt11);
    nostr_event_hex(hash, 32, hash_hex);
    char answer[4096];
    snprintf(answer, sizeof answer, "{\"result_type\":\"make_invoice\",\"error\":null,\"result\":"
             "{\"type\":\"incoming\",\"state\":\"pending\",\"invoice\":\"%s\",\"payment_hash\":"
             "\"%s\",\"amount\":42000}}", bolt11, hash_hex);
    s_answer(f, id, answer);
    s_answer(f, id, answer);    /* a duplicate answer is ignored */
    msg_t in = {0};
    s_expect(f->ledger, &in, MSG_LEDGER_INVOICE_NEW, 2000);
    assert_string_equal(in.ledger_invoice_new.wallet, "nwc");
    assert_string_equal(in.ledger_invoice_new.preimage, "");
    assert_string_equal(in.ledger_invoice_new.bolt11, bolt11);
    msg_t ack = {.type = MSG_LEDGER_ACK,
                 .ledger_ack = {.ref = in.ledger_invoice_new.ref, .ok = true, .state = "", .error = ""}};
    assert_int_equal(probe_send(f->ledger, "wallet", f->wallet_ep, &ack), 0);
    msg_release(&in);
    s_expect(f->router, &in, MSG_INVOICE, 2000);
    assert_true(in.invoice.ok);
    assert_memory_equal(in.invoice.payment_hash, hash, 32);
    msg_release(&in);
    assert_int_equal(probe_recv(f->ledger, &in, 200), -1);     /* one record only */

    /* The wallet notifies the payment (NIP-44 kind 23197). */
    snprintf(answer, sizeof answer, "{\"notification_type\":\"payment_received\",\"notification\":"
             "{\"type\":\"incoming\",\"state\":\"settled\",\"payment_hash\":\"%s\",\"amount\":42000,"
             "\"settled_at\":1738000042}}", hash_hex);
    size_t len;
    int err;
    char *content = nip44_encrypt(f->conv, (const uint8_t *) answer, strlen(answer), NULL, 0, &len, &err);
    s_wallet_event(f, "wallet-nwc", 23197, content, NULL, NULL);
    free(content);
    s_expect(f->ledger, &in, MSG_LEDGER_INVOICE_SETTLED, 2000);
    assert_int_equal(in.ledger_invoice_settled.amount_msats, 42000);
    assert_int_equal(in.ledger_invoice_settled.settled_at, 1738000042);
    ack.ledger_ack.ref = in.ledger_invoice_settled.ref;
    assert_int_equal(probe_send(f->ledger, "wallet", f->wallet_ep, &ack), 0);
    msg_release(&in);
    s_expect(f->router, &in, MSG_INVOICE_SETTLED, 2000);
    assert_memory_equal(in.invoice_settled.payment_hash, hash, 32);
    msg_release(&in);
}

/* Every way a make_invoice can fail ends in INVOICE ok=false with a clear error. */
static void
t_failures(void **state)
{
    fx_t *f = *state;
    s_start(f, "make_invoice lookup_invoice");
    char id[65], answer[4096], bolt11[2048], hash_hex[65];
    uint8_t hash[32];
    msg_t in = {0};
    struct { const char *answer; const char *error; } cases[] = {
        {"{\"result_type\":\"make_invoice\",\"error\":{\"code\":\"UNAUTHORIZED\",\"message\":\"no such app\"}}",
         "nwc wallet: the wallet does not know this connection: the NWC URI was revoked or is "
         "wrong (UNAUTHORIZED: no such app)"},
        {"{\"result_type\":\"make_invoice\",\"error\":{\"code\":\"RATE_LIMITED\",\"message\":\"\"},\"result\":null}",
         "nwc wallet: the wallet is rate-limiting this connection: too many requests (RATE_LIMITED)"},
        {"{\"result_type\":\"make_invoice\",\"error\":{\"code\":\"QUOTA_EXCEEDED\",\"message\":\"q\"}}",
         "nwc wallet: this connection's spending quota in the wallet is used up (QUOTA_EXCEEDED: q)"},
        {"{\"result_type\":\"make_invoice\",\"error\":{\"code\":\"WEIRD\",\"message\":\"?\"}}",
         "nwc wallet: the wallet answered with an error code NIP-47 does not define (WEIRD: ?)"},
        {"{\"result_type\":\"make_invoice\",\"result\":{\"amount\":\"lots\"}}",
         "nwc wallet: the NWC wallet's answer is unusable: result.amount is not a non-negative integer"},
        {"not json", "nwc wallet: the NWC wallet's answer is unusable: not a JSON object"},
        {"{\"result_type\":\"make_invoice\",\"result\":{\"state\":\"pending\"}}",
         "nwc wallet: the NWC wallet's make_invoice answer has no invoice"},
        {"WRONG_AMOUNT", "nwc wallet returned an invoice that does not match: "},
        {"WRONG_HASH", "nwc wallet returned an invoice that does not match: "},
        {"TIMEOUT", "nwc wallet: the NWC wallet did not answer make_invoice within 1000 ms"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        s_request(f, (uint8_t) i, 1000);
        json_object_put(s_take_request(f, id, NULL));
        const char *text = cases[i].answer;
        if (strcmp(text, "WRONG_AMOUNT") == 0 || strcmp(text, "WRONG_HASH") == 0) {
            bool amount = strcmp(text, "WRONG_AMOUNT") == 0;
            s_bolt11(amount ? 2000 : 1000, hash, bolt11, sizeof bolt11);
            if (!amount)
                hash[0] ^= 1;
            nostr_event_hex(hash, 32, hash_hex);
            snprintf(answer, sizeof answer, "{\"result_type\":\"make_invoice\",\"result\":"
                     "{\"invoice\":\"%s\",\"payment_hash\":\"%s\"}}", bolt11, hash_hex);
            text = answer;
        }
        if (strcmp(text, "TIMEOUT") != 0)
            s_answer(f, id, text);
        s_expect(f->router, &in, MSG_INVOICE, 3000);
        assert_false(in.invoice.ok);
        assert_int_equal(in.invoice.job[0], (uint8_t) i);
        if (strncmp(in.invoice.error, cases[i].error, strlen(cases[i].error)) != 0)
            fail_msg("case %zu: got \"%s\"", i, in.invoice.error);
        msg_release(&in);
    }
    /* No invoice was ever recorded. */
    assert_int_equal(probe_recv(f->ledger, &in, 100), -1);
    /* A relay that refuses the request. */
    uint64_t ref;
    s_request(f, 99, 1000);
    json_object_put(s_take_request(f, id, &ref));
    msg_t refused = {.type = MSG_RELAY_PUBLISHED,
                     .relay_published = {.ref = ref, .ok = false, .rejected = 1,
                                         .reason = "blocked: rate limit"}};
    assert_int_equal(probe_send(f->relay, "wallet", f->wallet_ep, &refused), 0);
    s_expect(f->router, &in, MSG_INVOICE, 3000);
    assert_false(in.invoice.ok);
    assert_string_equal(in.invoice.error,
                        "nwc wallet: no relay took the NWC request: blocked: rate limit");
    msg_release(&in);
}

/* Before the info event, requests wait; without it they time out saying why. */
static void
t_no_info_event(void **state)
{
    fx_t *f = *state;
    s_start(f, NULL);
    msg_t in = {0};
    s_request(f, 1, 1000);
    assert_int_equal(probe_recv(f->relay, &in, 300), -1);      /* nothing published yet */
    s_expect(f->router, &in, MSG_INVOICE, 3000);
    assert_false(in.invoice.ok);
    assert_non_null(strstr(in.invoice.error, "its info event, kind 13194, was not found"));
    msg_release(&in);
    /* Once it arrives, a new request goes out at once. */
    s_wallet_event(f, "wallet-nwc-info", 13194, "make_invoice lookup_invoice", NULL, "nip44_v2");
    s_request(f, 2, 1000);
    char id[65];
    json_object_put(s_take_request(f, id, NULL));
}

/* Polling: an open invoice is looked up until the wallet says it is paid. */
static void
t_polling_lookup(void **state)
{
    fx_t *f = *state;
    f->cfg.wallet_poll_interval_ms = 500;
    s_start(f, "make_invoice lookup_invoice");
    char id[65], answer[4096], bolt11[2048], hash_hex[65];
    uint8_t hash[32];
    s_request(f, 3, 7000);
    json_object_put(s_take_request(f, id, NULL));
    s_bolt11(7000, hash, bolt11, sizeof bolt11);
    nostr_event_hex(hash, 32, hash_hex);
    snprintf(answer, sizeof answer, "{\"result_type\":\"make_invoice\",\"result\":{\"invoice\":"
             "\"%s\",\"payment_hash\":\"%s\"}}", bolt11, hash_hex);
    s_answer(f, id, answer);
    msg_t in = {0};
    s_expect(f->ledger, &in, MSG_LEDGER_INVOICE_NEW, 2000);
    msg_t ack = {.type = MSG_LEDGER_ACK,
                 .ledger_ack = {.ref = in.ledger_invoice_new.ref, .ok = true, .state = "", .error = ""}};
    assert_int_equal(probe_send(f->ledger, "wallet", f->wallet_ep, &ack), 0);
    msg_release(&in);
    s_expect(f->router, &in, MSG_INVOICE, 2000);
    msg_release(&in);
    /* First lookup: still pending. Second: NOT_FOUND (kept: not expired). Third: paid. */
    const char *answers[] = {
        "{\"result_type\":\"lookup_invoice\",\"result\":{\"state\":\"pending\"}}",
        "{\"result_type\":\"lookup_invoice\",\"error\":{\"code\":\"NOT_FOUND\",\"message\":\"\"}}",
        "{\"result_type\":\"lookup_invoice\",\"result\":{\"preimage\":\"ab\",\"amount\":7000,"
        "\"settled_at\":1738000100}}",
    };
    for (int i = 0; i < 3; i++) {
        json_object *req = s_take_request(f, id, NULL);
        assert_string_equal(json_object_get_string(json_object_object_get(req, "method")),
                            "lookup_invoice");
        json_object *params = json_object_object_get(req, "params");
        assert_string_equal(json_object_get_string(json_object_object_get(params, "payment_hash")),
                            hash_hex);
        json_object_put(req);
        s_answer(f, id, answers[i]);
    }
    s_expect(f->ledger, &in, MSG_LEDGER_INVOICE_SETTLED, 3000);
    assert_int_equal(in.ledger_invoice_settled.settled_at, 1738000100);
    msg_release(&in);
}

/* A lookup answered with another invoice's state (its payment_hash differs) settles nothing. */
static void
t_lookup_other_invoice(void **state)
{
    fx_t *f = *state;
    f->cfg.wallet_poll_interval_ms = 300;
    s_start(f, "make_invoice lookup_invoice");
    char id[65], answer[4096], bolt11[2048], hash_hex[65], other_hex[65];
    uint8_t hash[32], other[32];
    s_request(f, 4, 7000);
    json_object_put(s_take_request(f, id, NULL));
    s_bolt11(7000, hash, bolt11, sizeof bolt11);
    nostr_event_hex(hash, 32, hash_hex);
    snprintf(answer, sizeof answer, "{\"result_type\":\"make_invoice\",\"result\":{\"invoice\":"
             "\"%s\",\"payment_hash\":\"%s\"}}", bolt11, hash_hex);
    s_answer(f, id, answer);
    msg_t in = {0};
    s_expect(f->ledger, &in, MSG_LEDGER_INVOICE_NEW, 2000);
    msg_t ack = {.type = MSG_LEDGER_ACK,
                 .ledger_ack = {.ref = in.ledger_invoice_new.ref, .ok = true, .state = "", .error = ""}};
    assert_int_equal(probe_send(f->ledger, "wallet", f->wallet_ep, &ack), 0);
    msg_release(&in);
    s_expect(f->router, &in, MSG_INVOICE, 2000);
    msg_release(&in);
    json_object_put(s_take_request(f, id, NULL));
    memcpy(other, hash, 32);
    other[0] ^= 1;
    nostr_event_hex(other, 32, other_hex);
    snprintf(answer, sizeof answer, "{\"result_type\":\"lookup_invoice\",\"result\":{\"state\":"
             "\"settled\",\"payment_hash\":\"%s\",\"amount\":7000,\"settled_at\":1738000100}}",
             other_hex);
    s_answer(f, id, answer);
    assert_int_equal(probe_recv(f->ledger, &in, 1500), -1);
    assert_int_equal(probe_recv(f->router, &in, 100), -1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_uri),
        cmocka_unit_test(t_messages),
        cmocka_unit_test(t_error_texts),
        cmocka_unit_test_setup_teardown(t_invoice_and_notification, setup, teardown),
        cmocka_unit_test_setup_teardown(t_failures, setup, teardown),
        cmocka_unit_test_setup_teardown(t_no_info_event, setup, teardown),
        cmocka_unit_test_setup_teardown(t_polling_lookup, setup, teardown),
        cmocka_unit_test_setup_teardown(t_lookup_other_invoice, setup, teardown),
    };
    return cmocka_run_group_tests_name("wallet_nwc", tests, NULL, NULL);
}
