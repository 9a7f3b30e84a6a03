-- +goose Up
-- Gatehouse users, version 5 (MySQL 5.7+, MariaDB 10.3+): an optional
-- email address per user, kept as given (email) and in the canonical form
-- it is compared in (email_canonical, unique, byte for byte; NULL for no
-- address, which any number of users may have), whether and when it was
-- verified; and the one-time tokens mailed for verification, password
-- reset, email change and magic links, by their SHA-256 only, at most one
-- per user and purpose. Existing users get no address. MySQL has no ADD
-- COLUMN IF NOT EXISTS: one column per statement (the unique key comes
-- with its column), and sqlstore's Migrate skips a column that is already
-- there. Run by hand, this file is for a database without the columns.
ALTER TABLE gatehouse_users ADD COLUMN email VARBINARY(1020) NULL DEFAULT NULL;
ALTER TABLE gatehouse_users ADD COLUMN email_verified BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE gatehouse_users ADD COLUMN email_verified_at DATETIME(6) NULL DEFAULT NULL;
ALTER TABLE gatehouse_users ADD COLUMN email_canonical VARBINARY(1020) NULL DEFAULT NULL,
    ADD UNIQUE KEY gatehouse_users_email_canonical_key (email_canonical);
CREATE TABLE IF NOT EXISTS gatehouse_users_one_time_tokens (
    hash       VARBINARY(64)   NOT NULL,
    user_id    VARBINARY(255)  NOT NULL,
    purpose    VARBINARY(64)   NOT NULL,
    email      VARBINARY(1020) NOT NULL,
    binding    VARBINARY(64)   NOT NULL,
    created_at DATETIME(6)     NOT NULL,
    expires_at DATETIME(6)     NOT NULL,
    PRIMARY KEY (hash),
    UNIQUE KEY gatehouse_users_one_time_tokens_user_purpose_key (user_id, purpose),
    KEY gatehouse_users_one_time_tokens_expires_at_idx (expires_at),
    CONSTRAINT gatehouse_users_one_time_tokens_user_id_fk FOREIGN KEY (user_id)
        REFERENCES gatehouse_users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- +goose Down
DROP TABLE IF EXISTS gatehouse_users_one_time_tokens;
ALTER TABLE gatehouse_users DROP COLUMN email_canonical;
ALTER TABLE gatehouse_users DROP COLUMN email_verified_at;
ALTER TABLE gatehouse_users DROP COLUMN email_verified;
ALTER TABLE gatehouse_users DROP COLUMN email;
