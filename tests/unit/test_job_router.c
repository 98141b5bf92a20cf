/*  test_job_router.c: the job state machine with the real ledger and pricing actors, and
    probes playing the relay, the wallet and the inference actors. Each test follows the
    messages a job causes, in order, and checks the ledger's books at the end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <json-c/json.h>
#include <sodium.h>
#include <unistd.h>

#include "actors.h"
#include "job_router.h"
#include "ledger.h"
#include "ledger_db.h"
#include "nip44.h"
#include "node.h"
#include "nostr_event.h"
#include "probe.h"

static const uint8_t s_node_secret[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                                          17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
static const uint8_t s_buyer_secret[32] = {9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9,
                                           9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9};

typedef struct {
    char dir[64];
    char db[128];
    config_t cfg;
    ledger_args_t ledger_args;
    job_router_args_t router_args;
    node_t *node;
    probe_t *relay, *wallet, *inference;
    const char *router;             /* the router's inbox */
    const char *ledger;             /* the ledger's inbox */
    nostr_keys_t *node_keys, *buyer;
    char node_hex[65];
    msg_t in;
} fixture_t;

static const char *s_available[] = {"llamacpp:gpt_oss_20b"};

static void
s_start(fixture_t *f)
{
    static int runs;
    char prefix[32], endpoint[3][64];
    snprintf(prefix, sizeof prefix, "jr%d-", ++runs);
    const char *names[] = {"relay", "wallet", "inference"};
    probe_t **probes[] = {&f->relay, &f->wallet, &f->inference};
    actor_directory_t dir = {0};
    for (int i = 0; i < 3; i++) {
        snprintf(endpoint[i], sizeof endpoint[i], "inproc://%s%s", prefix, names[i]);
        *probes[i] = probe_new(names[i], endpoint[i]);
        actor_directory_add(&dir, names[i], endpoint[i]);
    }
    node_member_t members[] = {{&ledger_actor, &f->ledger_args},
                               {&pricing_actor, &f->cfg},
                               {&job_router_actor, &f->router_args}};
    f->node = node_start(members, 3, &dir, prefix, NULL);
    assert_non_null(f->node);
    f->router = actor_directory_find(node_directory(f->node), "job_router");
    f->ledger = actor_directory_find(node_directory(f->node), "ledger");
}

static void
s_stop(fixture_t *f)
{
    node_stop(&f->node);
    probe_destroy(&f->relay);
    probe_destroy(&f->wallet);
    probe_destroy(&f->inference);
}

/* Wait at probe for a message of type; others of no interest (announcements) are skipped. */
static msg_t *
s_expect(fixture_t *f, probe_t *probe, msg_type_t type)
{
    for (int i = 0; i < 20; i++) {
        if (probe_recv(probe, &f->in, 15000) != 0)     /* generous: CI machines are busy */
            fail_msg("timed out waiting for %s", msg_type_name(type));
        if (f->in.type == type) {
            if (type == MSG_RELAY_PUBLISH) {
                /* Skip the NIP-89 announcement unless it is what we wait for. */
                nostr_event_t *e = nostr_event_parse(f->in.relay_publish.event, strlen(f->in.relay_publish.event), NULL, NULL);
                bool announcement = e && e->kind == 31990;
                nostr_event_destroy(&e);
                if (announcement)
                    continue;
            }
            return &f->in;
        }
    }
    fail_msg("no %s", msg_type_name(type));
    return NULL;
}

static int
s_setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/pylon-router-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->db, sizeof f->db, "%s/pylon.db", f->dir);
    config_defaults(&f->cfg);
    f->cfg.base_price_sats = 10;
    f->cfg.price_per_1k_tokens = 1;
    f->ledger_args.path = f->db;
    f->router_args = (job_router_args_t) {&f->cfg, s_node_secret, s_available, 1};
    f->node_keys = nostr_keys_new(s_node_secret);
    f->buyer = nostr_keys_new(s_buyer_secret);
    nostr_event_hex(nostr_keys_pubkey(f->node_keys), 32, f->node_hex);
    s_start(f);
    /* At start the router subscribes for its jobs. */
    msg_t *sub = s_expect(f, f->relay, MSG_RELAY_SUBSCRIBE);
    assert_string_equal(sub->relay_subscribe.sub, "jobs");
    assert_non_null(strstr(sub->relay_subscribe.filter, f->node_hex));
    *state = f;
    return 0;
}

static int
s_teardown(void **state)
{
    fixture_t *f = *state;
    s_stop(f);
    msg_release(&f->in);
    nostr_keys_destroy(&f->node_keys);
    nostr_keys_destroy(&f->buyer);
    config_free(&f->cfg);
    char command[160];
    snprintf(command, sizeof command, "rm -rf %s", f->dir);
    assert_int_equal(system(command), 0);
    free(f);
    return 0;
}

/* A signed request from the buyer to the node. Returns the event JSON (fresh) and its id. */
static char *
s_request(fixture_t *f, uint32_t kind, const char *content, const char *extra_tag, const char *extra_value,
          uint8_t id[32])
{
    static int64_t created = 1800000000;
    nostr_event_t *e = nostr_event_new(kind, created++, content, strlen(content));
    nostr_event_add_tagv(e, "p", f->node_hex, NULL);
    if (extra_tag)
        nostr_event_add_tagv(e, extra_tag, extra_value, NULL);
    if (kind == 5050) {
        nostr_event_add_tagv(e, "i", "Say hi", "text", NULL);
        nostr_event_add_tagv(e, "param", "max_tokens", "64", NULL);
    }
    assert_int_equal(nostr_event_sign(e, f->buyer), 0);
    memcpy(id, e->id, 32);
    char *json = nostr_event_to_json(e, NULL);
    nostr_event_destroy(&e);
    return json;
}

static void
s_deliver(fixture_t *f, const char *json)
{
    msg_t event = {.type = MSG_RELAY_EVENT, .relay_event = {"jobs", "ws://test", json}};
    assert_int_equal(probe_send(f->relay, "job_router", f->router, &event), 0);
}

/* The event a RELAY_PUBLISH carries, parsed (caller destroys). */
static nostr_event_t *
s_published(fixture_t *f)
{
    msg_t *publish = s_expect(f, f->relay, MSG_RELAY_PUBLISH);
    nostr_event_t *e = nostr_event_parse(publish->relay_publish.event, strlen(publish->relay_publish.event), NULL, NULL);
    assert_non_null(e);
    assert_int_equal(nostr_event_check(e), 0);
    assert_memory_equal(e->pubkey, nostr_keys_pubkey(f->node_keys), 32);
    return e;
}

static const char *
s_tag(const nostr_event_t *e, const char *name, size_t index)
{
    const nostr_tag_t *tag = nostr_event_tag(e, name);
    return tag && tag->count > index ? tag->elems[index].str : NULL;
}

static json_object *
s_ledger(fixture_t *f, const char *what)
{
    char err[256];
    ledger_db_t *db = ledger_db_open(f->db, true, err, sizeof err);
    char *text = ledger_db_query(db, what, NULL, err, sizeof err);
    ledger_db_close(&db);
    json_object *obj = json_tokener_parse(text);
    free(text);
    return obj;
}

static const char *s_chat = "{\"backend\":\"llamacpp:gpt_oss_20b\",\"messages\":[{\"role\":\"user\","
                            "\"content\":\"Hello\"}],\"params\":{\"max_tokens\":100,\"temperature\":0.5}}";

/* Play the wallet: record the invoice in the ledger as the wallet actor does, then answer. */
static void
s_wallet_invoice(fixture_t *f, uint8_t hash[32])
{
    msg_t *ask = s_expect(f, f->wallet, MSG_INVOICE_REQUEST);
    uint8_t job[32];
    memcpy(job, ask->invoice_request.job, 32);
    uint64_t amount = ask->invoice_request.amount_msats;
    randombytes_buf(hash, 32);
    msg_t record = {.type = MSG_LEDGER_INVOICE_NEW,
                    .ledger_invoice_new = {.ref = 1, .bolt11 = "lnbcrt1test", .amount_msats = amount,
                                           .expires_at = 4000000000u, .preimage = "", .wallet = "probe"}};
    memcpy(record.ledger_invoice_new.payment_hash, hash, 32);
    memcpy(record.ledger_invoice_new.job, job, 32);
    assert_int_equal(probe_send(f->wallet, "ledger", f->ledger, &record), 0);
    assert_int_equal(s_expect(f, f->wallet, MSG_LEDGER_ACK)->ledger_ack.ok, true);
    msg_t invoice = {.type = MSG_INVOICE,
                     .invoice = {.ok = true, .bolt11 = "lnbcrt1test", .expires_at = 4000000000u, .error = ""}};
    memcpy(invoice.invoice.job, job, 32);
    memcpy(invoice.invoice.payment_hash, hash, 32);
    assert_int_equal(probe_send(f->wallet, "job_router", f->router, &invoice), 0);
}

static void
s_settle(fixture_t *f, const uint8_t hash[32], uint64_t amount)
{
    msg_t settled = {.type = MSG_INVOICE_SETTLED, .invoice_settled = {.amount_msats = amount, .settled_at = 1800000100}};
    memcpy(settled.invoice_settled.payment_hash, hash, 32);
    assert_int_equal(probe_send(f->wallet, "job_router", f->router, &settled), 0);
}

/* Play the inference actor: answer the request it gets. */
static void
s_infer(fixture_t *f, bool ok)
{
    msg_t *run = s_expect(f, f->inference, MSG_INFER_REQUEST);
    assert_string_equal(run->infer_request.backend, "llamacpp:gpt_oss_20b");
    uint8_t job[32];
    memcpy(job, run->infer_request.job, 32);
    msg_t result = {.type = MSG_INFER_RESULT,
                    .infer_result = {.ok = ok, .content = ok ? "Hi there!" : "", .finish_reason = ok ? "stop" : "",
                                     .prompt_tokens = 9, .completion_tokens = 4, .model = "gpt-oss-20b",
                                     .error_code = ok ? "" : "context_too_long",
                                     .error = ok ? "" : "the prompt needs 9000 tokens, the context holds 8192"}};
    memcpy(result.infer_result.job, job, 32);
    assert_int_equal(probe_send(f->inference, "job_router", f->router, &result), 0);
}

static void
t_paid_5935(void **state)
{
    fixture_t *f = *state;
    uint8_t id[32], hash[32];
    char *request = s_request(f, 5935, s_chat, NULL, NULL, id);
    s_deliver(f, request);
    s_deliver(f, request);      /* the same request through a second relay */
    s_wallet_invoice(f, hash);
    nostr_event_t *e = s_published(f);
    assert_int_equal(e->kind, 7000);
    assert_string_equal(s_tag(e, "status", 1), "payment-required");
    assert_string_equal(s_tag(e, "amount", 1), "11000");   /* 10 sats + 1 sat/1k × 102 tokens */
    assert_string_equal(s_tag(e, "amount", 2), "lnbcrt1test");
    nostr_event_destroy(&e);
    s_settle(f, hash, 11000);
    s_settle(f, hash, 11000);   /* reported twice: booked once */
    e = s_published(f);
    assert_string_equal(s_tag(e, "status", 1), "processing");
    nostr_event_destroy(&e);
    s_infer(f, true);
    e = s_published(f);
    assert_int_equal(e->kind, 6935);
    assert_string_equal(s_tag(e, "request", 1), request);
    assert_string_equal(s_tag(e, "amount", 1), "11000");
    json_object *content = json_tokener_parse(e->content.str);
    assert_string_equal(json_object_get_string(json_object_object_get(content, "content")), "Hi there!");
    assert_string_equal(json_object_get_string(json_object_object_get(content, "finish_reason")), "stop");
    assert_int_equal(json_object_get_int(json_object_object_get(json_object_object_get(content, "usage"), "completion_tokens")), 4);
    json_object_put(content);
    msg_t ok = {.type = MSG_RELAY_PUBLISHED, .relay_published = {.ref = f->in.relay_publish.ref, .ok = true, .accepted = 1, .reason = ""}};
    memcpy(ok.relay_published.id, e->id, 32);
    nostr_event_destroy(&e);
    assert_int_equal(probe_send(f->relay, "job_router", f->router, &ok), 0);
    /* Wait for the router to book the delivery. */
    json_object *status = NULL;
    for (int i = 0; i < 100; i++) {
        json_object_put(status);
        status = s_ledger(f, "status");
        if (json_object_get_int(json_object_object_get(status, "delivered_total")) == 1)
            break;
        usleep(20000);
    }
    assert_int_equal(json_object_get_int(json_object_object_get(status, "delivered_total")), 1);
    assert_int_equal(json_object_get_int(json_object_object_get(status, "jobs_total")), 1);
    assert_int_equal(json_object_get_int64(json_object_object_get(status, "earned_total_msats")), 11000);
    json_object_put(status);
    free(request);
}

static void
t_5050_free(void **state)
{
    fixture_t *f = *state;
    f->cfg.base_price_sats = 0;      /* the operator made jobs free */
    f->cfg.price_per_1k_tokens = 0;
    uint8_t id[32];
    char *request = s_request(f, 5050, "", NULL, NULL, id);
    s_deliver(f, request);
    nostr_event_t *e = s_published(f);
    assert_string_equal(s_tag(e, "status", 1), "processing");   /* no invoice at all */
    nostr_event_destroy(&e);
    s_infer(f, true);
    e = s_published(f);
    assert_int_equal(e->kind, 6050);
    assert_string_equal(e->content.str, "Hi there!");
    assert_string_equal(s_tag(e, "i", 1), "Say hi");
    assert_null(nostr_event_tag(e, "amount"));
    nostr_event_destroy(&e);
    free(request);
}

/* Each bad request gets error feedback naming the problem. */
static void
t_errors(void **state)
{
    fixture_t *f = *state;
    static const struct { uint32_t kind; const char *content; const char *tag, *value; const char *says; } cases[] = {
        {5935, "not json", NULL, NULL, "content is not a JSON object"},
        {5935, "{\"backend\":\"llamacpp:gpt_oss_20b\",\"messages\":[]}", NULL, NULL, "messages must be a non-empty array"},
        {5935, "{\"backend\":\"nope\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", NULL, NULL, "unknown backend 'nope'"},
        {5935, "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"params\":{\"max_tokens\":99999}}", NULL, NULL, "max_tokens 99999 is over"},
        {5935, "{\"messages\":[{\"role\":\"robot\",\"content\":\"x\"}]}", NULL, NULL, "role must be"},
        {5935, "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"params\":{\"temperature\":7}}", NULL, NULL, "temperature must be"},
        /* top_k 0 was accepted here and refused by the backend only after payment. */
        {5935, "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"params\":{\"top_k\":0}}", NULL, NULL, "top_k must be a whole number between 1 and 1000"},
        {5935, "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", "bid", "5", "bid of 5 msats is below the price"},
        {5050, "", "i", "https://x", NULL},    /* (url input: see below) */
    };
    for (size_t i = 0; i + 1 < sizeof cases / sizeof *cases; i++) {
        uint8_t id[32];
        char *request = s_request(f, cases[i].kind, cases[i].content, cases[i].tag, cases[i].value, id);
        s_deliver(f, request);
        nostr_event_t *e = s_published(f);
        assert_int_equal(e->kind, 7000);
        assert_string_equal(s_tag(e, "status", 1), "error");
        if (!strstr(s_tag(e, "status", 2), cases[i].says))
            fail_msg("case %zu: '%s' does not say '%s'", i, s_tag(e, "status", 2), cases[i].says);
        char hex[65];
        nostr_event_hex(id, 32, hex);
        assert_string_equal(s_tag(e, "e", 1), hex);
        nostr_event_destroy(&e);
        free(request);
    }
    /* A prompt over the size limit. */
    char *big = malloc(70000);
    memset(big, 'a', 69999);
    big[69999] = 0;
    char *content;
    assert_true(asprintf(&content, "{\"messages\":[{\"role\":\"user\",\"content\":\"%s\"}]}", big) > 0);
    uint8_t id[32];
    char *request = s_request(f, 5935, content, NULL, NULL, id);
    s_deliver(f, request);
    nostr_event_t *e = s_published(f);
    assert_non_null(strstr(s_tag(e, "status", 2), "over this node's limit"));
    nostr_event_destroy(&e);
    free(request);
    free(content);
    free(big);
}

/* Not addressed to us: silence, and nothing recorded. */
static void
t_not_for_us(void **state)
{
    fixture_t *f = *state;
    nostr_event_t *e = nostr_event_new(5935, 1800000000, s_chat, strlen(s_chat));
    nostr_event_add_tagv(e, "p", "0000000000000000000000000000000000000000000000000000000000000001", NULL);
    nostr_event_sign(e, f->buyer);
    char *json = nostr_event_to_json(e, NULL);
    nostr_event_destroy(&e);
    s_deliver(f, json);
    free(json);
    /* Nor when a tag of it is malformed: the answer would go to another provider's buyer. */
    e = nostr_event_new(5935, 1800000001, s_chat, strlen(s_chat));
    nostr_event_add_tagv(e, "bid", "lots", NULL);
    nostr_event_add_tagv(e, "p", "0000000000000000000000000000000000000000000000000000000000000001", NULL);
    nostr_event_sign(e, f->buyer);
    json = nostr_event_to_json(e, NULL);
    nostr_event_destroy(&e);
    s_deliver(f, json);
    free(json);
    msg_t ask = {.type = MSG_STATUS_REQUEST, .status_request = {5}};
    probe_send(f->relay, "job_router", f->router, &ask);
    msg_t *report = s_expect(f, f->relay, MSG_STATUS_REPORT);
    assert_non_null(strstr(report->status_report.json, "\"not_for_us\":2"));
    json_object *status = s_ledger(f, "status");
    assert_int_equal(json_object_get_int(json_object_object_get(status, "jobs_total")), 0);
    json_object_put(status);
}

/* An encrypted request (NIP-44): decrypted, and every reply encrypted to the buyer. */
static void
t_encrypted(void **state)
{
    fixture_t *f = *state;
    f->cfg.base_price_sats = 0;
    f->cfg.price_per_1k_tokens = 0;
    uint8_t conv[32];
    assert_int_equal(nip44_conversation_key(s_buyer_secret, nostr_keys_pubkey(f->node_keys), conv), 0);
    int error;
    char *sealed = nip44_encrypt(conv, (const uint8_t *) s_chat, strlen(s_chat), NULL, 0, NULL, &error);
    uint8_t id[32];
    char *request = s_request(f, 5935, sealed, "encrypted", NULL, id);
    s_deliver(f, request);
    nostr_event_t *e = s_published(f);
    assert_string_equal(s_tag(e, "status", 1), "processing");
    assert_non_null(nostr_event_tag(e, "encrypted"));
    nostr_event_destroy(&e);
    s_infer(f, true);
    e = s_published(f);
    assert_int_equal(e->kind, 6935);
    assert_null(nostr_event_tag(e, "request"));     /* would leak the prompt */
    size_t len;
    uint8_t *plain = nip44_decrypt(conv, e->content.str, e->content.len, 0, &len, &error);
    assert_non_null(plain);
    assert_non_null(strstr((char *) plain, "Hi there!"));
    free(plain);
    nostr_event_destroy(&e);
    free(sealed);
    free(request);
}

/* A backend error fails the job with error feedback carrying the server's numbers. */
static void
t_backend_error(void **state)
{
    fixture_t *f = *state;
    uint8_t id[32], hash[32];
    char *request = s_request(f, 5935, s_chat, NULL, NULL, id);
    s_deliver(f, request);
    s_wallet_invoice(f, hash);
    nostr_event_destroy(&(nostr_event_t *) {s_published(f)});
    s_settle(f, hash, 11000);
    nostr_event_destroy(&(nostr_event_t *) {s_published(f)});
    s_infer(f, false);
    nostr_event_t *e = s_published(f);
    assert_string_equal(s_tag(e, "status", 1), "error");
    assert_non_null(strstr(s_tag(e, "status", 2), "context_too_long: the prompt needs 9000 tokens"));
    nostr_event_destroy(&e);
    free(request);
}

/* A backend's error as long as INFER_RESULT allows still fails the job with error feedback
   (it was longer than the ledger's error field: the job then waited for an ack forever). */
static void
t_backend_long_error(void **state)
{
    fixture_t *f = *state;
    uint8_t id[32], hash[32];
    char *request = s_request(f, 5935, s_chat, NULL, NULL, id);
    s_deliver(f, request);
    s_wallet_invoice(f, hash);
    nostr_event_destroy(&(nostr_event_t *) {s_published(f)});
    s_settle(f, hash, 11000);
    nostr_event_destroy(&(nostr_event_t *) {s_published(f)});
    msg_t *run = s_expect(f, f->inference, MSG_INFER_REQUEST);
    char error[1025];
    memset(error, 'e', 1024);
    error[1024] = 0;
    msg_t result = {.type = MSG_INFER_RESULT,
                    .infer_result = {.ok = false, .content = "", .finish_reason = "", .model = "",
                                     .error_code = "server_error", .error = error}};
    memcpy(result.infer_result.job, run->infer_request.job, 32);
    assert_int_equal(probe_send(f->inference, "job_router", f->router, &result), 0);
    nostr_event_t *e = s_published(f);
    assert_string_equal(s_tag(e, "status", 1), "error");
    assert_non_null(strstr(s_tag(e, "status", 2), "server_error: eee"));
    nostr_event_destroy(&e);
    json_object *jobs = s_ledger(f, "jobs");
    assert_string_equal(json_object_get_string(json_object_object_get(json_object_array_get_idx(jobs, 0), "state")), "failed");
    json_object_put(jobs);
    free(request);
}

/* A restart in the middle: the paid job is resumed and delivered, with no second invoice. */
static void
t_restart_resumes(void **state)
{
    fixture_t *f = *state;
    uint8_t id[32], hash[32];
    char *request = s_request(f, 5935, s_chat, NULL, NULL, id);
    s_deliver(f, request);
    s_wallet_invoice(f, hash);
    nostr_event_destroy(&(nostr_event_t *) {s_published(f)});
    s_settle(f, hash, 11000);
    nostr_event_destroy(&(nostr_event_t *) {s_published(f)});
    s_expect(f, f->inference, MSG_INFER_REQUEST);   /* running when the node goes down */
    s_stop(f);
    s_start(f);
    s_expect(f, f->relay, MSG_RELAY_SUBSCRIBE);    /* subscribed once the open jobs are back */
    s_deliver(f, request);      /* the relay hands the request again after the restart */
    s_infer(f, true);           /* resumed from the ledger: dispatched again */
    nostr_event_t *e = s_published(f);
    while (e->kind == 7000) {   /* its processing feedback */
        nostr_event_destroy(&e);
        e = s_published(f);
    }
    assert_int_equal(e->kind, 6935);
    nostr_event_destroy(&e);
    json_object *status = s_ledger(f, "status");
    assert_int_equal(json_object_get_int(json_object_object_get(status, "jobs_total")), 1);
    assert_int_equal(json_object_get_int64(json_object_object_get(status, "earned_total_msats")), 11000);
    json_object_put(status);
    free(request);
}

/* The wallet reconciles its invoices at start too: a settlement it reports before the router
   has read its open jobs back must not be lost (the job would wait, quoted, until the next
   restart). Here a probe plays the ledger, so the test decides when the open jobs arrive. */
static void
t_settlement_before_recovery(void **state)
{
    fixture_t *f = *state;
    uint8_t id[32], hash[32];
    char *request = s_request(f, 5935, s_chat, NULL, NULL, id);
    memset(hash, 0x5a, 32);
    char id_hex[65], hash_hex[65], buyer_hex[65];
    nostr_event_hex(id, 32, id_hex);
    nostr_event_hex(hash, 32, hash_hex);
    nostr_event_hex(nostr_keys_pubkey(f->buyer), 32, buyer_hex);

    char endpoint[64];
    snprintf(endpoint, sizeof endpoint, "inproc://jr-early-ledger");
    probe_t *ledger = probe_new("ledger", endpoint);
    actor_directory_t dir = *node_directory(f->node);
    for (int i = 0; i < dir.count; i++) {   /* the same peers, but this ledger and inbox */
        if (streq(dir.entries[i].name, "ledger"))
            snprintf(dir.entries[i].endpoint, sizeof dir.entries[i].endpoint, "%s", endpoint);
        if (streq(dir.entries[i].name, "job_router"))
            snprintf(dir.entries[i].endpoint, sizeof dir.entries[i].endpoint, "inproc://jr-early-router");
    }
    actor_t *router = actor_new(&job_router_actor, &dir, &f->router_args);
    assert_non_null(router);
    msg_t in = {0};
    assert_int_equal(probe_recv(ledger, &in, 5000), 0);
    assert_int_equal(in.type, MSG_LEDGER_QUERY);
    uint64_t ref = in.ledger_query.ref;
    /* The wallet's news first... */
    msg_t settled = {.type = MSG_INVOICE_SETTLED, .invoice_settled = {.amount_msats = 11000, .settled_at = 1800000100}};
    memcpy(settled.invoice_settled.payment_hash, hash, 32);
    assert_int_equal(probe_send(f->wallet, "job_router", "inproc://jr-early-router", &settled), 0);
    zclock_sleep(100);
    /* ...then the open jobs: this one, quoted with that invoice. */
    json_object *row = json_object_new_object();
    json_object_object_add(row, "seq", json_object_new_int(1));
    json_object_object_add(row, "id", json_object_new_string(id_hex));
    json_object_object_add(row, "buyer", json_object_new_string(buyer_hex));
    json_object_object_add(row, "kind", json_object_new_int(5935));
    json_object_object_add(row, "backend", json_object_new_string("llamacpp:gpt_oss_20b"));
    json_object_object_add(row, "state", json_object_new_string("quoted"));
    json_object_object_add(row, "request", json_object_new_string(request));
    json_object_object_add(row, "encryption", json_object_new_string(""));
    json_object_object_add(row, "price_msats", json_object_new_int(11000));
    json_object_object_add(row, "payment_hash", json_object_new_string(hash_hex));
    json_object_object_add(row, "result_event", json_object_new_string(""));
    json_object_object_add(row, "bolt11", json_object_new_string("lnbcrt1test"));
    json_object *page = json_object_new_object(), *rows = json_object_new_array();
    json_object_array_add(rows, row);
    json_object_object_add(page, "rows", rows);
    json_object_object_add(page, "more", json_object_new_boolean(0));
    json_object_object_add(page, "last", json_object_new_int(1));
    msg_t answer = {.type = MSG_LEDGER_ROWS,
                    .ledger_rows = {ref, true, json_object_to_json_string_ext(page, JSON_C_TO_STRING_PLAIN)}};
    assert_int_equal(probe_send(ledger, "job_router", "inproc://jr-early-router", &answer), 0);
    json_object_put(page);
    /* The settlement is acted on: the router books it with the ledger. */
    bool booked = false;
    while (!booked && probe_recv(ledger, &in, 3000) == 0)
        booked = in.type == MSG_LEDGER_INVOICE_SETTLED
                 && memcmp(in.ledger_invoice_settled.payment_hash, hash, 32) == 0;
    assert_true(booked);
    msg_release(&in);
    actor_destroy(&router);
    probe_destroy(&ledger);
    free(request);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(t_paid_5935, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(t_5050_free, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(t_errors, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(t_not_for_us, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(t_encrypted, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(t_backend_error, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(t_backend_long_error, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(t_restart_resumes, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(t_settlement_before_recovery, s_setup, s_teardown),
    };
    if (getenv("TEST_FILTER"))
        cmocka_set_test_filter(getenv("TEST_FILTER"));
    return cmocka_run_group_tests_name("job_router", tests, NULL, NULL);
}
