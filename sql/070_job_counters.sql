-- Monotonic job counters for Prometheus (issue #20): jobs, failures, retries and progress per
-- kind that do not go down when finished jobs are pruned.
--
-- The live jobs table is counted as it is; when rows are deleted (the worker's --retention
-- prune, or an operator), one statement-level trigger adds what they contributed to
-- job_counter_archive in the same transaction. The view job_counters is live + archive, so a
-- prune moves counts from one side to the other and the sum never drops. Nothing is written
-- on the job hot path (claims, checkpoints): no shared counter row to contend on.

CREATE TABLE job_counter_archive (
    kind      text PRIMARY KEY,
    jobs      bigint NOT NULL DEFAULT 0,
    failed    bigint NOT NULL DEFAULT 0,
    retries   bigint NOT NULL DEFAULT 0,
    progress  bigint NOT NULL DEFAULT 0
);

-- Attempts of one job that ended in a retry (a failure with attempts left, or a lost lease).
-- A claim adds 1 to attempt and a snooze, pause or release takes it back, so a queued or
-- paused job has `attempt` attempts behind it that ended badly, and a running or finished job
-- `attempt - 1` (its current or last attempt is not a retry). Counted the same way live and
-- archived, this never goes down as a job moves between states.
CREATE FUNCTION kek_job_retries(state text, attempt integer) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT (CASE WHEN state IN ('queued', 'paused') THEN attempt ELSE greatest(attempt - 1, 0) END)::bigint
$$;

CREATE FUNCTION kek_archive_deleted_jobs() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO job_counter_archive AS a (kind, jobs, failed, retries, progress)
    SELECT kind, count(*), count(*) FILTER (WHERE state = 'failed'), sum(kek_job_retries(state, attempt)),
           sum(greatest(progress_done, 0))
      FROM deleted_jobs GROUP BY kind
    ON CONFLICT (kind) DO UPDATE SET jobs = a.jobs + EXCLUDED.jobs, failed = a.failed + EXCLUDED.failed,
                                     retries = a.retries + EXCLUDED.retries, progress = a.progress + EXCLUDED.progress;
    RETURN NULL;
END
$$;

CREATE TRIGGER jobs_archive_counters AFTER DELETE ON jobs
    REFERENCING OLD TABLE AS deleted_jobs FOR EACH STATEMENT EXECUTE FUNCTION kek_archive_deleted_jobs();

CREATE VIEW job_counters AS
SELECT kind, sum(jobs)::int8 AS jobs, sum(failed)::int8 AS failed, sum(retries)::int8 AS retries,
       sum(progress)::int8 AS progress
  FROM (SELECT kind, count(*) AS jobs, count(*) FILTER (WHERE state = 'failed') AS failed,
               sum(kek_job_retries(state, attempt)) AS retries, sum(greatest(progress_done, 0)) AS progress
          FROM jobs GROUP BY kind
        UNION ALL
        SELECT kind, jobs, failed, retries, progress FROM job_counter_archive) t
 GROUP BY kind;

-- The worker prunes (so its deletes archive) and its status server reads the view.
GRANT SELECT, INSERT, UPDATE ON job_counter_archive TO kek_worker;
GRANT SELECT ON job_counters TO kek_worker;
GRANT EXECUTE ON FUNCTION kek_job_retries(text, integer) TO kek_worker;
