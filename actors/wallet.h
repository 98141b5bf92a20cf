/*  wallet.h: the wallet actor: Lightning invoices for jobs, and the news that they were paid.

    The job router asks for an invoice (INVOICE_REQUEST); the wallet has its backend make one,
    decodes and checks what the backend returned (amount, payment hash, network, expiry),
    records it with the ledger (LEDGER_INVOICE_NEW) and answers INVOICE only once the ledger
    has acknowledged the record: an invoice is never visible before it is durable. When the
    backend reports a payment, the wallet books it (LEDGER_INVOICE_SETTLED) and then tells the
    job router (INVOICE_SETTLED); an open invoice past its expiry is checked once more with the
    backend and then expired the same way (LEDGER_INVOICE_EXPIRED, INVOICE_EXPIRED).

    At start the wallet asks the ledger for the invoices still open (LEDGER_QUERY
    "open_invoices") and reconciles each with its backend: paid while the node was down →
    settled once, past expiry → expired.

    Backends ([wallet] backend in config.toml), in actors/wallet/:
        demo     invoices signed by a key derived from the identity seed; paid only by
                 `pylon wallet demo-pay` (WALLET_DEMO_PAY). No real money moves.
        nwc      Nostr Wallet Connect (NIP-47) through the relay actor
        lnd      LND's REST API: invoices, a resumable settlement stream (actors/wallet/lnd.c)
        lnbits   an LNbits wallet, polled for payments (actors/wallet/lnbits.c)
        cln      Core Lightning's JSON-RPC socket: invoices, a resumable waitanyinvoice
                 (actors/wallet/cln.c) */
#ifndef PYLON_WALLET_H
#define PYLON_WALLET_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

/* What the daemon hands wallet_actor's create. Both are borrowed for the call only: the demo
   backend derives its node key from the seed during create and keeps nothing else of it. */
typedef struct {
    const config_t *cfg;        /* the node's configuration (kept: must outlive the actor) */
    const uint8_t *seed;        /* the 64-byte BIP-39 seed of the identity (demo backend) */
    size_t seed_len;            /* bytes in seed (64) */
} wallet_args_t;

#endif
