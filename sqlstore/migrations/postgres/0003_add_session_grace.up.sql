-- Gatehouse sessions, version 3 (PostgreSQL): the client that made the last
-- rotation, and how often the replaced refresh token was answered from the
-- grace window since then. Existing rows get '' and 0; a column with a
-- constant default is added without rewriting the table.
ALTER TABLE gatehouse_sessions
    ADD COLUMN IF NOT EXISTS rotated_user_agent TEXT    NOT NULL DEFAULT '',
    ADD COLUMN IF NOT EXISTS rotated_ip         TEXT    NOT NULL DEFAULT '',
    ADD COLUMN IF NOT EXISTS grace_uses         INTEGER NOT NULL DEFAULT 0;
