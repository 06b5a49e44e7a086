-- One definition of a job's progress (issue #15): state, done/total, rate over a recent
-- window and ETA are computed here, in the database, for `kek status`, `kek jobs list|show`,
-- `kek rotate --wait`, /status and /metrics alike, so that no two of them can disagree.

-- Errors of earlier attempts, oldest first: a job that later completed keeps its history
-- here while last_error shows only what is current.
ALTER TABLE jobs ADD COLUMN attempt_errors jsonb NOT NULL DEFAULT '[]'
    CHECK (jsonb_typeof(attempt_errors) = 'array');

-- Progress of a job family (a top-level job and its parts) over the last two minutes, one
-- sample per checkpoint of any member: what "rows per second over the last 10 s" is read from.
CREATE TABLE job_progress_samples (
    job_id bigint NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    at     timestamptz NOT NULL,
    done   bigint NOT NULL
);
CREATE INDEX job_progress_samples_job_at ON job_progress_samples (job_id, at);

-- A family's units done: the job's own progress or its parts' summed, whichever is higher
-- (a rotation records its parts' sum, then its sweep on top of it).
CREATE FUNCTION kek_job_done(p_job bigint) RETURNS bigint LANGUAGE sql STABLE AS $$
    SELECT greatest((SELECT progress_done FROM jobs WHERE id = p_job),
                    coalesce((SELECT sum(progress_done) FROM jobs WHERE parent_id = p_job), 0))::bigint
$$;

-- Samples the family of p_job (its parent, or itself) and forgets samples over two minutes old.
-- Called with every checkpoint, in its transaction.
CREATE FUNCTION kek_job_sample(p_job bigint) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    family bigint;
BEGIN
    SELECT coalesce(parent_id, id) INTO family FROM jobs WHERE id = p_job;
    INSERT INTO job_progress_samples (job_id, at, done) VALUES (family, clock_timestamp(), kek_job_done(family));
    DELETE FROM job_progress_samples WHERE job_id = family AND at < clock_timestamp() - interval '120 seconds';
END
$$;

-- The progress of each job in p_ids at this moment:
--   state  the job's state, except that a parent waiting (queued) for parts that are running
--          or queued is 'running';
--   done   kek_job_done;
--   rate   while active: units per second since the oldest sample of the last p_window
--          seconds (or the newest sample before it); 0 while paused; once finished: done over
--          the time from first claim to the end;
--   eta    (total - done) / rate while active and moving.
CREATE FUNCTION kek_job_progress(p_ids bigint[], p_window double precision)
RETURNS TABLE (job_id bigint, state text, done bigint, total bigint, rate double precision, eta_seconds double precision)
LANGUAGE sql STABLE AS $$
    WITH base AS (
        SELECT j.id, j.state, j.progress_total, j.started_at, j.finished_at, kek_job_done(j.id) AS done,
               EXISTS (SELECT 1 FROM jobs c WHERE c.parent_id = j.id AND c.state IN ('running', 'queued')) AS parts_active,
               clock_timestamp() AS now
          FROM jobs j WHERE j.id = ANY (p_ids)
    ), measured AS (
        SELECT b.*,
               CASE WHEN b.state = 'queued' AND b.parts_active AND b.started_at IS NOT NULL THEN 'running' ELSE b.state END AS shown,
               coalesce(
                   (SELECT s FROM job_progress_samples s WHERE s.job_id = b.id AND s.at >= b.now - make_interval(secs => p_window)
                     ORDER BY s.at LIMIT 1),
                   (SELECT s FROM job_progress_samples s WHERE s.job_id = b.id ORDER BY s.at DESC LIMIT 1)) AS baseline
          FROM base b
    ), rated AS (
        SELECT m.id, m.shown, m.done, m.progress_total,
               CASE
                   WHEN m.shown IN ('completed', 'failed', 'cancelled') THEN
                       CASE WHEN m.finished_at > m.started_at
                            THEN m.done / extract(epoch FROM m.finished_at - m.started_at)::float8 END
                   WHEN m.shown = 'paused' THEN 0::float8
                   WHEN (m.baseline).at IS NOT NULL AND m.now - (m.baseline).at >= interval '1 second' THEN
                       greatest(m.done - (m.baseline).done, 0) / extract(epoch FROM m.now - (m.baseline).at)::float8
               END AS rate
          FROM measured m
    )
    SELECT r.id, r.shown, r.done, r.progress_total, r.rate,
           CASE WHEN r.shown IN ('queued', 'running') AND r.rate > 0 AND r.progress_total IS NOT NULL
                THEN greatest(r.progress_total - r.done, 0) / r.rate END
      FROM rated r
$$;

GRANT SELECT, INSERT, DELETE ON job_progress_samples TO kek_worker;
