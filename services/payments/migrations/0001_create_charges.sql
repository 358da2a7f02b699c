-- One row per successful charge, keyed by the caller's idempotency key, so a retry finds the
-- first result instead of charging again. Portable SQL for SQLite and PostgreSQL.
CREATE TABLE charges (
    idempotency_key TEXT PRIMARY KEY,
    transaction_id  TEXT NOT NULL UNIQUE,
    currency_code   TEXT NOT NULL,
    amount_units    BIGINT NOT NULL,
    card_last_four  TEXT NOT NULL,
    created_at      TEXT NOT NULL
);
