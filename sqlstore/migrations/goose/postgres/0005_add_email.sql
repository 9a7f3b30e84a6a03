-- +goose Up
-- Gatehouse users, version 5 (PostgreSQL): an optional email address per
-- user, kept as given (email) and in the canonical form it is compared in
-- (email_canonical, unique, byte for byte; NULL for no address, which any
-- number of users may have), whether and when it was verified; and the
-- one-time tokens mailed for verification, password reset, email change
-- and magic links, by their SHA-256 only, at most one per user and
-- purpose. Existing users get no address; no column rewrites the table.
ALTER TABLE gatehouse_users
    ADD COLUMN IF NOT EXISTS email             TEXT,
    ADD COLUMN IF NOT EXISTS email_canonical   TEXT COLLATE "C",
    ADD COLUMN IF NOT EXISTS email_verified    BOOLEAN NOT NULL DEFAULT FALSE,
    ADD COLUMN IF NOT EXISTS email_verified_at TIMESTAMPTZ;
CREATE UNIQUE INDEX IF NOT EXISTS gatehouse_users_email_canonical_key ON gatehouse_users (email_canonical);
CREATE TABLE IF NOT EXISTS gatehouse_users_one_time_tokens (
    hash       TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    user_id    TEXT COLLATE "C" NOT NULL,
    purpose    TEXT COLLATE "C" NOT NULL,
    email      TEXT             NOT NULL,
    binding    TEXT COLLATE "C" NOT NULL,
    created_at TIMESTAMPTZ      NOT NULL,
    expires_at TIMESTAMPTZ      NOT NULL,
    CONSTRAINT gatehouse_users_one_time_tokens_user_purpose_key UNIQUE (user_id, purpose),
    CONSTRAINT gatehouse_users_one_time_tokens_user_id_fk FOREIGN KEY (user_id)
        REFERENCES gatehouse_users (id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS gatehouse_users_one_time_tokens_expires_at_idx ON gatehouse_users_one_time_tokens (expires_at);

-- +goose Down
DROP TABLE IF EXISTS gatehouse_users_one_time_tokens;
DROP INDEX IF EXISTS gatehouse_users_email_canonical_key;
ALTER TABLE gatehouse_users
    DROP COLUMN IF EXISTS email_verified_at,
    DROP COLUMN IF EXISTS email_verified,
    DROP COLUMN IF EXISTS email_canonical,
    DROP COLUMN IF EXISTS email;
