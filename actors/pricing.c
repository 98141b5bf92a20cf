/*  pricing.c: the pricing actor. It answers each QUOTE_REQUEST from the job router with a
    QUOTE; the arithmetic is pricing_quote() (pricing.h), which tests call directly. */
#include "pricing.h"
#include "actors.h"
#include "log.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

typedef unsigned __int128 u128;

void
pricing_quote(const config_t *cfg, const char *backend, uint64_t prompt_tokens,
              uint64_t max_tokens, uint64_t bid_msats, pricing_quote_t *quote)
{
    memset(quote, 0, sizeof *quote);
    quote->multiplier = config_backend_multiplier(cfg, backend);
    /* config_validate() keeps these non-negative; the caps keep the products in range. */
    u128 base = (u128) (uint64_t) cfg->base_price_sats * 1000;
    u128 per_1k = (u128) (uint64_t) ceil(fmin(cfg->price_per_1k_tokens, 1e12) * 1000.0);
    u128 ppm = (u128) (uint64_t) llround(fmin(quote->multiplier, 1e6) * 1e6);
    u128 tokens = ((u128) prompt_tokens + max_tokens) * per_1k;
    tokens = (tokens + 999) / 1000;
    if (base == 0 && per_1k == 0) {
        quote->admitted = true;     /* the operator made jobs free */
        return;
    }
    u128 price = ((base + tokens) * ppm + 999999) / 1000000;
    if (price < 1000)
        price = 1000;               /* never a 0-sat invoice on a paid node */
    price = (price + 999) / 1000 * 1000;
    if (price > PRICING_MAX_MSATS) {
        snprintf(quote->reason, sizeof quote->reason,
                 "the price would exceed %llu sats: ask for fewer tokens",
                 PRICING_MAX_MSATS / 1000);
        return;
    }
    quote->base_msats = (uint64_t) base;
    quote->tokens_msats = (uint64_t) tokens;
    quote->price_msats = (uint64_t) price;
    if (bid_msats > 0 && bid_msats < quote->price_msats) {
        snprintf(quote->reason, sizeof quote->reason,
                 "bid of %llu msats is below the price of %llu msats",
                 (unsigned long long) bid_msats, (unsigned long long) quote->price_msats);
        return;
    }
    quote->admitted = true;
}

/* ---- the actor ----------------------------------------------------------------------------- */

typedef struct {
    actor_ctx_t *ctx;
    const config_t *cfg;        /* borrowed from the daemon, read-only */
    uint64_t quotes;            /* quotes given */
    uint64_t refused;           /* of which not admitted */
} pricing_t;

static void *
s_create(actor_ctx_t *ctx, void *args)
{
    pricing_t *self = calloc(1, sizeof *self);
    self->ctx = ctx;
    self->cfg = args;
    return self;
}

static void
s_destroy(void **state_p)
{
    free(*state_p);
    *state_p = NULL;
}

static void
s_handle(void *state, const msg_t *msg)
{
    pricing_t *self = state;
    if (msg->type != MSG_QUOTE_REQUEST) {
        log_error("unexpected %s from %s", msg_type_name(msg->type), msg->from);
        return;
    }
    const msg_quote_request_t *ask = &msg->quote_request;
    pricing_quote_t quote;
    pricing_quote(self->cfg, ask->backend, ask->prompt_tokens, ask->max_tokens, ask->bid_msats,
                  &quote);
    msg_t reply = {.type = MSG_QUOTE,
                   .quote = {.admitted = quote.admitted, .price_msats = quote.price_msats,
                             .base_msats = quote.base_msats, .tokens_msats = quote.tokens_msats,
                             .multiplier = quote.multiplier, .reason = quote.reason}};
    memcpy(reply.quote.job, ask->job, 32);
    self->quotes++;
    self->refused += !quote.admitted;
    actor_reply(self->ctx, msg, &reply);
}

static char *
s_status(void *state)
{
    pricing_t *self = state;
    char *json = NULL;
    if (asprintf(&json, "{\"quotes\":%llu,\"refused\":%llu,\"base_price_sats\":%lld,"
                 "\"price_per_1k_tokens\":%g}",
                 (unsigned long long) self->quotes, (unsigned long long) self->refused,
                 (long long) self->cfg->base_price_sats, self->cfg->price_per_1k_tokens) < 0)
        return NULL;
    return json;
}

const actor_def_t pricing_actor = {
    .name = "pricing",
    .create = s_create,
    .destroy = s_destroy,
    .handle = s_handle,
    .status = s_status,
};
