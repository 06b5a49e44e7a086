-- The job runner's claim as a server-side function (follows 002_jobs.sql; kept out of it
-- because 002 had already been merged and applied).

-- Claim the next runnable job, in one statement. Two candidates, each FOR UPDATE SKIP LOCKED:
-- the first due queued job (from jobs_runnable), and the running job whose lease expired longest
-- ago (its worker died or froze). The better one by priority and due time gets a fresh lease
-- token, so anything its previous owner writes later is refused. No leader, no rescuer: every
-- worker runs this. A plpgsql function so that the server caches the plan (planning the
-- statement costs more than running it).
CREATE FUNCTION kek_claim_job(p_worker text, p_kinds text[], p_lease_seconds double precision)
RETURNS SETOF jobs LANGUAGE plpgsql AS $$
BEGIN
    RETURN QUERY
    WITH queued AS (
        SELECT id, priority, run_at AS due FROM jobs
         WHERE state = 'queued' AND run_at <= now() AND kind = ANY (p_kinds)
         ORDER BY priority, run_at, id
         LIMIT 1 FOR UPDATE SKIP LOCKED
    ), expired AS (
        SELECT id, priority, lease_expires_at AS due FROM jobs
         WHERE state = 'running' AND lease_expires_at < now() AND kind = ANY (p_kinds)
         ORDER BY lease_expires_at, id
         LIMIT 1 FOR UPDATE SKIP LOCKED
    ), chosen AS (
        SELECT c.id FROM (SELECT * FROM queued UNION ALL SELECT * FROM expired) c
         ORDER BY c.priority, c.due, c.id LIMIT 1
    )
    UPDATE jobs SET
        state = 'running',
        attempt = jobs.attempt + 1,
        lease_token = gen_random_uuid(),
        lease_owner = p_worker,
        lease_expires_at = clock_timestamp() + make_interval(secs => p_lease_seconds),
        attempted_at = now(),
        started_at = coalesce(jobs.started_at, now()),
        checkpointed_at = NULL,
        updated_at = now()
      FROM chosen
     WHERE jobs.id = chosen.id
    RETURNING jobs.*;
END
$$;
