-- One row per cart, written first by every add in the add's transaction: it serializes the adds
-- to one cart (PostgreSQL locks the row; SQLite has one writer), so that the limits checked by an
-- add (MAX_LINES products, MAX_QUANTITY each) hold under concurrent adds too.
CREATE TABLE carts (
    user_id TEXT PRIMARY KEY,
    adds    BIGINT NOT NULL
);
