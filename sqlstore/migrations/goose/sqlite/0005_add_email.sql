-- +goose Up
-- Gatehouse users, version 5 (SQLite): an optional email address per user,
-- kept as given (email) and in the canonical form it is compared in
-- (email_canonical, unique; NULL for no address, which any number of users
-- may have), whether and when it was verified; and the one-time tokens
-- mailed for verification, password reset, email change and magic links,
-- by their SHA-256 only, at most one per user and purpose. Existing users
-- get no address. SQLite has no ADD COLUMN IF NOT EXISTS: sqlstore's
-- Migrate skips a column that is already there; run by hand, this file is
-- for a database without them.
ALTER TABLE gatehouse_users ADD COLUMN email TEXT;
ALTER TABLE gatehouse_users ADD COLUMN email_canonical TEXT;
ALTER TABLE gatehouse_users ADD COLUMN email_verified INTEGER NOT NULL DEFAULT 0 CHECK (email_verified IN (0, 1));
ALTER TABLE gatehouse_users ADD COLUMN email_verified_at TEXT;
CREATE UNIQUE INDEX IF NOT EXISTS gatehouse_users_email_canonical_key ON gatehouse_users (email_canonical);
CREATE TABLE IF NOT EXISTS gatehouse_users_one_time_tokens (
    hash       TEXT NOT NULL PRIMARY KEY,
    user_id    TEXT NOT NULL,
    purpose    TEXT NOT NULL,
    email      TEXT NOT NULL,
    binding    TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    CONSTRAINT gatehouse_users_one_time_tokens_user_purpose_key UNIQUE (user_id, purpose),
    CONSTRAINT gatehouse_users_one_time_tokens_user_id_fk FOREIGN KEY (user_id)
        REFERENCES gatehouse_users (id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS gatehouse_users_one_time_tokens_expires_at_idx ON gatehouse_users_one_time_tokens (expires_at);

-- +goose Down
DROP TABLE IF EXISTS gatehouse_users_one_time_tokens;
DROP INDEX IF EXISTS gatehouse_users_email_canonical_key;
ALTER TABLE gatehouse_users DROP COLUMN email_verified_at;
ALTER TABLE gatehouse_users DROP COLUMN email_verified;
ALTER TABLE gatehouse_users DROP COLUMN email_canonical;
ALTER TABLE gatehouse_users DROP COLUMN email;
