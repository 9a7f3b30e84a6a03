-- Gatehouse users, version 7 (MySQL 5.7+, MariaDB 10.3+): each user's
-- roles, as their sorted names joined by commas ('' for none; at most 16
-- names of 64 bytes), and the index that serves the admin user list
-- filtered on disabled, in username order. Existing users get no roles.
-- One statement, so that the column and the index come together: sqlstore's
-- Migrate skips it when the column is there already.
ALTER TABLE gatehouse_users
    ADD COLUMN roles VARBINARY(1100) NOT NULL DEFAULT '',
    ADD KEY gatehouse_users_disabled_username_idx (disabled, username);
