/*  ask_cmd.c: pylon ask, a buyer. It sends a job to a provider over the relays, shows the
    invoice, pays it (with the demo wallet of a node on this machine, when asked), streams the
    partial text and prints the result. It is a plain Nostr client, built on the same relay
    connection code as the relay actor but with its own small loop: it needs no daemon. */
#include "cli.h"
#include "control.h"
#include "daemon.h"
#include "job_request.h"
#include "nip04.h"
#include "nip19.h"
#include "nip44.h"
#include "nostr_event.h"
#include "bolt11.h"
#include "relay_conn.h"
#include "wallet/nwc.h"

#include <sodium.h>

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
    cli_t *cli;
    nostr_keys_t *keys;             /* the buyer's key for this job (fresh, or --key) */
    uint8_t provider[32];
    char request_id[65];
    job_encryption_t encryption;
    const char *pay;                /* "demo" or "nwc", or NULL to only show the invoice */
    const char *nwc_uri;            /* the buyer's wallet connection, for --pay nwc */
    uint64_t max_msats;             /* the most this buyer pays for one job (--max-sats) */
    ws_client_t *ws;                /* the websocket client every connection shares */
    relay_conn_t **conns;           /* the job's relays, then the wallet's (owned) */
    size_t conn_count;
    nostr_keys_t *nwc_keys;         /* the NWC client key from the URI (owned) */
    uint8_t nwc_wallet[32];         /* the wallet service's key */
    char nwc_request[65];           /* id of our pay_invoice request */
    bool paid;                      /* a payment was made */
    bool done;                      /* a result or an error arrived */
    bool streamed;                  /* partial text was printed */
    int exit_code;
    json_object *report;            /* --json output */
    char (*seen)[65];               /* ids of the replies already handled (each relay sends
                                       each one: a long stream has hundreds), owned */
    size_t seen_count, seen_cap;
    int64_t started_ms, invoice_ms, processing_ms;
} ask_t;

static int64_t
s_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *
s_tag(const nostr_event_t *event, const char *name, size_t index)
{
    const nostr_tag_t *tag = nostr_event_tag(event, name);
    return tag && tag->count > index ? tag->elems[index].str : NULL;
}

/* Decrypt a reply's content if the exchange is encrypted; fresh text. */
static char *
s_open(ask_t *self, const nostr_event_t *event)
{
    if (self->encryption == JOB_PLAIN || !nostr_event_tag(event, "encrypted"))
        return strdup(event->content.str);
    uint8_t shared[32];
    if (nostr_keys_ecdh(self->keys, self->provider, shared) != 0)
        return NULL;
    size_t len;
    int error;
    uint8_t *plain;
    if (self->encryption == JOB_NIP04)
        plain = nip04_decrypt(shared, event->content.str, event->content.len, 0, &len, &error);
    else {
        uint8_t conv[32];
        nip44_conversation_key_from_shared(shared, conv);
        plain = nip44_decrypt(conv, event->content.str, event->content.len, 0, &len, &error);
    }
    return (char *) plain;
}

static void
s_pay_demo(ask_t *self, const char *bolt11)
{
    char socket_path[DAEMON_PATH_MAX], *reply = NULL;
    if (!cli_path(self->cli, "control.sock", socket_path, sizeof socket_path)) {
        fprintf(stderr, "pylon ask: config dir path too long\n");
        return;
    }
    json_object *args = json_object_new_object();
    json_object_object_add(args, "bolt11", json_object_new_string(bolt11));
    int rc = control_call(socket_path, "DEMO_PAY", json_object_to_json_string(args), 15000, &reply);
    json_object_put(args);
    if (rc == 0) {
        self->paid = true;
        if (!self->cli->json)
            fprintf(stderr, "paid with the demo wallet (regtest: no real money moves)\n");
    }
    else
        fprintf(stderr, "pylon ask: the demo payment failed: %s\n",
                rc < 0 ? "no node with a demo wallet runs for this config dir" : reply ? reply : "?");
    free(reply);
}

/* The wallet service's answer to our pay_invoice (kind 23195, NIP-44). */
static void
s_on_nwc_event(relay_conn_t *conn, const char *subid, json_object *object, void *arg)
{
    ask_t *self = arg;
    int error = 0;
    nostr_event_t *event = nostr_event_from_object(object, NULL, &error);
    if (!event || nostr_event_check(event) != 0 || event->kind != 23195
        || memcmp(event->pubkey, self->nwc_wallet, 32) != 0 || !s_tag(event, "e", 1)
        || strcmp(s_tag(event, "e", 1), self->nwc_request) != 0 || self->paid) {
        nostr_event_destroy(&event);
        return;
    }
    uint8_t shared[32], conv[32];
    size_t len = 0;
    uint8_t *plain = NULL;
    if (nostr_keys_ecdh(self->nwc_keys, self->nwc_wallet, shared) == 0) {
        nip44_conversation_key_from_shared(shared, conv);
        plain = nip44_decrypt(conv, event->content.str, event->content.len, 0, &len, &error);
        sodium_memzero(conv, sizeof conv);
        sodium_memzero(shared, sizeof shared);
    }
    nwc_message_t answer;
    char why[256];
    if (!plain || nwc_message_parse((const char *) plain, len, &answer, why, sizeof why) != 0)
        fprintf(stderr, "pylon ask: the wallet's answer cannot be read%s%s\n", plain ? ": " : "", plain ? why : "");
    else if (answer.has_error)
        fprintf(stderr, "pylon ask: the wallet did not pay: %s%s%s\n", nwc_error_text(answer.error_code),
                *answer.error_message ? ": " : "", answer.error_message);
    else {
        self->paid = true;
        if (!self->cli->json)
            fprintf(stderr, "paid through Nostr Wallet Connect\n");
    }
    free(plain);
    nostr_event_destroy(&event);
}

/* Pay bolt11 with the buyer's NWC wallet: a pay_invoice request (kind 23194, NIP-44 v2) on the
   wallet's relays; the answer comes to s_on_nwc_event. */
static void
s_pay_nwc(ask_t *self, const char *bolt11)
{
    nwc_uri_t uri;
    char why[256];
    if (!self->nwc_uri || nwc_uri_parse(self->nwc_uri, &uri, why, sizeof why) != 0) {
        fprintf(stderr, "pylon ask: --pay nwc needs a valid --nwc-uri (or PYLON_BUYER_NWC_URI)%s%s\n",
                self->nwc_uri ? ": " : "", self->nwc_uri ? why : "");
        return;
    }
    self->nwc_keys = nostr_keys_new(uri.secret);
    memcpy(self->nwc_wallet, uri.wallet_pubkey, 32);
    json_object *request = json_object_new_object(), *params = json_object_new_object();
    json_object_object_add(params, "invoice", json_object_new_string(bolt11));
    json_object_object_add(request, "method", json_object_new_string("pay_invoice"));
    json_object_object_add(request, "params", params);
    const char *text = json_object_to_json_string_ext(request, JSON_C_TO_STRING_PLAIN);
    uint8_t shared[32], conv[32];
    int error = 0;
    char *sealed = NULL;
    if (self->nwc_keys && nostr_keys_ecdh(self->nwc_keys, uri.wallet_pubkey, shared) == 0) {
        nip44_conversation_key_from_shared(shared, conv);
        sealed = nip44_encrypt(conv, (const uint8_t *) text, strlen(text), NULL, 0, NULL, &error);
        sodium_memzero(conv, sizeof conv);
        sodium_memzero(shared, sizeof shared);
    }
    json_object_put(request);
    char wallet_hex[65], client_hex[65];
    nostr_event_hex(uri.wallet_pubkey, 32, wallet_hex);
    nostr_event_t *event = sealed ? nostr_event_new(23194, time(NULL), sealed, strlen(sealed)) : NULL;
    free(sealed);
    if (!event) {
        fprintf(stderr, "pylon ask: cannot build the payment request\n");
        nwc_uri_wipe(&uri);
        return;
    }
    nostr_event_add_tagv(event, "p", wallet_hex, NULL);
    nostr_event_add_tagv(event, "encryption", "nip44_v2", NULL);
    nostr_event_sign(event, self->nwc_keys);
    nostr_event_hex(event->id, 32, self->nwc_request);
    char *json = nostr_event_to_json(event, NULL);
    nostr_event_destroy(&event);
    nostr_event_hex(nostr_keys_pubkey(self->nwc_keys), 32, client_hex);
    static const relay_conn_handlers_t handlers = {.on_event = s_on_nwc_event};
    int kinds[] = {23195};
    const char *p_tags[] = {client_hex};
    relay_filter_t filter = {.kinds = kinds, .kinds_count = 1, .p_tags = p_tags, .p_tags_count = 1,
                             .since = time(NULL) - 60, .until = -1, .limit = -1};
    for (size_t i = 0; i < uri.relay_count; i++) {
        relay_conn_t *conn = relay_conn_new(self->ws, uri.relays[i], NULL, &handlers, self);
        if (!conn)
            continue;
        relay_conn_subscribe(conn, "nwc", &filter, 1);
        relay_conn_publish(conn, json);
        relay_conn_start(conn);
        self->conns = realloc(self->conns, (self->conn_count + 1) * sizeof *self->conns);
        self->conns[self->conn_count++] = conn;
    }
    if (!self->cli->json)
        fprintf(stderr, "asking the wallet to pay (NIP-47 pay_invoice)\n");
    free(json);
    nwc_uri_wipe(&uri);
}

/* Before paying anything: the invoice must be what the feedback says (its own amount, equal to
   the amount tag) and no more than the buyer allowed (--max-sats). A provider cannot make us pay
   more than we agreed to, whatever it writes. */
static void
s_check_invoice(ask_t *self, const char *amount, const char *bolt11, char *why, size_t size)
{
    bolt11_invoice_t *invoice = malloc(sizeof *invoice);
    int rc = bolt11_decode(bolt11, invoice);
    char *end = NULL;
    unsigned long long asked = amount ? strtoull(amount, &end, 10) : 0;
    if (rc != 0)
        snprintf(why, size, "the invoice does not decode: %s", bolt11_strerror(rc));
    else if (!invoice->has_amount)
        snprintf(why, size, "the invoice names no amount");
    else if (!amount || !*amount || *end || invoice->amount_msat != asked)
        snprintf(why, size, "the invoice asks %llu msats, the feedback says %s",
                 (unsigned long long) invoice->amount_msat, amount ? amount : "nothing");
    else if (invoice->amount_msat > self->max_msats)
        snprintf(why, size, "the invoice asks %llu msats, more than --max-sats %llu allows",
                 (unsigned long long) invoice->amount_msat,
                 (unsigned long long) (self->max_msats / 1000));
    free(invoice);
}

static void
s_on_event(relay_conn_t *conn, const char *subid, json_object *object, void *arg)
{
    ask_t *self = arg;
    int error = 0;
    nostr_event_t *event = nostr_event_from_object(object, NULL, &error);
    if (!event || nostr_event_check(event) != 0 || memcmp(event->pubkey, self->provider, 32) != 0
        || !s_tag(event, "e", 1) || strcmp(s_tag(event, "e", 1), self->request_id) != 0) {
        nostr_event_destroy(&event);
        return;     /* not a genuine answer to our request */
    }
    char id[65];
    nostr_event_hex(event->id, 32, id);
    for (size_t i = 0; i < self->seen_count; i++)
        if (strcmp(self->seen[i], id) == 0) {
            nostr_event_destroy(&event);
            return;
        }
    if (self->seen_count == self->seen_cap) {
        size_t cap = self->seen_cap ? self->seen_cap * 2 : 64;
        char (*grown)[65] = realloc(self->seen, cap * sizeof *grown);
        if (!grown) {
            nostr_event_destroy(&event);
            return;
        }
        self->seen = grown;
        self->seen_cap = cap;
    }
    memcpy(self->seen[self->seen_count++], id, 65);
    bool quiet = self->cli->json;
    if (event->kind == 7000) {
        const char *status = s_tag(event, "status", 1), *reason = s_tag(event, "status", 2);
        if (!status)
            status = "?";
        if (strcmp(status, "payment-required") == 0 && !self->paid) {
            const char *amount = s_tag(event, "amount", 1), *bolt11 = s_tag(event, "amount", 2);
            self->invoice_ms = s_now_ms();
            if (!quiet)
                fprintf(stderr, "invoice: %s msats\n%s\n", amount ? amount : "?", bolt11 ? bolt11 : "(none)");
            json_object_object_add(self->report, "amount_msats", json_object_new_string(amount ? amount : ""));
            json_object_object_add(self->report, "bolt11", json_object_new_string(bolt11 ? bolt11 : ""));
            char refusal[256] = "";
            if (bolt11 && self->pay)
                s_check_invoice(self, amount, bolt11, refusal, sizeof refusal);
            if (*refusal) {
                fprintf(stderr, "pylon ask: not paying: %s\n", refusal);
                json_object_object_add(self->report, "error", json_object_new_string(refusal));
                self->done = true;
                self->exit_code = CLI_FAILED;
            }
            else if (bolt11 && self->pay && strcmp(self->pay, "demo") == 0)
                s_pay_demo(self, bolt11);
            else if (bolt11 && self->pay && strcmp(self->pay, "nwc") == 0 && !self->nwc_keys)
                s_pay_nwc(self, bolt11);
            else if (!self->pay && !quiet)
                fprintf(stderr, "pay it with your wallet; waiting for the result\n");
        }
        else if (strcmp(status, "processing") == 0) {
            self->processing_ms = s_now_ms();
            if (!quiet)
                fprintf(stderr, "processing\n");
        }
        else if (strcmp(status, "partial") == 0) {
            char *text = s_open(self, event);
            if (text && !quiet) {
                fputs(text, stdout);
                fflush(stdout);
                self->streamed = true;
            }
            free(text);
        }
        else if (strcmp(status, "error") == 0) {
            char *text = event->content.len ? s_open(self, event) : NULL;
            const char *why = text && *text ? text : reason ? reason : "no reason given";
            json_object_object_add(self->report, "error", json_object_new_string(why));
            if (!quiet)
                fprintf(stderr, "error: %s\n", why);
            free(text);
            self->done = true;
            self->exit_code = CLI_FAILED;
        }
    }
    else if (event->kind == 6935 || event->kind == 6050) {
        char *content = s_open(self, event);
        json_object *parsed = event->kind == 6935 && content ? json_tokener_parse(content) : NULL;
        const char *text = parsed ? json_object_get_string(json_object_object_get(parsed, "content")) : content;
        if (quiet) {
            json_object_object_add(self->report, "result", parsed ? json_object_get(parsed) : json_object_new_string(content ? content : ""));
            json_object_object_add(self->report, "result_event", json_object_new_string(id));
        }
        else if (self->streamed)
            printf("\n");      /* the text is already out, piece by piece */
        else
            printf("%s\n", text ? text : "(unreadable result)");
        fflush(stdout);
        if (parsed && !quiet) {
            json_object *usage = json_object_object_get(parsed, "usage");
            fprintf(stderr, "backend %s, model %s, %lld prompt + %lld completion tokens, %lld ms\n",
                    json_object_get_string(json_object_object_get(parsed, "backend")),
                    json_object_get_string(json_object_object_get(parsed, "model")),
                    (long long) json_object_get_int64(json_object_object_get(usage, "prompt_tokens")),
                    (long long) json_object_get_int64(json_object_object_get(usage, "completion_tokens")),
                    (long long) (s_now_ms() - self->started_ms));
        }
        json_object_put(parsed);
        free(content);
        self->done = true;
        self->exit_code = CLI_OK;
    }
    nostr_event_destroy(&event);
}

static int
s_usage(cli_t *cli, const char *why)
{
    return cli_fail(cli, CLI_USAGE, "ask: %s (see pylon ask --help)", why);
}

int
cli_ask(cli_t *cli, int argc, char **argv)
{
    const char *to = NULL, *backend = NULL, *pay = NULL, *prompt = NULL, *encrypt = NULL;
    const char *nwc_uri = getenv("PYLON_BUYER_NWC_URI");
    int kind = 5935, timeout_s = 120;
    long long max_sats = 1000;      /* the default most one job may cost: 1,000 sats */
    long max_tokens = 0;
    bool stream = false;
    config_strs_t relays = {0};
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(arg, "--json") == 0)
            continue;
        if (strcmp(arg, "--stream") == 0) {
            stream = true;
            continue;
        }
        if (arg[0] != '-') {
            prompt = arg;
            continue;
        }
        if (!value)
            return s_usage(cli, "an option needs a value");
        i++;
        if (strcmp(arg, "--to") == 0)
            to = value;
        else if (strcmp(arg, "--backend") == 0)
            backend = value;
        else if (strcmp(arg, "--pay") == 0)
            pay = value;
        else if (strcmp(arg, "--nwc-uri") == 0)
            nwc_uri = value;
        else if (strcmp(arg, "--encrypt") == 0)
            encrypt = value;
        else if (strcmp(arg, "--kind") == 0)
            kind = atoi(value);
        else if (strcmp(arg, "--max-tokens") == 0)
            max_tokens = atol(value);
        else if (strcmp(arg, "--timeout") == 0)
            timeout_s = atoi(value);
        else if (strcmp(arg, "--max-sats") == 0)
            max_sats = strtoll(value, NULL, 10);
        else if (strcmp(arg, "--relay") == 0) {
            relays.items = realloc(relays.items, (relays.count + 1) * sizeof(char *));
            relays.items[relays.count++] = (char *) value;
        }
        else
            return s_usage(cli, "unknown option");
    }
    if (!to || !prompt)
        return s_usage(cli, "give --to <npub or hex key> and a prompt");
    if (kind != 5935 && kind != 5050)
        return s_usage(cli, "--kind is 5935 or 5050");
    if (pay && strcmp(pay, "demo") != 0 && strcmp(pay, "nwc") != 0)
        return s_usage(cli, "--pay is demo or nwc (without it, pay the printed invoice yourself)");
    if (max_sats < 0 || max_sats > 2100000000000000LL)
        return s_usage(cli, "--max-sats takes a number of sats");
    ask_t self = {.cli = cli, .pay = pay, .nwc_uri = nwc_uri, .exit_code = CLI_FAILED,
                  .started_ms = s_now_ms(), .max_msats = (uint64_t) max_sats * 1000};
    if (encrypt)
        self.encryption = strcmp(encrypt, "nip04") == 0 ? JOB_NIP04 : strcmp(encrypt, "nip44") == 0 ? JOB_NIP44 : (job_encryption_t) -1;
    if ((int) self.encryption < 0)
        return s_usage(cli, "--encrypt is nip44 or nip04");
    nip19_entity_t entity;
    if (strncmp(to, "npub1", 5) == 0) {
        if (nip19_decode(to, &entity) != 0 || entity.type != NIP19_NPUB)
            return cli_fail(cli, CLI_USAGE, "ask: '%s' is not a valid npub", to);
        memcpy(self.provider, entity.bytes, 32);
    }
    else if (strlen(to) != 64 || nostr_event_unhex(to, 64, self.provider, 32) != 0)
        return cli_fail(cli, CLI_USAGE, "ask: --to takes an npub or 64 hex characters");
    if (relays.count == 0)
        relays = cli->cfg.relay_urls;
    self.keys = nostr_keys_generate();
    self.report = json_object_new_object();

    /* The request. */
    char provider_hex[65];
    nostr_event_hex(self.provider, 32, provider_hex);
    json_object *content = NULL;
    char *body = NULL;
    if (kind == 5935) {
        content = json_object_new_object();
        if (backend)
            json_object_object_add(content, "backend", json_object_new_string(backend));
        json_object *messages = json_object_new_array();
        json_object *message = json_object_new_object();
        json_object_object_add(message, "role", json_object_new_string("user"));
        json_object_object_add(message, "content", json_object_new_string(prompt));
        json_object_array_add(messages, message);
        json_object_object_add(content, "messages", messages);
        json_object *params = json_object_new_object();
        if (max_tokens > 0)
            json_object_object_add(params, "max_tokens", json_object_new_int64(max_tokens));
        if (stream)
            json_object_object_add(params, "stream", json_object_new_boolean(1));
        json_object_object_add(content, "params", params);
        body = strdup(json_object_to_json_string_ext(content, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    }
    else {
        /* 5050: the inputs and params are tags; encrypted, they become the content. */
        content = json_object_new_array();
        json_object *input = json_object_new_array();
        json_object_array_add(input, json_object_new_string("i"));
        json_object_array_add(input, json_object_new_string(prompt));
        json_object_array_add(input, json_object_new_string("text"));
        json_object_array_add(content, input);
        char number[32];
        const char *pairs[3][2] = {{"backend", backend}, {"max_tokens", NULL}, {"stream", stream ? "true" : NULL}};
        if (max_tokens > 0) {
            snprintf(number, sizeof number, "%ld", max_tokens);
            pairs[1][1] = number;
        }
        for (int p = 0; p < 3; p++)
            if (pairs[p][1]) {
                json_object *param = json_object_new_array();
                json_object_array_add(param, json_object_new_string("param"));
                json_object_array_add(param, json_object_new_string(pairs[p][0]));
                json_object_array_add(param, json_object_new_string(pairs[p][1]));
                json_object_array_add(content, param);
            }
        body = strdup(self.encryption != JOB_PLAIN ? json_object_to_json_string_ext(content, JSON_C_TO_STRING_PLAIN) : "");
    }
    char *sealed = self.encryption != JOB_PLAIN ? job_request_encrypt(self.keys, self.provider, self.encryption, body) : NULL;
    nostr_event_t *request = nostr_event_new((uint32_t) kind, time(NULL), sealed ? sealed : body, strlen(sealed ? sealed : body));
    if (kind == 5050 && self.encryption == JOB_PLAIN)
        for (size_t t = 0; t < json_object_array_length(content); t++) {
            json_object *tag = json_object_array_get_idx(content, t);
            const char *elems[3];
            for (size_t k = 0; k < 3; k++)
                elems[k] = json_object_get_string(json_object_array_get_idx(tag, k));
            nostr_event_add_tag(request, 3, elems);
        }
    nostr_event_add_tagv(request, "p", provider_hex, NULL);
    if (self.encryption != JOB_PLAIN)
        nostr_event_add_tagv(request, "encrypted", NULL);
    nostr_event_sign(request, self.keys);
    nostr_event_hex(request->id, 32, self.request_id);
    char *request_json = nostr_event_to_json(request, NULL);
    nostr_event_destroy(&request);
    json_object_put(content);
    free(body);
    free(sealed);
    json_object_object_add(self.report, "request", json_object_new_string(self.request_id));
    if (!cli->json)
        fprintf(stderr, "asking %.16s... through %zu relays (request %.16s...)\n", provider_hex, relays.count, self.request_id);

    /* Subscribe to the answers, then publish, on every relay. */
    self.ws = ws_client_new(NULL);
    static const relay_conn_handlers_t handlers = {.on_event = s_on_event};
    int kinds[] = {7000, kind + 1000};
    const char *p_tags[] = {NULL};
    char buyer_hex[65];
    nostr_event_hex(nostr_keys_pubkey(self.keys), 32, buyer_hex);
    p_tags[0] = buyer_hex;
    relay_filter_t filter = {.kinds = kinds, .kinds_count = 2, .p_tags = p_tags, .p_tags_count = 1,
                             .since = time(NULL) - 60, .until = -1, .limit = -1};
    for (size_t i = 0; i < relays.count && i < 16; i++) {
        relay_conn_t *conn = relay_conn_new(self.ws, relays.items[i], NULL, &handlers, &self);
        if (!conn)
            continue;
        relay_conn_subscribe(conn, "answers", &filter, 1);
        relay_conn_publish(conn, request_json);
        relay_conn_start(conn);
        self.conns = realloc(self.conns, (self.conn_count + 1) * sizeof *self.conns);
        self.conns[self.conn_count++] = conn;
    }
    size_t job_relays = self.conn_count;
    free(request_json);
    int64_t deadline = s_now_ms() + (int64_t) timeout_s * 1000;
    while (!self.done && s_now_ms() < deadline && job_relays) {
        int wait = ws_client_timeout(self.ws);
        for (size_t i = 0; i < self.conn_count; i++) {
            int t = relay_conn_timeout(self.conns[i]);
            if (t >= 0 && (wait < 0 || t < wait))
                wait = t;
        }
        ws_client_run(self.ws, wait < 0 || wait > 200 ? 200 : wait);
        for (size_t i = 0; i < self.conn_count; i++)    /* callbacks may add the wallet's */
            relay_conn_tick(self.conns[i]);
    }
    if (!self.done) {
        json_object_object_add(self.report, "error", json_object_new_string(job_relays ? "timed out" : "no usable relay"));
        if (!cli->json)
            fprintf(stderr, "pylon ask: no result within %d s%s\n", timeout_s,
                    job_relays ? "" : " (no usable relay)");
    }
    for (size_t i = 0; i < self.conn_count; i++)
        relay_conn_destroy(&self.conns[i]);
    free(self.conns);
    ws_client_destroy(&self.ws);
    nostr_keys_destroy(&self.nwc_keys);
    if (relays.items != cli->cfg.relay_urls.items)
        free(relays.items);
    free(self.seen);
    nostr_keys_destroy(&self.keys);
    json_object_object_add(self.report, "ok", json_object_new_boolean(self.exit_code == CLI_OK));
    if (cli->json)
        cli_print_json(self.report);
    else
        json_object_put(self.report);
    return self.exit_code;
}
