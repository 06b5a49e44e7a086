-- Rate caps shared by every worker that runs a part of one job (issue #15).
--
-- A job family (a parent and its parts) under a `max_rate` cap shares one row: the time at
-- which the cap has paid for everything reserved so far (the "theoretical arrival time" of
-- GCRA, a token bucket whose burst is one batch). Each batch reserves its rows with one
-- short UPDATE before it runs and waits until its slot begins, so over any window the rows
-- of the whole family stay within rate * window + one batch, however many parts run.
CREATE TABLE job_throttles (
    job_id  bigint PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,
    paid_to timestamptz NOT NULL
);

-- Reserves p_units (negative: gives back what a batch reserved and did not use) at
-- p_rate units per second for the family of p_job; returns the seconds to wait before the
-- batch may start (0 when its slot has begun).
CREATE FUNCTION kek_throttle_reserve(p_job bigint, p_units double precision, p_rate double precision)
RETURNS double precision LANGUAGE plpgsql AS $$
DECLARE
    slot_start timestamptz;
BEGIN
    IF NOT (p_rate > 0 AND p_rate < 'infinity'::float8) THEN
        RAISE EXCEPTION 'a rate cap must be a positive finite number, got %', p_rate USING ERRCODE = 'invalid_parameter_value';
    END IF;
    INSERT INTO job_throttles AS t (job_id, paid_to) VALUES (p_job, clock_timestamp())
    ON CONFLICT (job_id) DO NOTHING;
    UPDATE job_throttles SET paid_to = CASE
            WHEN p_units >= 0 THEN greatest(paid_to, clock_timestamp()) + make_interval(secs => p_units / p_rate)
            ELSE greatest(paid_to + make_interval(secs => p_units / p_rate), clock_timestamp()) END
     WHERE job_id = p_job
    RETURNING paid_to - make_interval(secs => greatest(p_units, 0) / p_rate) INTO slot_start;
    RETURN greatest(extract(epoch FROM slot_start - clock_timestamp())::float8, 0);
END
$$;

GRANT SELECT, INSERT, UPDATE, DELETE ON job_throttles TO kek_worker;
GRANT EXECUTE ON FUNCTION kek_throttle_reserve(bigint, double precision, double precision) TO kek_worker;
