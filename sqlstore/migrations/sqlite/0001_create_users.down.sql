DROP TABLE IF EXISTS gatehouse_users;
