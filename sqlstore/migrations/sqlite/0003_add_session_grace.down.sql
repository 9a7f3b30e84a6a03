ALTER TABLE gatehouse_sessions DROP COLUMN grace_uses;
ALTER TABLE gatehouse_sessions DROP COLUMN rotated_ip;
ALTER TABLE gatehouse_sessions DROP COLUMN rotated_user_agent;
