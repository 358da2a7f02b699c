-- One row per checkout attempt's idempotency key, written before any side effect: what the request
-- was (a fingerprint of its body), which order it makes (order_id, fixed at the start, so the
-- payment key derived from it is the same on every retry), how far it got (state), and which
-- attempt is working on it (lease). Portable SQL for SQLite and PostgreSQL.
--
-- state: started  -> reserved, nothing charged
--        charging -> priced (currency_code, total_units, lines_json kept), the charge may exist
--        completed -> the order is stored
--        voided   -> abandoned; its charge (if any) was voided by the reconciler
CREATE TABLE checkouts (
    user_id         TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    fingerprint     TEXT NOT NULL,
    order_id        TEXT NOT NULL UNIQUE,
    state           TEXT NOT NULL,
    lease_id        TEXT NOT NULL,
    leased_until_ms BIGINT NOT NULL,
    currency_code   TEXT,
    total_units     BIGINT,
    lines_json      TEXT,
    created_at      TEXT NOT NULL,
    PRIMARY KEY (user_id, idempotency_key)
);

-- The reconciler looks for open checkouts whose lease ended long ago.
CREATE INDEX checkouts_open ON checkouts (state, leased_until_ms);
