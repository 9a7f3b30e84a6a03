-- +goose Up
-- Gatehouse sessions, version 10 (MySQL 5.7+, MariaDB 10.3+): one index
-- for a user's live sessions, (user_id, revoked_at, expires_at), in place
-- of the index on user_id alone. The session list (user_id = ?,
-- revoked_at IS NULL, expires_at > now) then reads only the live rows;
-- logout-all, DeleteUser and the foreign key use its first column as they
-- used the old index, which is why it is made before the old one goes.
-- InnoDB builds it online: reads and writes go on meanwhile. MySQL has no
-- CREATE INDEX IF NOT EXISTS: sqlstore's Migrate skips an index that is
-- already there and a DROP of one that is gone, which completes a step
-- that DDL's implicit commits left half done. Run by hand, this file is
-- for a database at version 9 or before.
CREATE INDEX gatehouse_sessions_user_live_idx ON gatehouse_sessions (user_id, revoked_at, expires_at);
DROP INDEX gatehouse_sessions_user_id_idx ON gatehouse_sessions;

-- +goose Down
CREATE INDEX gatehouse_sessions_user_id_idx ON gatehouse_sessions (user_id);
DROP INDEX gatehouse_sessions_user_live_idx ON gatehouse_sessions;
