-- Measurement agents, the jobs they claim, and calibrations fitted from stored measurements (Postgres).
CREATE TABLE agents (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    device TEXT NOT NULL,
    facts TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    last_seen_ms BIGINT NOT NULL
);

-- A job is claimed with a lease like a training run; an agent that dies lets the lease run out and
-- another claims the job. Results are stored once per job (measurements' idempotency keys).
CREATE TABLE measure_jobs (
    id BIGSERIAL PRIMARY KEY,
    device TEXT NOT NULL,
    spec TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    lease_owner TEXT,
    lease_until_ms BIGINT,
    measurement_ids TEXT,
    error TEXT,
    created_ms BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL
);
CREATE INDEX measure_jobs_status ON measure_jobs (status, device, id);

CREATE TABLE calibrations (
    id BIGSERIAL PRIMARY KEY,
    label TEXT NOT NULL,
    device TEXT,
    engine TEXT,
    precision_label TEXT,
    profile TEXT NOT NULL,
    created_ms BIGINT NOT NULL
);
