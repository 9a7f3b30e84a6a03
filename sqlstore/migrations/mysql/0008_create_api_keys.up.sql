-- Gatehouse API keys, version 8 (MySQL 5.7+, MariaDB 10.3+): personal
-- access tokens. Only a keyed hash of each key is kept, never the key.
-- revoked_at is NULL while the key is live; expires_at and last_used_at
-- are NULL for never. scopes holds the sorted names joined by commas. The
-- indexes are part of the one CREATE TABLE, which keeps the step
-- idempotent.
CREATE TABLE IF NOT EXISTS gatehouse_users_api_keys (
    id            VARBINARY(255)  NOT NULL,
    user_id       VARBINARY(255)  NOT NULL,
    name          VARBINARY(400)  NOT NULL,
    hash          VARBINARY(255)  NOT NULL,
    scopes        VARBINARY(1100) NOT NULL DEFAULT '',
    token_version BIGINT          NOT NULL,
    created_at    DATETIME(6)     NOT NULL,
    expires_at    DATETIME(6)     NULL DEFAULT NULL,
    last_used_at  DATETIME(6)     NULL DEFAULT NULL,
    revoked_at    DATETIME(6)     NULL DEFAULT NULL,
    PRIMARY KEY (id),
    UNIQUE KEY gatehouse_users_api_keys_hash_key (hash),
    KEY gatehouse_users_api_keys_user_id_idx (user_id),
    CONSTRAINT gatehouse_users_api_keys_user_id_fk FOREIGN KEY (user_id)
        REFERENCES gatehouse_users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
