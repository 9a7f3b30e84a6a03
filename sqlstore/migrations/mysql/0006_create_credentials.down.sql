DROP TABLE IF EXISTS gatehouse_users_nonces;
DROP TABLE IF EXISTS gatehouse_users_passkeys;
DROP TABLE IF EXISTS gatehouse_users_recovery_codes;
DROP TABLE IF EXISTS gatehouse_users_totp;
