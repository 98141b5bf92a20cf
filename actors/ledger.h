/*  ledger.h: what the daemon hands the ledger actor. */
#ifndef PYLON_LEDGER_H
#define PYLON_LEDGER_H

typedef struct {
    const char *path;           /* pylon.db */
} ledger_args_t;

#endif
