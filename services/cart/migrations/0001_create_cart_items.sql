-- One row per product in a user's cart. Portable SQL for SQLite and PostgreSQL.
CREATE TABLE cart_items (
    user_id    TEXT NOT NULL,
    product_id TEXT NOT NULL,
    quantity   INTEGER NOT NULL CHECK (quantity BETWEEN 1 AND 99),
    PRIMARY KEY (user_id, product_id)
);
