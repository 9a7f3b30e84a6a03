-- +goose Up
-- Gatehouse API keys, version 8 (SQLite): personal access tokens. Only a
-- keyed hash of each key is kept, never the key. revoked_at is NULL while
-- the key is live; expires_at and last_used_at are NULL for never. scopes
-- holds the sorted names joined by commas. DeleteUser removes the keys
-- itself, whether or not foreign keys are on.
CREATE TABLE IF NOT EXISTS gatehouse_users_api_keys (
    id            TEXT    NOT NULL PRIMARY KEY,
    user_id       TEXT    NOT NULL,
    name          TEXT    NOT NULL,
    hash          TEXT    NOT NULL UNIQUE,
    scopes        TEXT    NOT NULL DEFAULT '',
    token_version INTEGER NOT NULL,
    created_at    TEXT    NOT NULL,
    expires_at    TEXT,
    last_used_at  TEXT,
    revoked_at    TEXT,
    CONSTRAINT gatehouse_users_api_keys_user_id_fk FOREIGN KEY (user_id)
        REFERENCES gatehouse_users (id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS gatehouse_users_api_keys_user_id_idx ON gatehouse_users_api_keys (user_id);

-- +goose Down
DROP TABLE IF EXISTS gatehouse_users_api_keys;
