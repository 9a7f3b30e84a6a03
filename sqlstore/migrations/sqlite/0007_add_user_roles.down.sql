DROP INDEX IF EXISTS gatehouse_users_disabled_username_idx;
ALTER TABLE gatehouse_users DROP COLUMN roles;
