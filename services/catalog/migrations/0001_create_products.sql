-- Portable SQL: runs unchanged on SQLite and PostgreSQL. Prices are integer minor units (cents).
CREATE TABLE products (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    description   TEXT NOT NULL,
    category      TEXT NOT NULL,
    currency_code TEXT NOT NULL,
    price_units   BIGINT NOT NULL,
    picture_url   TEXT NOT NULL
);

CREATE INDEX products_by_category ON products (category, id);
