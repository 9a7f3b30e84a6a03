-- Gatehouse sessions (MySQL 5.7+, MariaDB 10.3+): one row per login, a family
-- of refresh tokens. Only token identifiers are kept, never a token.
-- revoked_at is NULL while the session is live. VARBINARY compares byte for
-- byte, and user_id matches gatehouse_users.id exactly, as the foreign key
-- needs. The indexes are part of the one CREATE TABLE, which keeps the step
-- idempotent: MySQL has no CREATE INDEX IF NOT EXISTS.
CREATE TABLE IF NOT EXISTS gatehouse_sessions (
    id            VARBINARY(255)  NOT NULL,
    user_id       VARBINARY(255)  NOT NULL,
    token_version BIGINT          NOT NULL,
    current_jti   VARBINARY(255)  NOT NULL,
    previous_jti  VARBINARY(255)  NOT NULL DEFAULT '',
    created_at    DATETIME(6)     NOT NULL,
    expires_at    DATETIME(6)     NOT NULL,
    rotated_at    DATETIME(6)     NOT NULL,
    last_used_at  DATETIME(6)     NOT NULL,
    revoked_at    DATETIME(6)     NULL DEFAULT NULL,
    user_agent    VARBINARY(1024) NOT NULL DEFAULT '',
    ip            VARBINARY(255)  NOT NULL DEFAULT '',
    PRIMARY KEY (id),
    KEY gatehouse_sessions_user_id_idx (user_id),
    KEY gatehouse_sessions_expires_at_idx (expires_at),
    KEY gatehouse_sessions_revoked_at_idx (revoked_at),
    CONSTRAINT gatehouse_sessions_user_id_fk FOREIGN KEY (user_id)
        REFERENCES gatehouse_users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
