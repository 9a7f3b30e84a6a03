-- +goose Up
-- Gatehouse sessions, version 10 (PostgreSQL): one index for a user's live
-- sessions, (user_id, revoked_at, expires_at), in place of the index on
-- user_id alone. The session list (user_id = ?, revoked_at IS NULL,
-- expires_at > now) then reads only the live rows, and the planner has no
-- reason left to combine the user_id index with a scan of every live
-- session in the revoked_at index, which it did on fresh statistics;
-- logout-all and DeleteUser use its first column as they used the old
-- index. Existing rows stay as they are. CREATE INDEX blocks writes to the
-- table while it builds (seconds per million sessions): on a large table,
-- run the CREATE INDEX CONCURRENTLY form of the first statement by hand
-- before upgrading, and this step then finds the index there.
CREATE INDEX IF NOT EXISTS gatehouse_sessions_user_live_idx ON gatehouse_sessions (user_id, revoked_at, expires_at);
DROP INDEX IF EXISTS gatehouse_sessions_user_id_idx;

-- +goose Down
CREATE INDEX IF NOT EXISTS gatehouse_sessions_user_id_idx ON gatehouse_sessions (user_id);
DROP INDEX IF EXISTS gatehouse_sessions_user_live_idx;
