-- The registry in PostgreSQL: the same tables and columns as the embedded SQLite registry
-- (monitor/registry/schema.sql.ts), so a row is copied between the two as it is. Timestamps
-- are epoch ms; JSON columns hold text, as in SQLite.
CREATE TABLE customers (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  offline_after DOUBLE PRECISION,
  language TEXT NOT NULL DEFAULT 'en',
  channels TEXT NOT NULL DEFAULT '[]',
  created_at BIGINT NOT NULL,
  parent_id TEXT,
  communication_plan TEXT,
  rate_plan TEXT,
  alert_policy TEXT,
  diagnosis TEXT,
  contacts TEXT
);

CREATE TABLE devices (
  id TEXT PRIMARY KEY,
  customer_id TEXT NOT NULL REFERENCES customers(id),
  name TEXT,
  iccid TEXT UNIQUE,
  imsi TEXT,
  msisdn TEXT,
  interval DOUBLE PRECISION,
  offline_after DOUBLE PRECISION,
  species TEXT,
  sim_state TEXT NOT NULL DEFAULT 'activated',
  custom TEXT NOT NULL DEFAULT '{}',
  token_hash TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  imei TEXT,
  nickname TEXT,
  tag_model TEXT
);
CREATE INDEX devices_customer ON devices(customer_id, id);

CREATE TABLE api_keys (
  token_hash TEXT PRIMARY KEY,
  role TEXT NOT NULL,
  customer_id TEXT,
  created_at BIGINT NOT NULL,
  revoked_at BIGINT
);

CREATE TABLE users (
  id TEXT PRIMARY KEY,
  username TEXT NOT NULL,
  role TEXT NOT NULL,
  customer_id TEXT,
  name TEXT,
  email TEXT,
  password_hash TEXT,
  created_at BIGINT NOT NULL,
  external_id TEXT
);
-- One person per name regardless of case, as SQLite's COLLATE NOCASE.
CREATE UNIQUE INDEX users_username ON users(lower(username));
CREATE UNIQUE INDEX users_external ON users(external_id) WHERE external_id IS NOT NULL;

CREATE TABLE audit_log (
  id BIGSERIAL PRIMARY KEY,
  at BIGINT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  target TEXT NOT NULL,
  detail TEXT,
  by_user TEXT
);
CREATE INDEX audit_log_at ON audit_log(at);

-- The change feed: every committed write, as the rows it left, numbered in commit order
-- (writers hold one advisory lock, so a number is never seen after a larger one).
CREATE TABLE registry_changes (
  seq BIGINT PRIMARY KEY,
  at BIGINT NOT NULL,
  changes JSONB NOT NULL
);
