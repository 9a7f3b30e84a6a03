ALTER TABLE gatehouse_users
    DROP KEY gatehouse_users_disabled_username_idx,
    DROP COLUMN roles;
