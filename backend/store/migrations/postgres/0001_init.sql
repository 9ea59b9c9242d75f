-- rooflaw's first schema (Postgres). Times are Unix milliseconds; JSON documents are TEXT.
CREATE TABLE tokens (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    scopes TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    revoked_ms BIGINT
);

CREATE TABLE runs (
    id BIGSERIAL PRIMARY KEY,
    idempotency_key TEXT UNIQUE,
    token_id BIGINT,
    name TEXT NOT NULL,
    request TEXT NOT NULL,
    status TEXT NOT NULL,
    record TEXT,
    error TEXT,
    attempts BIGINT NOT NULL DEFAULT 0,
    lease_owner TEXT,
    lease_until_ms BIGINT,
    created_ms BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL
);
CREATE INDEX runs_status ON runs (status, id);

-- Every change a client may follow live: its id is the Server-Sent Events id (Last-Event-ID).
CREATE TABLE run_events (
    id BIGSERIAL PRIMARY KEY,
    run_id BIGINT NOT NULL,
    kind TEXT NOT NULL,
    data TEXT NOT NULL,
    created_ms BIGINT NOT NULL
);
CREATE INDEX run_events_run ON run_events (run_id, id);

CREATE TABLE fits (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL,
    run_ids TEXT NOT NULL,
    law TEXT NOT NULL,
    report TEXT NOT NULL,
    created_ms BIGINT NOT NULL
);

CREATE TABLE measurements (
    id BIGSERIAL PRIMARY KEY,
    idempotency_key TEXT UNIQUE,
    device TEXT NOT NULL,
    engine TEXT NOT NULL,
    row_json TEXT NOT NULL,
    created_ms BIGINT NOT NULL
);

CREATE TABLE devices (
    id TEXT PRIMARY KEY,
    device TEXT NOT NULL,
    created_ms BIGINT NOT NULL
);
