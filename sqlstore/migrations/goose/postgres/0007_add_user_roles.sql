-- +goose Up
-- Gatehouse users, version 7 (PostgreSQL): each user's roles, as their
-- sorted names joined by commas ('' for none), and the index that serves
-- the admin user list filtered on disabled, in username order. Existing
-- users get no roles; a column with a constant default is added without
-- rewriting the table.
ALTER TABLE gatehouse_users ADD COLUMN IF NOT EXISTS roles TEXT NOT NULL DEFAULT '';
CREATE INDEX IF NOT EXISTS gatehouse_users_disabled_username_idx ON gatehouse_users (disabled, username);

-- +goose Down
DROP INDEX IF EXISTS gatehouse_users_disabled_username_idx;
ALTER TABLE gatehouse_users DROP COLUMN IF EXISTS roles;
