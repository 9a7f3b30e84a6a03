DROP TABLE IF EXISTS gatehouse_users_audit;
