-- +goose Up
-- Gatehouse API keys, version 8 (PostgreSQL): personal access tokens. Only
-- a keyed hash of each key is kept, never the key. revoked_at is NULL
-- while the key is live; expires_at and last_used_at are NULL for never.
-- scopes holds the sorted names joined by commas.
CREATE TABLE IF NOT EXISTS gatehouse_users_api_keys (
    id            TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    user_id       TEXT COLLATE "C" NOT NULL,
    name          TEXT             NOT NULL,
    hash          TEXT COLLATE "C" NOT NULL,
    scopes        TEXT             NOT NULL DEFAULT '',
    token_version BIGINT           NOT NULL,
    created_at    TIMESTAMPTZ      NOT NULL,
    expires_at    TIMESTAMPTZ,
    last_used_at  TIMESTAMPTZ,
    revoked_at    TIMESTAMPTZ,
    CONSTRAINT gatehouse_users_api_keys_hash_key UNIQUE (hash),
    CONSTRAINT gatehouse_users_api_keys_user_id_fk FOREIGN KEY (user_id)
        REFERENCES gatehouse_users (id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS gatehouse_users_api_keys_user_id_idx ON gatehouse_users_api_keys (user_id);

-- +goose Down
DROP TABLE IF EXISTS gatehouse_users_api_keys;
