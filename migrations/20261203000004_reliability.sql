-- Reliability: probe samples of the control plane API and the rollups every reliability
-- number is read from, the exclusion ledger (maintenance and incidents), SLA plans and the
-- monthly reports. Rollups are updated as data arrives (a probe, a run ending, a job
-- starting, a batch of API timings), so pages read a few small rows instead of scanning
-- raw history. Latencies are kept as sparse histograms: `bucket` k counts values in the
-- k-th logarithmic bucket (see `server/src/reliability/histogram.rs`).

-- Singleton periodic work (the prober, sampling, pruning) holds a named lease that its
-- holder renews; another process takes it over once it has expired.
CREATE TABLE leases (
    name text PRIMARY KEY,
    holder text NOT NULL,
    acquired_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);

CREATE TABLE probe_samples (
    id bigserial PRIMARY KEY,
    at timestamptz NOT NULL,
    up boolean NOT NULL,
    latency_ms integer NOT NULL CHECK (latency_ms >= 0),
    error text,
    prober text NOT NULL
);

CREATE INDEX probe_samples_at_idx ON probe_samples (at);

-- One row per minute that has at least one sample. A minute is down when any probe in it
-- failed; a minute without a row has no data.
CREATE TABLE uptime_minutes (
    minute timestamptz PRIMARY KEY CHECK (minute = date_trunc('minute', minute)),
    probes integer NOT NULL CHECK (probes > 0),
    failures integer NOT NULL CHECK (failures >= 0)
);

-- Per UTC day: how many minutes were up and down (no data is the rest of the day).
CREATE TABLE uptime_days (
    day date PRIMARY KEY,
    up_minutes integer NOT NULL DEFAULT 0,
    down_minutes integer NOT NULL DEFAULT 0
);

-- Runs that ended succeeded or failed, per tenant, run type and hour of finishing. Rejected
-- and cancelled runs are not counted: they say nothing about the platform.
CREATE TABLE run_hourly (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    hour timestamptz NOT NULL CHECK (hour = date_trunc('hour', hour)),
    run_type text NOT NULL,
    succeeded integer NOT NULL DEFAULT 0,
    failed integer NOT NULL DEFAULT 0,
    -- Succeeded runs that took no longer than their run type's expected duration.
    within_expected integer NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, hour, run_type)
);

CREATE INDEX run_hourly_hour_idx ON run_hourly (hour);

-- The same counts per minute, for the short windows of burn-rate alerts; pruned after days.
CREATE TABLE run_minutely (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    minute timestamptz NOT NULL CHECK (minute = date_trunc('minute', minute)),
    succeeded integer NOT NULL DEFAULT 0,
    failed integer NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, minute)
);

CREATE INDEX run_minutely_minute_idx ON run_minutely (minute);

-- Durations of succeeded runs (submission to end).
CREATE TABLE run_duration_hourly (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    hour timestamptz NOT NULL,
    run_type text NOT NULL,
    bucket smallint NOT NULL,
    runs integer NOT NULL,
    PRIMARY KEY (tenant_id, hour, run_type, bucket)
);

CREATE INDEX run_duration_hourly_hour_idx ON run_duration_hourly (hour);

-- Job start latency: from queued to the first attempt's start, per pool.
CREATE TABLE job_start_hourly (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    hour timestamptz NOT NULL,
    pool text NOT NULL,
    bucket smallint NOT NULL,
    jobs integer NOT NULL,
    PRIMARY KEY (tenant_id, hour, pool, bucket)
);

CREATE INDEX job_start_hourly_hour_idx ON job_start_hourly (hour);

-- API response times per route, flushed from each process's middleware in batches.
CREATE TABLE api_latency_hourly (
    hour timestamptz NOT NULL,
    route text NOT NULL,
    bucket smallint NOT NULL,
    requests integer NOT NULL,
    PRIMARY KEY (hour, route, bucket)
);

-- Queue depth and running jobs per pool, sampled once a minute by one process.
CREATE TABLE queue_samples (
    minute timestamptz NOT NULL,
    pool text NOT NULL,
    waiting integer NOT NULL,
    running integer NOT NULL,
    PRIMARY KEY (minute, pool)
);

-- The exclusion ledger. Maintenance is planned and announced ahead; incidents are recorded
-- after the fact with who caused them. Platform incidents are recorded but exclude nothing;
-- customer-caused ones exclude minutes only for the tenants they name. Entries are never
-- deleted, only withdrawn, so an issued report's entries stay explainable.
CREATE TABLE exclusions (
    id uuid PRIMARY KEY,
    kind text NOT NULL CHECK (kind IN ('maintenance', 'incident')),
    classification text NOT NULL
        CHECK (classification IN ('planned', 'platform', 'customer_caused', 'force_majeure')),
    title text NOT NULL,
    reason text NOT NULL,
    starts_at timestamptz NOT NULL,
    ends_at timestamptz NOT NULL,
    -- Empty means every tenant.
    tenant_ids uuid[] NOT NULL DEFAULT '{}',
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_by text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz,
    CHECK (ends_at > starts_at),
    CHECK ((kind = 'maintenance') = (classification = 'planned')),
    CHECK (classification <> 'customer_caused' OR cardinality(tenant_ids) > 0)
);

CREATE INDEX exclusions_span_idx ON exclusions (starts_at, ends_at) WHERE deleted_at IS NULL;

CREATE TABLE exclusion_changes (
    id bigserial PRIMARY KEY,
    exclusion_id uuid NOT NULL REFERENCES exclusions (id),
    action text NOT NULL CHECK (action IN ('created', 'updated', 'deleted')),
    changed_by text NOT NULL,
    changed_at timestamptz NOT NULL DEFAULT now(),
    reason text NOT NULL,
    before jsonb,
    after jsonb
);

CREATE INDEX exclusion_changes_exclusion_idx ON exclusion_changes (exclusion_id, id);

-- A tenant's SLA terms. Percentages are in thousandths of a percent (99.9% = 99900), so
-- thresholds compare exactly; tiers are [{"below": 99900, "credit": 10000}, ...].
CREATE TABLE sla_plans (
    tenant_id uuid PRIMARY KEY REFERENCES tenants (id),
    monthly_fee_cents bigint NOT NULL CHECK (monthly_fee_cents >= 0),
    currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    uptime_target integer NOT NULL,
    success_target integer NOT NULL,
    execution_target integer NOT NULL,
    uptime_tiers jsonb NOT NULL,
    success_miss_credit integer NOT NULL,
    execution_miss_credit integer NOT NULL,
    credit_cap integer NOT NULL,
    updated_by text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Monthly reports, one row per revision. A draft is refreshed when viewed; a reviewed
-- report keeps the numbers that were reviewed; an issued one never changes (the trigger
-- below refuses it). Recomputing an issued report starts the next revision.
CREATE TABLE sla_reports (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    month date NOT NULL CHECK (extract(day FROM month) = 1),
    revision integer NOT NULL CHECK (revision >= 1),
    status text NOT NULL CHECK (status IN ('draft', 'reviewed', 'issued')),
    -- The whole report as shown (app::model::SlaReport without its revision list).
    snapshot jsonb NOT NULL,
    computed_at timestamptz NOT NULL,
    reviewed_by text,
    reviewed_at timestamptz,
    review_note text,
    issued_by text,
    issued_at timestamptz,
    issue_note text,
    UNIQUE (tenant_id, month, revision)
);

CREATE FUNCTION sla_reports_issued_are_immutable() RETURNS trigger AS $$
BEGIN
    IF OLD.status = 'issued' THEN
        RAISE EXCEPTION 'issued SLA report % revision % cannot change', OLD.id, OLD.revision;
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER sla_reports_immutable
    BEFORE UPDATE OR DELETE ON sla_reports
    FOR EACH ROW EXECUTE FUNCTION sla_reports_issued_are_immutable();
