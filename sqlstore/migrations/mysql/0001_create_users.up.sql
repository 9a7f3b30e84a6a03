-- Gatehouse users (MySQL 5.7+, MariaDB 10.3+). VARBINARY compares byte for
-- byte, with no case or accent folding and no trailing-space padding, on both
-- servers. The username holds 255 characters of 4 bytes; its unique key fits
-- InnoDB's 3072-byte limit (DYNAMIC row format, the default). Times are
-- DATETIME(6) in UTC.
CREATE TABLE IF NOT EXISTS gatehouse_users (
    id            VARBINARY(255)  NOT NULL,
    username      VARBINARY(1020) NOT NULL,
    password_hash VARBINARY(1024) NOT NULL,
    disabled      BOOLEAN         NOT NULL DEFAULT FALSE,
    token_version BIGINT          NOT NULL DEFAULT 0,
    created_at    DATETIME(6)     NOT NULL,
    updated_at    DATETIME(6)     NOT NULL,
    PRIMARY KEY (id),
    UNIQUE KEY username (username)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
