-- +goose Up
-- Gatehouse second factors, version 6 (SQLite): a TOTP secret per user
-- (sealed by the Authenticator, never in the clear), recovery-code hashes,
-- passkeys (WebAuthn credential records) and the spent one-time tokens
-- (mfa_tokens, passkey ceremonies). New tables only: existing rows are
-- untouched. Times are UTC text as in gatehouse_users. The foreign keys
-- are enforced only with foreign_keys on; DeleteUser removes the rows
-- itself either way.
CREATE TABLE IF NOT EXISTS gatehouse_users_totp (
    user_id    TEXT    NOT NULL PRIMARY KEY,
    secret     BLOB    NOT NULL,
    confirmed  INTEGER NOT NULL DEFAULT 0,
    last_step  INTEGER NOT NULL DEFAULT 0,
    created_at TEXT    NOT NULL,
    CONSTRAINT gatehouse_users_totp_user_id_fk FOREIGN KEY (user_id)
        REFERENCES gatehouse_users (id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS gatehouse_users_recovery_codes (
    user_id   TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    PRIMARY KEY (user_id, code_hash),
    CONSTRAINT gatehouse_users_recovery_codes_user_id_fk FOREIGN KEY (user_id)
        REFERENCES gatehouse_users (id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS gatehouse_users_passkeys (
    id              TEXT    NOT NULL PRIMARY KEY,
    user_id         TEXT    NOT NULL,
    credential_id   BLOB    NOT NULL,
    user_handle     BLOB    NOT NULL,
    public_key      BLOB    NOT NULL,
    name            TEXT    NOT NULL DEFAULT '',
    sign_count      INTEGER NOT NULL DEFAULT 0,
    backup_eligible INTEGER NOT NULL DEFAULT 0,
    backup_state    INTEGER NOT NULL DEFAULT 0,
    aaguid          BLOB    NOT NULL DEFAULT x'',
    transports      TEXT    NOT NULL DEFAULT '',
    created_at      TEXT    NOT NULL,
    last_used_at    TEXT    NOT NULL,
    CONSTRAINT gatehouse_users_passkeys_credential_id_key UNIQUE (credential_id),
    CONSTRAINT gatehouse_users_passkeys_user_id_fk FOREIGN KEY (user_id)
        REFERENCES gatehouse_users (id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS gatehouse_users_passkeys_user_id_idx ON gatehouse_users_passkeys (user_id);
CREATE TABLE IF NOT EXISTS gatehouse_users_nonces (
    id         TEXT NOT NULL PRIMARY KEY,
    expires_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS gatehouse_users_nonces_expires_at_idx ON gatehouse_users_nonces (expires_at);

-- +goose Down
DROP TABLE IF EXISTS gatehouse_users_nonces;
DROP TABLE IF EXISTS gatehouse_users_passkeys;
DROP TABLE IF EXISTS gatehouse_users_recovery_codes;
DROP TABLE IF EXISTS gatehouse_users_totp;
