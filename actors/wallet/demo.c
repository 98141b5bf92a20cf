/*  demo.c: the demo wallet, the embedded default. No real money moves.

    It writes real BOLT11 invoices on regtest (lnbcrt...), signed by a Lightning node key
    derived from the identity seed on its own BIP-32 path (m/44'/1237'/0'/1/0, see bip32.h),
    so every Lightning tool can decode and verify them. Each payment hash is the SHA-256 of a
    fresh random 32-byte preimage; the preimage goes to the ledger with the invoice (the
    LEDGER_INVOICE_NEW preimage field), which is how the demo wallet remembers its invoices
    across restarts (restore).

    An invoice is paid only by WALLET_DEMO_PAY (`pylon wallet demo-pay <bolt11>`): the invoice
    must be one of ours, known, unpaid and unexpired. It refuses to start on mainnet. */
#include "log.h"
#include "wallet/backend.h"

#include "bip32.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEMO_NOTE "demo wallet: real regtest invoices, but no real money moves"

/* One invoice the demo wallet wrote. */
typedef struct {
    uint8_t hash[32];           /* payment hash = SHA-256(preimage) */
    uint8_t preimage[32];       /* what a payer would learn */
    uint64_t amount_msats;      /* what it asks */
    uint64_t expires_at;        /* unix seconds */
    bool paid;                  /* settled by a demo payment */
    uint64_t payer_ref;         /* the WALLET_DEMO_PAY to answer once the ledger booked it */
    char payer[MSG_NAME_MAX + 1];   /* who sent it ("" when nobody waits) */
} demo_invoice_t;

typedef struct {
    wallet_core_t *core;        /* the actor core, for the answers */
    actor_ctx_t *ctx;           /* the actor, for replies */
    uint8_t *node_key;          /* 32-byte node secret key (sodium_malloc, wiped on destroy) */
    uint8_t node_pubkey[33];    /* its compressed public key: the payee of our invoices */
    zhashx_t *invoices;         /* hex payment hash → demo_invoice_t (owned) */
    uint64_t paid;              /* demo payments made */
} demo_t;

static void
s_invoice_free(void **item_p)
{
    if (*item_p) {
        sodium_memzero(*item_p, sizeof(demo_invoice_t));
        free(*item_p);
        *item_p = NULL;
    }
}

static void *
s_create(wallet_core_t *core, actor_ctx_t *ctx, const wallet_args_t *args, char *err,
         size_t err_size)
{
    if (strcmp(args->cfg->network, "mainnet") == 0) {
        snprintf(err, err_size, "the demo wallet moves no real money and refuses to run with "
                 "[provider] network = \"mainnet\": set [wallet] backend to nwc (or another "
                 "real wallet)");
        return NULL;
    }
    if (!args->seed || args->seed_len < BIP32_SEED_MIN || args->seed_len > BIP32_SEED_MAX) {
        snprintf(err, err_size, "the demo wallet needs the identity seed to derive its node key");
        return NULL;
    }
    bip32_key_t *key = bip32_key_new();
    if (!key) {
        snprintf(err, err_size, "out of secure memory");
        return NULL;
    }
    int rc = bip32_account_key(args->seed, args->seed_len, 0, BIP32_BRANCH_LIGHTNING_NODE, 0, key);
    demo_t *self = calloc(1, sizeof *self);
    self->node_key = sodium_malloc(32);
    if (rc == 0 && self->node_key) {
        memcpy(self->node_key, key->secret_key, 32);
        rc = bip32_public_key(key, self->node_pubkey);
    }
    bip32_key_destroy(&key);
    if (rc != 0 || !self->node_key) {
        snprintf(err, err_size, "cannot derive the demo node key: %s",
                 rc ? bip32_strerror(rc) : "out of secure memory");
        if (self->node_key)
            sodium_free(self->node_key);
        free(self);
        return NULL;
    }
    self->core = core;
    self->ctx = ctx;
    self->invoices = zhashx_new();
    zhashx_set_destructor(self->invoices, s_invoice_free);
    char hex[67];
    for (int i = 0; i < 33; i++)
        snprintf(hex + 2 * i, 3, "%02x", self->node_pubkey[i]);
    log_warn("%s (node key %s)", DEMO_NOTE, hex);
    wallet_core_reachable(core, true, NULL);
    return self;
}

static void
s_destroy(void **state_p)
{
    demo_t *self = *state_p;
    if (!self)
        return;
    sodium_free(self->node_key);    /* wipes */
    zhashx_destroy(&self->invoices);
    free(self);
    *state_p = NULL;
}

static void
s_key(const uint8_t hash[32], char key[65])
{
    for (int i = 0; i < 32; i++)
        snprintf(key + 2 * i, 3, "%02x", hash[i]);
}

static void
s_make_invoice(void *state, uint64_t req, uint64_t amount_msats, const char *description,
               uint64_t expiry_s)
{
    demo_t *self = state;
    demo_invoice_t *rec = calloc(1, sizeof *rec);
    randombytes_buf(rec->preimage, 32);
    crypto_hash_sha256(rec->hash, rec->preimage, 32);
    bolt11_invoice_t *inv = malloc(sizeof *inv);
    bolt11_invoice_init(inv, BOLT11_REGTEST);
    inv->has_amount = true;
    inv->amount_msat = amount_msats;
    inv->timestamp = wallet_core_now();
    inv->expiry = expiry_s;
    memcpy(inv->payment_hash, rec->hash, 32);
    randombytes_buf(inv->payment_secret, 32);
    inv->has_description = true;
    snprintf(inv->description, sizeof inv->description, "%s", description);
    char bolt11[BOLT11_MAX_LEN + 1];
    int rc = bolt11_encode(bolt11, sizeof bolt11, inv, self->node_key);
    rec->amount_msats = amount_msats;
    rec->expires_at = inv->timestamp + expiry_s;
    free(inv);
    if (rc != 0) {
        char why[WALLET_ERROR_MAX];
        snprintf(why, sizeof why, "cannot write the invoice: %s", bolt11_strerror(rc));
        s_invoice_free((void **) &rec);
        wallet_core_invoice_made(self->core, req, NULL, NULL, NULL, why);
        return;
    }
    char key[65], preimage_hex[65];
    s_key(rec->hash, key);
    s_key(rec->preimage, preimage_hex);
    uint8_t hash[32];
    memcpy(hash, rec->hash, 32);
    zhashx_insert(self->invoices, key, rec);
    wallet_core_invoice_made(self->core, req, bolt11, hash, preimage_hex, NULL);
    sodium_memzero(preimage_hex, sizeof preimage_hex);
}

static void
s_lookup(void *state, const uint8_t payment_hash[32])
{
    demo_t *self = state;
    char key[65];
    s_key(payment_hash, key);
    demo_invoice_t *rec = zhashx_lookup(self->invoices, key);
    if (!rec)
        wallet_core_lookup_done(self->core, payment_hash, WALLET_INVOICE_UNKNOWN, 0, 0, NULL);
    else if (rec->paid)
        wallet_core_lookup_done(self->core, payment_hash, WALLET_INVOICE_SETTLED,
                                rec->amount_msats, 0, NULL);
    else if (wallet_core_now() >= rec->expires_at)
        wallet_core_lookup_done(self->core, payment_hash, WALLET_INVOICE_EXPIRED, 0, 0, NULL);
    else
        wallet_core_lookup_done(self->core, payment_hash, WALLET_INVOICE_OPEN, 0, 0, NULL);
}

static void
s_restore(void *state, const uint8_t payment_hash[32], const char *bolt11,
          const char *preimage_hex, uint64_t amount_msats, uint64_t expires_at)
{
    demo_t *self = state;
    demo_invoice_t *rec = calloc(1, sizeof *rec);
    uint8_t check[32];
    if (!preimage_hex || strlen(preimage_hex) != 64
        || sodium_hex2bin(rec->preimage, 32, preimage_hex, 64, NULL, NULL, NULL) != 0
        || crypto_hash_sha256(check, rec->preimage, 32) != 0
        || memcmp(check, payment_hash, 32) != 0) {
        log_error("demo invoice from the ledger has no matching preimage: not restored");
        s_invoice_free((void **) &rec);
        return;
    }
    memcpy(rec->hash, payment_hash, 32);
    rec->amount_msats = amount_msats;
    rec->expires_at = expires_at;
    char key[65];
    s_key(payment_hash, key);
    if (zhashx_insert(self->invoices, key, rec) != 0)
        s_invoice_free((void **) &rec);         /* already known: keep the first */
}

/* WALLET_DEMO_PAY: the one way a demo invoice gets paid. */
static void
s_demo_pay(demo_t *self, const msg_t *msg)
{
    const msg_wallet_demo_pay_t *pay = &msg->wallet_demo_pay;
    char why[WALLET_ERROR_MAX] = "";
    bolt11_invoice_t *inv = malloc(sizeof *inv);
    demo_invoice_t *rec = NULL;
    int rc = bolt11_decode(pay->bolt11, inv);
    if (rc != 0)
        snprintf(why, sizeof why, "not a valid invoice: %s", bolt11_strerror(rc));
    else if (memcmp(inv->payee, self->node_pubkey, 33) != 0)
        snprintf(why, sizeof why, "this invoice is not from this node's demo wallet");
    else {
        char key[65];
        s_key(inv->payment_hash, key);
        rec = zhashx_lookup(self->invoices, key);
        if (!rec)
            snprintf(why, sizeof why, "unknown invoice: the demo wallet has no open invoice "
                     "with this payment hash");
        else if (rec->paid)
            snprintf(why, sizeof why, "this invoice is already paid");
        else if (wallet_core_now() >= rec->expires_at)
            snprintf(why, sizeof why, "this invoice has expired");
    }
    free(inv);
    msg_t reply = {.type = MSG_WALLET_DEMO_PAID,
                   .wallet_demo_paid = {.ref = pay->ref, .ok = !*why, .error = why}};
    if (*why) {
        log_info("demo payment refused: %s", why);
        actor_reply(self->ctx, msg, &reply);
        return;
    }
    rec->paid = true;
    self->paid++;
    log_info("demo payment of %" PRIu64 " msats (no real money moved)", rec->amount_msats);
    /* The payer hears "paid" once the ledger has booked it (s_booked): a crash in between
       leaves the invoice open and payable, never a payment confirmed and then forgotten. */
    rec->payer_ref = pay->ref;
    snprintf(rec->payer, sizeof rec->payer, "%s", msg->from);
    uint8_t hash[32];
    memcpy(hash, rec->hash, 32);
    wallet_core_settled(self->core, hash, rec->amount_msats, wallet_core_now());
}

static void
s_booked(void *state, const uint8_t payment_hash[32])
{
    demo_t *self = state;
    char key[65];
    s_key(payment_hash, key);
    demo_invoice_t *rec = zhashx_lookup(self->invoices, key);
    if (!rec || !rec->payer[0])
        return;
    msg_t reply = {.type = MSG_WALLET_DEMO_PAID,
                   .wallet_demo_paid = {.ref = rec->payer_ref, .ok = true, .error = ""}};
    actor_send(self->ctx, rec->payer, &reply);
    rec->payer[0] = 0;
}

static bool
s_handle(void *state, const msg_t *msg)
{
    if (msg->type != MSG_WALLET_DEMO_PAY)
        return false;
    s_demo_pay(state, msg);
    return true;
}

static void
s_status(void *state, json_object *status)
{
    demo_t *self = state;
    json_object_object_add(status, "no_real_money", json_object_new_boolean(1));
    json_object_object_add(status, "note", json_object_new_string(DEMO_NOTE));
    json_object_object_add(status, "demo_payments", json_object_new_int64((int64_t) self->paid));
}

static bolt11_network_t
s_network(void *state)
{
    return BOLT11_REGTEST;
}

const wallet_backend_def_t wallet_backend_demo = {
    .name = "demo",
    .create = s_create,
    .destroy = s_destroy,
    .make_invoice = s_make_invoice,
    .lookup = s_lookup,
    .restore = s_restore,
    .handle = s_handle,
    .status = s_status,
    .network = s_network,
    .booked = s_booked,
};
