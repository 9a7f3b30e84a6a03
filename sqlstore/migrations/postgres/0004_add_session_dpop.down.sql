ALTER TABLE gatehouse_sessions
    DROP COLUMN IF EXISTS dpop_jkt;
