-- Gatehouse sessions (PostgreSQL): one row per login, a family of refresh
-- tokens. Only token identifiers are kept, never a token. revoked_at is NULL
-- while the session is live. Identifiers compare byte for byte ("C").
CREATE TABLE IF NOT EXISTS gatehouse_sessions (
    id            TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    user_id       TEXT COLLATE "C" NOT NULL,
    token_version BIGINT           NOT NULL,
    current_jti   TEXT COLLATE "C" NOT NULL,
    previous_jti  TEXT COLLATE "C" NOT NULL DEFAULT '',
    created_at    TIMESTAMPTZ      NOT NULL,
    expires_at    TIMESTAMPTZ      NOT NULL,
    rotated_at    TIMESTAMPTZ      NOT NULL,
    last_used_at  TIMESTAMPTZ      NOT NULL,
    revoked_at    TIMESTAMPTZ,
    user_agent    TEXT             NOT NULL DEFAULT '',
    ip            TEXT             NOT NULL DEFAULT '',
    CONSTRAINT gatehouse_sessions_user_id_fk FOREIGN KEY (user_id)
        REFERENCES gatehouse_users (id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS gatehouse_sessions_user_id_idx ON gatehouse_sessions (user_id);
CREATE INDEX IF NOT EXISTS gatehouse_sessions_expires_at_idx ON gatehouse_sessions (expires_at);
CREATE INDEX IF NOT EXISTS gatehouse_sessions_revoked_at_idx ON gatehouse_sessions (revoked_at);
