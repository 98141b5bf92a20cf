/*  dashboard.c: the live view of `pylon start --foreground` on a terminal. Once a second the
    daemon's main thread asks its own control actor for the status (the same answer `pylon
    status --json` prints) and redraws the screen in place: relays, backends, jobs in flight,
    jobs and sats today, sats in total, and the last errors. Logs go to pylon.log meanwhile. */
#include "control.h"
#include "daemon.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define GET(obj, key) json_object_object_get(obj, key)

void
dashboard_render(const char *control_socket, FILE *out)
{
    char *reply = NULL;
    json_object *status = control_call(control_socket, "STATUS", "{}", 1000, &reply) == 0
                          ? json_tokener_parse(reply) : NULL;
    free(reply);
    fputs("\033[H\033[2J", out);        /* home, clear */
    time_t now = time(NULL);
    char clock[32];
    strftime(clock, sizeof clock, "%H:%M:%S", localtime(&now));
    fprintf(out, "\033[1mPylon\033[0m  %s   (Ctrl-C stops the node; logs in pylon.log)\n\n", clock);
    if (!status) {
        fprintf(out, "waiting for the node to answer...\n");
        fflush(out);
        return;
    }
    json_object *actors = GET(status, "actors");
    json_object *relay = GET(actors, "relay"), *router = GET(actors, "job_router");
    json_object *ledger = GET(actors, "ledger"), *wallet = GET(actors, "wallet");
    json_object *books = GET(ledger, "books");
    json_object *relays = GET(relay, "relays");
    fprintf(out, "relays    %d of %zu connected\n", json_object_get_int(GET(relay, "connected")),
            relays ? json_object_array_length(relays) : 0);
    for (size_t i = 0; relays && i < json_object_array_length(relays); i++) {
        json_object *r = json_object_array_get_idx(relays, i);
        fprintf(out, "  %-12s %-40.40s in %-6lld out %-6lld %s\n", json_object_get_string(GET(r, "state")),
                json_object_get_string(GET(r, "url")), (long long) json_object_get_int64(GET(r, "events_in")),
                (long long) json_object_get_int64(GET(r, "events_out")),
                GET(r, "last_error") ? json_object_get_string(GET(r, "last_error")) : "");
    }
    fprintf(out, "\nbackends\n");
    json_object_object_foreach(GET(router, "backends"), name, backend)
        fprintf(out, "  %-30s %-13s queued %d, slots %d\n", name,
                json_object_get_boolean(GET(backend, "available")) ? "available" : "NOT available",
                json_object_get_int(GET(backend, "queued")), json_object_get_int(GET(backend, "slots")));
    fprintf(out, "\njobs      in flight %lld   today %lld (delivered %lld)   unpaid invoices %lld\n",
            (long long) json_object_get_int64(GET(router, "in_flight")),
            (long long) json_object_get_int64(GET(books, "jobs_today")),
            (long long) json_object_get_int64(GET(books, "delivered_today")),
            (long long) json_object_get_int64(GET(router, "unpaid_invoices")));
    fprintf(out, "earned    today %.3f sats   in total %.3f sats   (wallet: %s%s)\n",
            (double) json_object_get_int64(GET(books, "earned_today_msats")) / 1000.0,
            (double) json_object_get_int64(GET(books, "earned_total_msats")) / 1000.0,
            wallet ? json_object_get_string(GET(wallet, "backend")) : "?",
            wallet && json_object_get_boolean(GET(wallet, "no_real_money")) ? ", demo: no real money" : "");
    fprintf(out, "\nlast errors\n");
    bool any = false;
    const char *error = wallet ? json_object_get_string(GET(wallet, "last_error")) : NULL;
    if (error && *error) {
        fprintf(out, "  wallet: %s\n", error);
        any = true;
    }
    json_object_object_foreach(GET(GET(actors, "inference"), "backends"), id, b) {
        const char *last = json_object_get_string(GET(b, "last_error"));
        if (last && *last) {
            fprintf(out, "  %s: %s\n", id, last);
            any = true;
        }
    }
    if (!any)
        fprintf(out, "  (none)\n");
    fflush(out);
    json_object_put(status);
}
