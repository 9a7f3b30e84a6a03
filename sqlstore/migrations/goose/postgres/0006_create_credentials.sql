-- +goose Up
-- Gatehouse second factors, version 6 (PostgreSQL): a TOTP secret per
-- user (sealed by the Authenticator, never in the clear), recovery-code
-- hashes, passkeys (WebAuthn credential records) and the spent one-time
-- tokens (mfa_tokens, passkey ceremonies). New tables only: existing rows
-- are untouched. Identifiers compare byte for byte ("C").
CREATE TABLE IF NOT EXISTS gatehouse_users_totp (
    user_id    TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    secret     BYTEA            NOT NULL,
    confirmed  BOOLEAN          NOT NULL DEFAULT FALSE,
    last_step  BIGINT           NOT NULL DEFAULT 0,
    created_at TIMESTAMPTZ      NOT NULL,
    CONSTRAINT gatehouse_users_totp_user_id_fk FOREIGN KEY (user_id)
        REFERENCES gatehouse_users (id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS gatehouse_users_recovery_codes (
    user_id   TEXT COLLATE "C" NOT NULL,
    code_hash TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (user_id, code_hash),
    CONSTRAINT gatehouse_users_recovery_codes_user_id_fk FOREIGN KEY (user_id)
        REFERENCES gatehouse_users (id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS gatehouse_users_passkeys (
    id              TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    user_id         TEXT COLLATE "C" NOT NULL,
    credential_id   BYTEA            NOT NULL,
    user_handle     BYTEA            NOT NULL,
    public_key      BYTEA            NOT NULL,
    name            TEXT             NOT NULL DEFAULT '',
    sign_count      BIGINT           NOT NULL DEFAULT 0,
    backup_eligible BOOLEAN          NOT NULL DEFAULT FALSE,
    backup_state    BOOLEAN          NOT NULL DEFAULT FALSE,
    aaguid          BYTEA            NOT NULL DEFAULT '\x',
    transports      TEXT             NOT NULL DEFAULT '',
    created_at      TIMESTAMPTZ      NOT NULL,
    last_used_at    TIMESTAMPTZ      NOT NULL,
    CONSTRAINT gatehouse_users_passkeys_credential_id_key UNIQUE (credential_id),
    CONSTRAINT gatehouse_users_passkeys_user_id_fk FOREIGN KEY (user_id)
        REFERENCES gatehouse_users (id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS gatehouse_users_passkeys_user_id_idx ON gatehouse_users_passkeys (user_id);
CREATE TABLE IF NOT EXISTS gatehouse_users_nonces (
    id         TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    expires_at TIMESTAMPTZ      NOT NULL
);
CREATE INDEX IF NOT EXISTS gatehouse_users_nonces_expires_at_idx ON gatehouse_users_nonces (expires_at);

-- +goose Down
DROP TABLE IF EXISTS gatehouse_users_nonces;
DROP TABLE IF EXISTS gatehouse_users_passkeys;
DROP TABLE IF EXISTS gatehouse_users_recovery_codes;
DROP TABLE IF EXISTS gatehouse_users_totp;
