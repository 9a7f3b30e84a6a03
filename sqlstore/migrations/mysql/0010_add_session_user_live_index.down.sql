CREATE INDEX gatehouse_sessions_user_id_idx ON gatehouse_sessions (user_id);
DROP INDEX gatehouse_sessions_user_live_idx ON gatehouse_sessions;
