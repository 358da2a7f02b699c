-- Orders and their lines. (user_id, idempotency_key) is unique: a retried checkout finds the
-- order the first attempt stored. Portable SQL for SQLite and PostgreSQL.
CREATE TABLE orders (
    id               TEXT PRIMARY KEY,
    user_id          TEXT NOT NULL,
    idempotency_key  TEXT NOT NULL,
    currency_code    TEXT NOT NULL,
    total_units      BIGINT NOT NULL,
    ship_name        TEXT NOT NULL,
    ship_street      TEXT NOT NULL,
    ship_city        TEXT NOT NULL,
    ship_postal_code TEXT NOT NULL,
    ship_country     TEXT NOT NULL,
    transaction_id   TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    UNIQUE (user_id, idempotency_key)
);

CREATE INDEX orders_by_user ON orders (user_id, created_at);

CREATE TABLE order_lines (
    order_id     TEXT NOT NULL REFERENCES orders (id),
    line_no      INTEGER NOT NULL,
    product_id   TEXT NOT NULL,
    product_name TEXT NOT NULL,
    quantity     INTEGER NOT NULL,
    unit_units   BIGINT NOT NULL,
    PRIMARY KEY (order_id, line_no)
);
