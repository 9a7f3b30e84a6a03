-- Gatehouse sessions, version 10 (SQLite): one index for a user's live
-- sessions, (user_id, revoked_at, expires_at), in place of the index on
-- user_id alone. The session list (user_id = ?, revoked_at IS NULL,
-- expires_at > now) then reads only the live rows, not every session the
-- user ever had that pruning has not removed yet; logout-all and
-- DeleteUser use its first column as they used the old index. Existing
-- rows stay as they are; building the index reads the table once.
CREATE INDEX IF NOT EXISTS gatehouse_sessions_user_live_idx ON gatehouse_sessions (user_id, revoked_at, expires_at);
DROP INDEX IF EXISTS gatehouse_sessions_user_id_idx;
