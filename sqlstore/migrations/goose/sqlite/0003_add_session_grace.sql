-- +goose Up
-- Gatehouse sessions, version 3 (SQLite): the client that made the last
-- rotation, and how often the replaced refresh token was answered from the
-- grace window since then. Existing rows get '' and 0. SQLite has no
-- ADD COLUMN IF NOT EXISTS: sqlstore's Migrate skips a column that is
-- already there; run by hand, this file is for a database without them.
ALTER TABLE gatehouse_sessions ADD COLUMN rotated_user_agent TEXT NOT NULL DEFAULT '';
ALTER TABLE gatehouse_sessions ADD COLUMN rotated_ip TEXT NOT NULL DEFAULT '';
ALTER TABLE gatehouse_sessions ADD COLUMN grace_uses INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE gatehouse_sessions DROP COLUMN grace_uses;
ALTER TABLE gatehouse_sessions DROP COLUMN rotated_ip;
ALTER TABLE gatehouse_sessions DROP COLUMN rotated_user_agent;
