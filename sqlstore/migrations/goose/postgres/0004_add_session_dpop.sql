-- +goose Up
-- Gatehouse sessions, version 4 (PostgreSQL): the thumbprint of the DPoP key
-- (RFC 9449) a session is bound to, set at login and never changed. Existing
-- rows get '', unbound. A column with a constant default is added without
-- rewriting the table.
ALTER TABLE gatehouse_sessions
    ADD COLUMN IF NOT EXISTS dpop_jkt TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE gatehouse_sessions
    DROP COLUMN IF EXISTS dpop_jkt;
