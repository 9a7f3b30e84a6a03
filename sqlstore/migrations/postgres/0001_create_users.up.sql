-- Gatehouse users (PostgreSQL). The "C" collation makes ordering and
-- equality plain byte comparisons, whatever the database default is.
CREATE TABLE IF NOT EXISTS gatehouse_users (
    id            TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    username      TEXT COLLATE "C" NOT NULL UNIQUE,
    password_hash TEXT             NOT NULL,
    disabled      BOOLEAN          NOT NULL DEFAULT FALSE,
    token_version BIGINT           NOT NULL DEFAULT 0,
    created_at    TIMESTAMPTZ      NOT NULL,
    updated_at    TIMESTAMPTZ      NOT NULL
);
