ALTER TABLE gatehouse_sessions
    DROP COLUMN IF EXISTS grace_uses,
    DROP COLUMN IF EXISTS rotated_ip,
    DROP COLUMN IF EXISTS rotated_user_agent;
