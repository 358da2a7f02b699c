-- The records of {{name}}. Portable SQL for SQLite and PostgreSQL (sqlx's Any driver runs both).
-- A deployed migration never changes: add 0002_....sql for the next change.
CREATE TABLE {{name}}_records (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    created_at TEXT NOT NULL
);
