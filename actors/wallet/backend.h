/*  backend.h: what a wallet backend is, and what it may tell the wallet actor.

    The wallet actor (actors/wallet.c) keeps the book of open invoices, talks to the ledger and
    the job router, and runs the expiry timer. A backend only speaks to one kind of wallet:
    make an invoice, look one up, and report payments it hears about. Every backend call is
    asynchronous: the backend answers later through the wallet_core_* functions below, from
    inside the actor's thread (a message, a watched fd or a timer of the same actor).

        core                          backend
        make_invoice(req, ...)   ──►  ... wallet_core_invoice_made(core, req, ...)
        lookup(hash)             ──►  ... wallet_core_lookup_done(core, hash, state, ...)
                                      wallet_core_settled(core, hash, ...)   (any time)
                                      wallet_core_reachable(core, ok, error) (any time)

    A backend never retries an invoice creation on its own: a failed create is reported as
    such and becomes an INVOICE with ok=false. */
#ifndef PYLON_WALLET_BACKEND_H
#define PYLON_WALLET_BACKEND_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "actor.h"
#include "bolt11.h"
#include "wallet.h"

#define WALLET_ERROR_MAX 512            /* bytes of one error text */

typedef struct wallet_core wallet_core_t;   /* the actor's side, opaque to backends */

/* What a lookup found. */
typedef enum {
    WALLET_INVOICE_OPEN,        /* not paid yet (may still be payable) */
    WALLET_INVOICE_SETTLED,     /* paid: amount_msats received at settled_at */
    WALLET_INVOICE_EXPIRED,     /* past its expiry unpaid, or cancelled by the wallet */
    WALLET_INVOICE_UNKNOWN,     /* the wallet does not know it */
    WALLET_INVOICE_FAILED       /* the lookup itself failed (error says why): try later */
} wallet_invoice_state_t;

typedef struct {
    const char *name;           /* "demo", "nwc": the ledger's wallet column */
    /* Build the backend state. NULL: the reason is in err (the actor logs it and does not
       start). */
    void *(*create)(wallet_core_t *core, actor_ctx_t *ctx, const wallet_args_t *args,
                    char *err, size_t err_size);
    void (*destroy)(void **state_p);
    /* Ask for an invoice; the answer comes through wallet_core_invoice_made with req. */
    void (*make_invoice)(void *state, uint64_t req, uint64_t amount_msats,
                         const char *description, uint64_t expiry_s);
    /* Ask what became of an invoice; the answer comes through wallet_core_lookup_done. */
    void (*lookup)(void *state, const uint8_t payment_hash[32]);
    /* Optional: an invoice of this backend read back from the ledger after a restart (the
       demo wallet keeps its preimages there). */
    void (*restore)(void *state, const uint8_t payment_hash[32], const char *bolt11,
                    const char *preimage_hex, uint64_t amount_msats, uint64_t expires_at);
    /* Optional: a message the core does not handle itself (relay events for NWC, demo
       payments). Returns true when the backend took it. */
    bool (*handle)(void *state, const msg_t *msg);
    /* Optional: add backend-specific members to the status object. */
    void (*status)(void *state, json_object *status);
    /* Optional: called every tick_ms from the actor's timer (the actor's timers call back
       with the actor's state, so backends get theirs through this). */
    void (*tick)(void *state);
    int64_t tick_ms;
    /* Network the backend's invoices must be on (checked on every invoice it returns). */
    bolt11_network_t (*network)(void *state);
    /* Optional: a settlement this backend reported is now committed in the ledger (the
       demo wallet answers its payer only then, so a crash cannot lose a payment it confirmed). */
    void (*booked)(void *state, const uint8_t payment_hash[32]);
} wallet_backend_def_t;

extern const wallet_backend_def_t wallet_backend_demo;     /* actors/wallet/demo.c */
extern const wallet_backend_def_t wallet_backend_nwc;      /* actors/wallet/nwc.c */
extern const wallet_backend_def_t wallet_backend_lnd;      /* actors/wallet/lnd.c */
extern const wallet_backend_def_t wallet_backend_lnbits;   /* actors/wallet/lnbits.c */
extern const wallet_backend_def_t wallet_backend_cln;      /* actors/wallet/cln.c */

/* ---- what a backend tells the core ------------------------------------------------------- */

/* The answer to make_invoice(req): bolt11 and its payment hash on success (payment_hash may be
   NULL when the wallet did not say it separately; preimage_hex is "" unless the backend is
   the demo wallet), or error (bolt11 NULL). The core decodes and checks the invoice. */
void wallet_core_invoice_made(wallet_core_t *core, uint64_t req, const char *bolt11,
                              const uint8_t *payment_hash, const char *preimage_hex,
                              const char *error);
/* The answer to lookup(payment_hash). amount_msats and settled_at matter for SETTLED only;
   error for FAILED only. */
void wallet_core_lookup_done(wallet_core_t *core, const uint8_t payment_hash[32],
                             wallet_invoice_state_t state, uint64_t amount_msats,
                             uint64_t settled_at, const char *error);
/* A payment arrived (a notification, a stream event, a demo payment). Unknown hashes are
   ignored; saying it twice is harmless. */
void wallet_core_settled(wallet_core_t *core, const uint8_t payment_hash[32],
                         uint64_t amount_msats, uint64_t settled_at);
/* The wallet answered (reachable) or could not be reached (error says why). */
void wallet_core_reachable(wallet_core_t *core, bool reachable, const char *error);
/* The wallet's balance in msats, when the backend learns it. */
void wallet_core_balance(wallet_core_t *core, uint64_t balance_msats);
/* Wall-clock seconds since 1970 (tests may not fake it: invoices carry real time). */
uint64_t wallet_core_now(void);

#endif
