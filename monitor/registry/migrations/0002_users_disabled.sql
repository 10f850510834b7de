-- A person an admin disabled (epoch ms); null = active. Mirrors the embedded users table.
ALTER TABLE users ADD COLUMN disabled_at BIGINT;
