/*  nwc.h: Nostr Wallet Connect (NIP-47) pieces that are pure functions, so tests and fuzz
    targets reach them without an actor: the connection URI parser, the decrypted
    response/notification parser, and the error-code table. The backend itself is
    wallet_backend_nwc (nwc.c).

    Both parsers take untrusted text and bound everything: the URI at NWC_URI_MAX bytes, a
    message at NWC_MESSAGE_MAX bytes and nesting depth NWC_MESSAGE_DEPTH, every string at its
    field's limit; amounts and times must be non-negative JSON integers. */
#ifndef PYLON_WALLET_NWC_H
#define PYLON_WALLET_NWC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NWC_URI_MAX         4096        /* longest connection URI accepted, bytes */
#define NWC_MAX_RELAYS      8           /* relay= parameters kept */
#define NWC_RELAY_MAX       512         /* one relay URL, bytes (the RELAY_EVENT limit) */
#define NWC_LUD16_MAX       256         /* a lightning address, bytes */
#define NWC_MESSAGE_MAX     65536       /* one decrypted response or notification, bytes */
#define NWC_MESSAGE_DEPTH   8           /* JSON nesting accepted in one */
#define NWC_INVOICE_MAX     4096        /* a BOLT11 string in a result (the INVOICE limit) */

/* A parsed nostr+walletconnect:// URI. secret is the client's secret key: wipe it
   (nwc_uri_wipe) once used. */
typedef struct {
    uint8_t wallet_pubkey[32];          /* the wallet service's key */
    uint8_t secret[32];                 /* our (the client's) secret key */
    char relays[NWC_MAX_RELAYS][NWC_RELAY_MAX + 1];  /* decoded ws:// or wss:// URLs */
    size_t relay_count;                 /* at least 1 */
    char lud16[NWC_LUD16_MAX + 1];      /* lightning address, "" when absent */
} nwc_uri_t;

/* Parse uri. 0, or -1 with a reason in err that never contains the secret. */
int nwc_uri_parse(const char *uri, nwc_uri_t *out, char *err, size_t err_size);
void nwc_uri_wipe(nwc_uri_t *uri);

/* The state of a transaction object ("state" is optional in NIP-47). */
typedef enum {
    NWC_STATE_NONE,         /* absent: judge by settled_at / preimage */
    NWC_STATE_PENDING,
    NWC_STATE_SETTLED,
    NWC_STATE_ACCEPTED,     /* hold invoice accepted, not settled */
    NWC_STATE_EXPIRED,
    NWC_STATE_FAILED
} nwc_state_t;

/* A decrypted response ({"result_type","error","result"}) or notification
   ({"notification_type","notification"}), with the members Pylon uses. */
typedef struct {
    bool is_notification;               /* notification_type present */
    char type[64];                      /* result_type or notification_type */
    bool has_error;                     /* error was an object (not null / absent) */
    char error_code[64];                /* e.g. "UNAUTHORIZED" */
    char error_message[512];            /* the wallet's text (may be "") */
    bool has_result;                    /* result / notification was an object */
    char invoice[NWC_INVOICE_MAX + 1];  /* result.invoice, "" when absent */
    bool has_payment_hash;              /* result.payment_hash present and valid */
    uint8_t payment_hash[32];           /* result.payment_hash */
    bool has_preimage;                  /* result.preimage present (non-empty) */
    nwc_state_t state;                  /* result.state */
    uint64_t amount;                    /* result.amount, msats (0 when absent) */
    uint64_t settled_at;                /* result.settled_at (0 when absent or null) */
    uint64_t expires_at;                /* result.expires_at (0 when absent) */
    bool has_balance;                   /* result.balance present */
    uint64_t balance;                   /* result.balance, msats */
    char network[16];                   /* result.network of get_info, "" when absent */
    char alias[64];                     /* result.alias of get_info (cut), "" when absent */
} nwc_message_t;

/* Parse a decrypted message of len bytes. 0, or -1 with the reason in err. */
int nwc_message_parse(const char *json, size_t len, nwc_message_t *out, char *err,
                      size_t err_size);

/* True when a transaction is paid: state settled, or, without a state, a settled_at or a
   preimage (NIP-47: some wallets omit state). */
bool nwc_message_paid(const nwc_message_t *msg);

/* A clear English sentence for a NIP-47 error code (every code of the spec; unknown codes get
   a generic sentence naming the code). Never NULL. */
const char *nwc_error_text(const char *code);

#endif
