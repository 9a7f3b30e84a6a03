DROP TABLE IF EXISTS gatehouse_users_one_time_tokens;
ALTER TABLE gatehouse_users DROP COLUMN email_canonical;
ALTER TABLE gatehouse_users DROP COLUMN email_verified_at;
ALTER TABLE gatehouse_users DROP COLUMN email_verified;
ALTER TABLE gatehouse_users DROP COLUMN email;
