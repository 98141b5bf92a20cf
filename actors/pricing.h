/*  pricing.h: the price of a job, in millisatoshis, with its breakdown for the ledger.

        base    = base_price_sats × 1000
        tokens  = ⌈price_per_1k_tokens × 1000 × (prompt_tokens + max_tokens) / 1000⌉
        price   = ⌈(base + tokens) × multiplier(backend)⌉, rounded up to whole sats

    Integer arithmetic throughout (the float settings become integer msats and parts per
    million first). A node whose base and per-token prices are both zero serves free jobs
    (price 0, no invoice); otherwise a price is never below 1 sat. A buyer's bid, when given,
    must cover the price. */
#ifndef PYLON_PRICING_H
#define PYLON_PRICING_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"

#define PRICING_MAX_MSATS 1000000000000000ull   /* 10,000 BTC: anything above is a mistake */

typedef struct {
    bool admitted;          /* false: the reason says why (bid too low, price absurd) */
    uint64_t price_msats;   /* what the invoice asks; 0 for a free job */
    uint64_t base_msats;    /* the base part */
    uint64_t tokens_msats;  /* the per-token part, before the multiplier */
    double multiplier;      /* the backend's factor */
    char reason[256];
} pricing_quote_t;

void pricing_quote(const config_t *cfg, const char *backend, uint64_t prompt_tokens,
                   uint64_t max_tokens, uint64_t bid_msats, pricing_quote_t *quote);

#endif
