-- ledger-001-initial.sql: the ledger's tables. Applied once, in a transaction, when
-- PRAGMA user_version is below 1 (actors/ledger_db.c runs the migrations in order).
-- Amounts are millisatoshis, times are unix seconds, ids and hashes are lowercase hex.

-- Small facts: relay since-cursors, wallet stream indexes.
CREATE TABLE config (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- One row per job request (the request event's id), whatever the number of relays or restarts
-- that deliver it. state: received | rejected | quoted | expired | queued | running |
-- delivered | failed (see docs/architecture.md for the machine).
CREATE TABLE jobs (
    id                TEXT PRIMARY KEY,
    buyer             TEXT NOT NULL,
    kind              INTEGER NOT NULL,
    backend           TEXT NOT NULL,
    state             TEXT NOT NULL,
    request           TEXT NOT NULL,          -- the request event JSON, to resume after a crash
    encryption        TEXT NOT NULL DEFAULT '',
    price_msats       INTEGER NOT NULL DEFAULT 0,
    quote             TEXT NOT NULL DEFAULT '',   -- the price's breakdown, JSON
    payment_hash      TEXT NOT NULL DEFAULT '',
    result_event      TEXT NOT NULL DEFAULT '',   -- the signed result, republished as is
    error             TEXT NOT NULL DEFAULT '',
    prompt_tokens     INTEGER NOT NULL DEFAULT 0,
    completion_tokens INTEGER NOT NULL DEFAULT 0,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    paid_at           INTEGER NOT NULL DEFAULT 0,
    started_at        INTEGER NOT NULL DEFAULT 0,
    finished_at       INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX jobs_state ON jobs(state);
CREATE INDEX jobs_created ON jobs(created_at);

-- Invoices, one per payment hash. state: open | settled | expired.
CREATE TABLE invoices (
    payment_hash TEXT PRIMARY KEY,
    job          TEXT NOT NULL,
    bolt11       TEXT NOT NULL,
    amount_msats INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    state        TEXT NOT NULL DEFAULT 'open',
    preimage     TEXT NOT NULL DEFAULT '',    -- the demo wallet's only; secret until paid
    wallet       TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    settled_at   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX invoices_state ON invoices(state);

-- Money earned: one row per settled invoice, so nothing is booked twice.
CREATE TABLE earnings (
    payment_hash TEXT PRIMARY KEY,
    job          TEXT NOT NULL,
    backend      TEXT NOT NULL,
    amount_msats INTEGER NOT NULL,
    booked_at    INTEGER NOT NULL
);
CREATE INDEX earnings_booked ON earnings(booked_at);
