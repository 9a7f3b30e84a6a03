-- Gatehouse audit trail, version 9 (SQLite): append-only, pruned by age.
-- IDs are UUIDv7, so their byte order is time order. No foreign key:
-- entries outlive the users they name.
CREATE TABLE IF NOT EXISTS gatehouse_users_audit (
    id          TEXT NOT NULL PRIMARY KEY,
    occurred_at TEXT NOT NULL,
    action      TEXT NOT NULL,
    actor_id    TEXT NOT NULL DEFAULT '',
    target_id   TEXT NOT NULL DEFAULT '',
    ip          TEXT NOT NULL DEFAULT '',
    detail      TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS gatehouse_users_audit_actor_idx ON gatehouse_users_audit (actor_id, id);
CREATE INDEX IF NOT EXISTS gatehouse_users_audit_target_idx ON gatehouse_users_audit (target_id, id);
CREATE INDEX IF NOT EXISTS gatehouse_users_audit_occurred_at_idx ON gatehouse_users_audit (occurred_at);
