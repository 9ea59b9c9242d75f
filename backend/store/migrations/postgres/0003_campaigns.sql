-- Training campaigns (issue 12), Postgres: a campaign's request and state, its rounds (the picks, then the
-- fit after them) and its jobs (one training run each, on the local queue or on Slurm). Everything a
-- driver needs to resume after a crash is here.
CREATE TABLE campaigns (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL,
    request TEXT NOT NULL,
    executor TEXT NOT NULL,
    status TEXT NOT NULL,
    stop_reason TEXT,
    created_ms BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL
);

CREATE TABLE campaign_rounds (
    id BIGSERIAL PRIMARY KEY,
    campaign_id BIGINT NOT NULL REFERENCES campaigns (id),
    round BIGINT NOT NULL,
    picks TEXT NOT NULL,
    status TEXT NOT NULL,
    summary TEXT,
    created_ms BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL,
    UNIQUE (campaign_id, round)
);

CREATE TABLE campaign_jobs (
    id BIGSERIAL PRIMARY KEY,
    campaign_id BIGINT NOT NULL REFERENCES campaigns (id),
    round BIGINT NOT NULL,
    candidate BIGINT NOT NULL,
    name TEXT NOT NULL,
    executor_ref TEXT,
    status TEXT NOT NULL,
    loss TEXT,
    error TEXT,
    created_ms BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL,
    UNIQUE (campaign_id, candidate)
);
CREATE INDEX campaign_jobs_campaign ON campaign_jobs (campaign_id, round, id);
