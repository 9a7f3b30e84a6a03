-- +goose Up
-- Gatehouse sessions, version 4 (MySQL 5.7+, MariaDB 10.3+): the thumbprint
-- of the DPoP key (RFC 9449) a session is bound to, set at login and never
-- changed. Existing rows get '', unbound. MySQL has no ADD COLUMN IF NOT
-- EXISTS (MariaDB has): sqlstore's Migrate skips a column that is already
-- there; run by hand, this file is for a database without it.
ALTER TABLE gatehouse_sessions ADD COLUMN dpop_jkt VARBINARY(255) NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE gatehouse_sessions DROP COLUMN dpop_jkt;
