-- +goose Up
-- Gatehouse users (SQLite). TEXT compares byte for byte (BINARY collation).
-- Times are UTC text in the fixed form 'YYYY-MM-DD HH:MM:SS.ffffff', which
-- sorts in time order and is understood by SQLite's date functions.
CREATE TABLE IF NOT EXISTS gatehouse_users (
    id            TEXT    NOT NULL PRIMARY KEY,
    username      TEXT    NOT NULL UNIQUE,
    password_hash TEXT    NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    token_version INTEGER NOT NULL DEFAULT 0,
    created_at    TEXT    NOT NULL,
    updated_at    TEXT    NOT NULL
);

-- +goose Down
DROP TABLE IF EXISTS gatehouse_users;
