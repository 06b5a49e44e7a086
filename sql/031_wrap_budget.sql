-- The GCM budget in the database (issue #15): every wrap under a KEK is counted by the
-- database itself, whoever makes it (kek or an application inserting its own DEKs), and a
-- wrap past the limit is refused by the database, with one limit for every process.
--
-- NIST SP 800-38D 8.3: at most 2^32 encryptions with random 96-bit nonces under one key.

-- One row: the limit every process enforces and shows (`kek status`, `kek keys wrap-limit`).
CREATE TABLE kek_settings (
    singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    wrap_limit bigint NOT NULL DEFAULT 1073741824 CHECK (wrap_limit BETWEEN 1 AND 4294967296)
);
INSERT INTO kek_settings DEFAULT VALUES;

-- Wraps counted since this migration. A KEK's count is keks.wrap_count (what was counted
-- before) plus the sum of its rows here. A transaction adds its wraps to any row of the KEK
-- that no other transaction holds (FOR UPDATE SKIP LOCKED), or appends a row when all are
-- held: concurrent inserts under the same (active) KEK never wait for each other, and the
-- table grows only to the highest number of transactions that ever wrapped at once.
-- Only the owner writes here (through the SECURITY DEFINER functions below): no role an
-- application or the worker logs in with can lower a count.
CREATE TABLE kek_wrap_counters (
    id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kek_id integer NOT NULL REFERENCES keks (id),
    wraps  bigint NOT NULL CHECK (wraps >= 0)
);
CREATE INDEX kek_wrap_counters_kek_id ON kek_wrap_counters (kek_id);

-- Every wrap made under KEK p_kek so far (committed, plus this transaction's own).
CREATE FUNCTION kek_wraps(p_kek integer) RETURNS bigint LANGUAGE sql STABLE AS $$
    SELECT coalesce((SELECT wrap_count FROM keks WHERE id = p_kek), 0)
         + coalesce((SELECT sum(wraps) FROM kek_wrap_counters WHERE kek_id = p_kek), 0)::bigint
$$;

-- Adds p_wraps to KEK p_kek's count, refusing when it would pass the limit. Two
-- transactions that wrap at the same moment each see the other's wraps only once it commits,
-- so the limit can be passed by at most the wraps in flight: keep it well below 2^32.
-- Runs as the owner (the only writer of kek_wrap_counters); callable only from the triggers.
CREATE FUNCTION kek_add_wraps(p_kek integer, p_wraps bigint) RETURNS void LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
    wrap_limit_now bigint;
    made bigint;
BEGIN
    SELECT wrap_limit INTO wrap_limit_now FROM kek_settings;
    made := kek_wraps(p_kek);
    IF made + p_wraps > wrap_limit_now THEN
        RAISE EXCEPTION 'KEK % has made % wraps and this statement adds %: the wrap limit is % (NIST SP 800-38D 8.3)',
            p_kek, made, p_wraps, wrap_limit_now
            USING ERRCODE = 'program_limit_exceeded',
                  HINT = 'rotate to a new KEK (kek rotate); the limit is kek_settings.wrap_limit (kek keys wrap-limit)';
    END IF;
    UPDATE kek_wrap_counters SET wraps = wraps + p_wraps
     WHERE id = (SELECT id FROM kek_wrap_counters WHERE kek_id = p_kek LIMIT 1 FOR UPDATE SKIP LOCKED);
    IF NOT FOUND THEN
        INSERT INTO kek_wrap_counters (kek_id, wraps) VALUES (p_kek, p_wraps);
    END IF;
END
$$;

-- Every inserted DEK is one wrap under its KEK.
CREATE FUNCTION kek_count_inserted_wraps() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
    PERFORM kek_add_wraps(kek_id, count(*)) FROM wrapped_new GROUP BY kek_id;
    RETURN NULL;
END
$$;

-- Every updated DEK whose wrapped_key changed (a rewrap) is one wrap under its new KEK.
CREATE FUNCTION kek_count_rewrapped_wraps() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
    PERFORM kek_add_wraps(n.kek_id, count(*)) FROM wrapped_new n JOIN wrapped_old o USING (id)
     WHERE n.wrapped_key IS DISTINCT FROM o.wrapped_key GROUP BY n.kek_id;
    RETURN NULL;
END
$$;

DO $$
BEGIN
    EXECUTE format('ALTER FUNCTION kek_add_wraps(integer, bigint) SET search_path = %I, pg_temp', current_schema());
    EXECUTE format('ALTER FUNCTION kek_count_inserted_wraps() SET search_path = %I, pg_temp', current_schema());
    EXECUTE format('ALTER FUNCTION kek_count_rewrapped_wraps() SET search_path = %I, pg_temp', current_schema());
END
$$;
REVOKE ALL ON FUNCTION kek_add_wraps(integer, bigint) FROM PUBLIC;

CREATE TRIGGER data_keys_count_inserted_wraps
    AFTER INSERT ON data_keys REFERENCING NEW TABLE AS wrapped_new
    FOR EACH STATEMENT EXECUTE FUNCTION kek_count_inserted_wraps();
CREATE TRIGGER data_keys_count_rewrapped_wraps
    AFTER UPDATE ON data_keys REFERENCING OLD TABLE AS wrapped_old NEW TABLE AS wrapped_new
    FOR EACH STATEMENT EXECUTE FUNCTION kek_count_rewrapped_wraps();

-- Reading counts and the limit is harmless; changing the limit is for the owner and the worker
-- (kek keys wrap-limit). Nobody but the owner writes the counters.
GRANT SELECT ON kek_settings, kek_wrap_counters TO kek_worker, kek_app;
GRANT UPDATE (wrap_limit) ON kek_settings TO kek_worker;
