-- Runs and their jobs (one job per step of the run type's pipeline), the jobs' log lines,
-- the files a run produced and its packaged artifact. Files and artifacts live here rather
-- than on a worker's disk so that any worker host can run the next step and any web
-- instance can serve the download. Every row a customer may see carries its tenant, so
-- customer queries filter on it directly.

CREATE TABLE runs (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    run_type text NOT NULL,
    params jsonb NOT NULL,
    status text NOT NULL
        CHECK (status IN ('rejected', 'queued', 'running', 'succeeded', 'failed', 'cancelled')),
    field_errors jsonb NOT NULL DEFAULT '{}'::jsonb,
    error text,
    cancel_requested boolean NOT NULL DEFAULT false,
    idempotency_key text,
    -- Expected duration of the run type when the run was submitted, for "within expected time".
    expected_duration_ms bigint NOT NULL,
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    started_at timestamptz,
    finished_at timestamptz,
    UNIQUE (tenant_id, idempotency_key)
);

-- The runs list: a tenant's runs newest first, keyset-paginated on (created_at, id).
CREATE INDEX runs_tenant_created_idx ON runs (tenant_id, created_at DESC, id DESC);
CREATE INDEX runs_created_idx ON runs (created_at DESC, id DESC);
-- The overview's 30-day window over finished runs.
CREATE INDEX runs_finished_idx ON runs (finished_at) WHERE finished_at IS NOT NULL;

CREATE TABLE jobs (
    id uuid PRIMARY KEY,
    run_id uuid NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    position integer NOT NULL,
    step text NOT NULL,
    pool text NOT NULL,
    status text NOT NULL
        CHECK (status IN ('waiting', 'queued', 'running', 'succeeded', 'failed', 'cancelled')),
    attempts integer NOT NULL DEFAULT 0,
    max_attempts integer NOT NULL CHECK (max_attempts >= 1),
    timeout_ms bigint NOT NULL,
    -- Set when an attempt starts; a completion must present it, so a worker that lost the
    -- job (after a crash or timeout re-enqueued it) cannot overwrite a newer attempt.
    lease uuid,
    queued_at timestamptz,
    started_at timestamptz,
    finished_at timestamptz,
    error text,
    UNIQUE (run_id, position)
);

CREATE INDEX jobs_pool_status_idx ON jobs (pool, status);

CREATE TABLE job_logs (
    id bigserial PRIMARY KEY,
    job_id uuid NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    run_id uuid NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    at timestamptz NOT NULL DEFAULT now(),
    level text NOT NULL,
    message text NOT NULL
);

CREATE INDEX job_logs_run_idx ON job_logs (run_id, id);

-- The workspace a run's steps pass along: generate writes it, verify and package read it.
CREATE TABLE run_files (
    run_id uuid NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    path text NOT NULL,
    content bytea NOT NULL,
    PRIMARY KEY (run_id, path)
);

CREATE TABLE artifacts (
    run_id uuid PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    file_name text NOT NULL,
    content bytea NOT NULL,
    sha256 text NOT NULL,
    size_bytes bigint NOT NULL,
    manifest jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
