DROP TABLE IF EXISTS gatehouse_users_one_time_tokens;
DROP INDEX IF EXISTS gatehouse_users_email_canonical_key;
ALTER TABLE gatehouse_users
    DROP COLUMN IF EXISTS email_verified_at,
    DROP COLUMN IF EXISTS email_verified,
    DROP COLUMN IF EXISTS email_canonical,
    DROP COLUMN IF EXISTS email;
