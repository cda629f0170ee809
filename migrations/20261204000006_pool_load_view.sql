-- Each pool's load in one place: jobs due and waiting for a slot, jobs running, and how long
-- the oldest waiting job has waited. The autoscaler, the pools page, /metrics and the KEDA
-- triggers under deploy/keda all read this view, so they always agree on the numbers.
CREATE VIEW factory_pool_load AS
SELECT s.pool,
       coalesce(w.waiting, 0) AS waiting,
       (SELECT count(*) FROM jobs j WHERE j.pool = s.pool AND j.status = 'running') AS running,
       w.oldest_wait_ms
FROM pool_settings s
LEFT JOIN LATERAL (
    SELECT count(*) AS waiting,
           (extract(epoch FROM now() - min(q.run_at)) * 1000)::bigint AS oldest_wait_ms
    FROM apalis.jobs q
    WHERE q.job_type = 'factory-' || s.pool
      AND q.run_at <= now()
      AND (q.status = 'Pending' OR (q.status = 'Failed' AND q.attempts < q.max_attempts))
) w ON true;

-- Runs by status for /metrics, counted from the index alone.
CREATE INDEX runs_status_idx ON runs (status);
