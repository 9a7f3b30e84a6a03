-- Gatehouse sessions (SQLite): one row per login, a family of refresh
-- tokens. Only token identifiers are kept, never a token. revoked_at is NULL
-- while the session is live. Times are UTC text as in gatehouse_users. The
-- foreign key is enforced only on connections with foreign_keys on (as
-- sqlstore.SQLiteDSN sets); DeleteUser removes the sessions itself either way.
CREATE TABLE IF NOT EXISTS gatehouse_sessions (
    id            TEXT    NOT NULL PRIMARY KEY,
    user_id       TEXT    NOT NULL,
    token_version INTEGER NOT NULL,
    current_jti   TEXT    NOT NULL,
    previous_jti  TEXT    NOT NULL DEFAULT '',
    created_at    TEXT    NOT NULL,
    expires_at    TEXT    NOT NULL,
    rotated_at    TEXT    NOT NULL,
    last_used_at  TEXT    NOT NULL,
    revoked_at    TEXT,
    user_agent    TEXT    NOT NULL DEFAULT '',
    ip            TEXT    NOT NULL DEFAULT '',
    CONSTRAINT gatehouse_sessions_user_id_fk FOREIGN KEY (user_id)
        REFERENCES gatehouse_users (id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS gatehouse_sessions_user_id_idx ON gatehouse_sessions (user_id);
CREATE INDEX IF NOT EXISTS gatehouse_sessions_expires_at_idx ON gatehouse_sessions (expires_at);
CREATE INDEX IF NOT EXISTS gatehouse_sessions_revoked_at_idx ON gatehouse_sessions (revoked_at);
