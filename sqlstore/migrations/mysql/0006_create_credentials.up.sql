-- Gatehouse second factors, version 6 (MySQL 5.7+, MariaDB 10.3+): a TOTP
-- secret per user (sealed by the Authenticator, never in the clear),
-- recovery-code hashes, passkeys (WebAuthn credential records) and the
-- spent one-time tokens (mfa_tokens, passkey ceremonies). New tables only:
-- existing rows are untouched. Indexes are part of each CREATE TABLE, which
-- keeps the step idempotent (MySQL has no CREATE INDEX IF NOT EXISTS).
-- BLOB columns take no default on MySQL; the Authenticator always sets them.
CREATE TABLE IF NOT EXISTS gatehouse_users_totp (
    user_id    VARBINARY(255) NOT NULL,
    secret     VARBINARY(255) NOT NULL,
    confirmed  BOOLEAN        NOT NULL DEFAULT FALSE,
    last_step  BIGINT         NOT NULL DEFAULT 0,
    created_at DATETIME(6)    NOT NULL,
    PRIMARY KEY (user_id),
    CONSTRAINT gatehouse_users_totp_user_id_fk FOREIGN KEY (user_id)
        REFERENCES gatehouse_users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE IF NOT EXISTS gatehouse_users_recovery_codes (
    user_id   VARBINARY(255) NOT NULL,
    code_hash VARBINARY(255) NOT NULL,
    PRIMARY KEY (user_id, code_hash),
    CONSTRAINT gatehouse_users_recovery_codes_user_id_fk FOREIGN KEY (user_id)
        REFERENCES gatehouse_users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE IF NOT EXISTS gatehouse_users_passkeys (
    id              VARBINARY(255)  NOT NULL,
    user_id         VARBINARY(255)  NOT NULL,
    credential_id   VARBINARY(1023) NOT NULL,
    user_handle     VARBINARY(64)   NOT NULL,
    public_key      BLOB            NOT NULL,
    name            VARBINARY(1020) NOT NULL DEFAULT '',
    sign_count      BIGINT          NOT NULL DEFAULT 0,
    backup_eligible BOOLEAN         NOT NULL DEFAULT FALSE,
    backup_state    BOOLEAN         NOT NULL DEFAULT FALSE,
    aaguid          VARBINARY(16)   NOT NULL DEFAULT '',
    transports      VARBINARY(255)  NOT NULL DEFAULT '',
    created_at      DATETIME(6)     NOT NULL,
    last_used_at    DATETIME(6)     NOT NULL,
    PRIMARY KEY (id),
    UNIQUE KEY gatehouse_users_passkeys_credential_id_key (credential_id),
    KEY gatehouse_users_passkeys_user_id_idx (user_id),
    CONSTRAINT gatehouse_users_passkeys_user_id_fk FOREIGN KEY (user_id)
        REFERENCES gatehouse_users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE IF NOT EXISTS gatehouse_users_nonces (
    id         VARBINARY(255) NOT NULL,
    expires_at DATETIME(6)    NOT NULL,
    PRIMARY KEY (id),
    KEY gatehouse_users_nonces_expires_at_idx (expires_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
