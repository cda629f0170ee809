-- Worker pools that size themselves and survive failures.
--
-- A pool's `size` stays what every worker process follows (the total slots of the pool across
-- all processes); admins now bound it with `min_size`/`max_size`, pause the pool, and choose
-- whether the autoscaler applies its decisions or only records them (`dry_run`). Old code
-- still reads and writes `size` alone, so the new columns all have defaults.
ALTER TABLE pool_settings
    ADD COLUMN min_size integer NOT NULL DEFAULT 1 CHECK (min_size >= 0),
    ADD COLUMN max_size integer NOT NULL DEFAULT 8,
    ADD COLUMN paused boolean NOT NULL DEFAULT false,
    ADD COLUMN autoscale text NOT NULL DEFAULT 'on' CHECK (autoscale IN ('on', 'dry_run')),
    -- The autoscaler adds slots while the pool's P95 start latency is above this.
    ADD COLUMN target_start_ms integer NOT NULL DEFAULT 5000 CHECK (target_start_ms > 0),
    -- No two autoscaler changes of one pool closer together than this, so it cannot flap.
    ADD COLUMN cooldown_secs integer NOT NULL DEFAULT 60 CHECK (cooldown_secs >= 0),
    ADD COLUMN note text NOT NULL DEFAULT '',
    -- When the size last changed (by an admin or the autoscaler) or a dry-run decision was
    -- recorded; the autoscaler's cooldown counts from it.
    ADD COLUMN resized_at timestamptz NOT NULL DEFAULT now();

UPDATE pool_settings SET min_size = least(size, 1), max_size = greatest(size, 8);

ALTER TABLE pool_settings
    ADD CONSTRAINT pool_settings_bounds CHECK (min_size <= max_size),
    ADD CONSTRAINT pool_settings_size_in_bounds CHECK (size BETWEEN min_size AND max_size);

-- An admin's change records the whole settings row before and after, so any field's history
-- can be shown; `old_size`/`new_size` stay for the size column's own history.
ALTER TABLE pool_changes
    ADD COLUMN before jsonb,
    ADD COLUMN after jsonb;

-- Every autoscaler decision with its inputs, applied or (in dry-run) only recorded.
CREATE TABLE scaling_decisions (
    id bigserial PRIMARY KEY,
    pool text NOT NULL REFERENCES pool_settings (pool),
    decided_at timestamptz NOT NULL DEFAULT now(),
    old_size integer NOT NULL,
    new_size integer NOT NULL,
    applied boolean NOT NULL,
    waiting integer NOT NULL,
    running integer NOT NULL,
    oldest_wait_ms bigint,
    p95_start_ms double precision,
    reason text NOT NULL
);

CREATE INDEX scaling_decisions_pool_idx ON scaling_decisions (pool, id DESC);

-- One row per worker process and pool it serves. Each process writes its own rows on every
-- heartbeat; the live, non-draining rows of a pool decide how its size is shared out, and
-- the pools page lists them. Rows of processes gone for a day are pruned.
CREATE TABLE pool_workers (
    process_id uuid NOT NULL,
    pool text NOT NULL REFERENCES pool_settings (pool),
    host text NOT NULL,
    pid integer NOT NULL,
    version text NOT NULL,
    slots integer NOT NULL DEFAULT 0,
    running integer NOT NULL DEFAULT 0,
    jobs_done bigint NOT NULL DEFAULT 0,
    started_at timestamptz NOT NULL DEFAULT now(),
    heartbeat_at timestamptz NOT NULL DEFAULT now(),
    draining boolean NOT NULL DEFAULT false,
    stopped_at timestamptz,
    PRIMARY KEY (process_id, pool)
);

CREATE INDEX pool_workers_pool_idx ON pool_workers (pool, heartbeat_at DESC);

-- The process running a job's current attempt, and when that process last vouched for it.
-- A running job whose heartbeat is older than the orphan timeout has lost its worker
-- (killed, partitioned, or cut off from the database) and is taken back by orphan recovery.
-- `task_id` names the queue row that should deliver a queued job, so one whose row is gone
-- (killed after repeated crashes, say) can be found and queued again.
ALTER TABLE jobs
    ADD COLUMN worker_id uuid,
    ADD COLUMN heartbeat_at timestamptz,
    ADD COLUMN task_id text;

CREATE INDEX jobs_running_heartbeat_idx ON jobs (heartbeat_at) WHERE status = 'running';
CREATE INDEX jobs_queued_idx ON jobs (queued_at) WHERE status = 'queued';

-- Every attempt of a job and how it ended, so retries, timeouts and lost workers stay
-- visible after the job has moved on, and so "no step completed twice" can be checked.
-- `accepted` is false for a completion refused because the attempt had lost its lease.
CREATE TABLE job_attempts (
    lease uuid PRIMARY KEY,
    job_id uuid NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    attempt integer NOT NULL,
    worker_id uuid,
    started_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    outcome text CHECK (outcome IN
        ('succeeded', 'failed', 'retried', 'timed_out', 'lost', 'handed_back', 'cancelled')),
    error text,
    accepted boolean
);

CREATE INDEX job_attempts_job_idx ON job_attempts (job_id, started_at);
CREATE INDEX job_attempts_started_idx ON job_attempts (started_at);

-- Start latency per pool and minute, for the pools page's last 15 minutes and its charts;
-- kept a few days (the hourly per-tenant rollup keeps the long history).
CREATE TABLE job_start_minutely (
    minute timestamptz NOT NULL,
    pool text NOT NULL,
    bucket smallint NOT NULL,
    jobs integer NOT NULL,
    PRIMARY KEY (minute, pool, bucket)
);

-- Job logs are pruned by age.
CREATE INDEX job_logs_at_idx ON job_logs (at);
