-- +goose Up
-- Gatehouse audit trail, version 9 (MySQL 5.7+, MariaDB 10.3+):
-- append-only, pruned by age. IDs are UUIDv7, so their byte order is time
-- order. No foreign key: entries outlive the users they name. The indexes
-- are part of the one CREATE TABLE, which keeps the step idempotent.
CREATE TABLE IF NOT EXISTS gatehouse_users_audit (
    id          VARBINARY(255) NOT NULL,
    occurred_at DATETIME(6)    NOT NULL,
    action      VARBINARY(64)  NOT NULL,
    actor_id    VARBINARY(255) NOT NULL DEFAULT '',
    target_id   VARBINARY(255) NOT NULL DEFAULT '',
    ip          VARBINARY(255) NOT NULL DEFAULT '',
    detail      BLOB           NOT NULL,
    PRIMARY KEY (id),
    KEY gatehouse_users_audit_actor_idx (actor_id, id),
    KEY gatehouse_users_audit_target_idx (target_id, id),
    KEY gatehouse_users_audit_occurred_at_idx (occurred_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- +goose Down
DROP TABLE IF EXISTS gatehouse_users_audit;
