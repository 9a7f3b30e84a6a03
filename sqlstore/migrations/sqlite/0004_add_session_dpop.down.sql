ALTER TABLE gatehouse_sessions DROP COLUMN dpop_jkt;
