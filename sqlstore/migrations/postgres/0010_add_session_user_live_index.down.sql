CREATE INDEX IF NOT EXISTS gatehouse_sessions_user_id_idx ON gatehouse_sessions (user_id);
DROP INDEX IF EXISTS gatehouse_sessions_user_live_idx;
