-- Gatehouse sessions, version 4 (SQLite): the thumbprint of the DPoP key
-- (RFC 9449) a session is bound to, set at login and never changed. Existing
-- rows get '', unbound. SQLite has no ADD COLUMN IF NOT EXISTS: sqlstore's
-- Migrate skips a column that is already there; run by hand, this file is
-- for a database without it.
ALTER TABLE gatehouse_sessions ADD COLUMN dpop_jkt TEXT NOT NULL DEFAULT '';
