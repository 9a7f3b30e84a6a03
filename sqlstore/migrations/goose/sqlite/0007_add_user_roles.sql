-- +goose Up
-- Gatehouse users, version 7 (SQLite): each user's roles, as their sorted
-- names joined by commas ('' for none), and the index that serves the
-- admin user list filtered on disabled, in username order. Existing users
-- get no roles. SQLite has no ADD COLUMN IF NOT EXISTS: sqlstore's Migrate
-- skips a column that is already there; run by hand, this file is for a
-- database without it.
ALTER TABLE gatehouse_users ADD COLUMN roles TEXT NOT NULL DEFAULT '';
CREATE INDEX IF NOT EXISTS gatehouse_users_disabled_username_idx ON gatehouse_users (disabled, username);

-- +goose Down
DROP INDEX IF EXISTS gatehouse_users_disabled_username_idx;
ALTER TABLE gatehouse_users DROP COLUMN roles;
