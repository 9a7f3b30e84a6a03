-- Gatehouse sessions, version 3 (MySQL 5.7+, MariaDB 10.3+): the client that
-- made the last rotation, and how often the replaced refresh token was
-- answered from the grace window since then. Existing rows get '' and 0.
-- MySQL has no ADD COLUMN IF NOT EXISTS (MariaDB has): one column per
-- statement, and sqlstore's Migrate skips a column that is already there,
-- which completes a step that DDL's implicit commits left half done. Run
-- by hand, this file is for a database without the columns.
ALTER TABLE gatehouse_sessions ADD COLUMN rotated_user_agent VARBINARY(1024) NOT NULL DEFAULT '';
ALTER TABLE gatehouse_sessions ADD COLUMN rotated_ip VARBINARY(255) NOT NULL DEFAULT '';
ALTER TABLE gatehouse_sessions ADD COLUMN grace_uses INT NOT NULL DEFAULT 0;
