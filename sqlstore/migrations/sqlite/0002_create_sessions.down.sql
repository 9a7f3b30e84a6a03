DROP TABLE IF EXISTS gatehouse_sessions;
