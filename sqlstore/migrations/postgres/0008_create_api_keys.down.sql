DROP TABLE IF EXISTS gatehouse_users_api_keys;
