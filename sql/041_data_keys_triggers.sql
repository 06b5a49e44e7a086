-- The DEK triggers of 001 again, now run with the owner's rights and a pinned search_path
-- (this schema, pg_temp last): a temporary table named keks can no longer stand in for the
-- real one, and an application needs no lock privilege on keks for the FOR KEY SHARE that
-- makes a retirement wait for its in-flight DEK inserts.

CREATE OR REPLACE FUNCTION data_keys_require_active_kek() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
    offender record;
BEGIN
    PERFORM 1 FROM keks WHERE id IN (SELECT DISTINCT kek_id FROM written) FOR KEY SHARE;
    SELECT w.id, w.kek_id, coalesce(k.state, 'missing') AS state INTO offender
    FROM written w LEFT JOIN keks k ON k.id = w.kek_id
    WHERE k.state IS DISTINCT FROM 'active' LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'DEK % must be wrapped under the active KEK; KEK % is %',
            offender.id, offender.kek_id, offender.state
            USING ERRCODE = 'check_violation',
                  HINT = 'reload the active KEK (SELECT id FROM keks WHERE state = ''active'') and wrap again';
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION data_keys_require_active_kek_on_move() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
    PERFORM 1 FROM keks WHERE id IN (SELECT DISTINCT n.kek_id FROM moved_new n JOIN moved_old o USING (id)
                                     WHERE n.kek_id <> o.kek_id) FOR KEY SHARE;
    IF EXISTS (SELECT 1 FROM moved_new n JOIN moved_old o USING (id) LEFT JOIN keks k ON k.id = n.kek_id
               WHERE n.kek_id <> o.kek_id AND k.state IS DISTINCT FROM 'active') THEN
        RAISE EXCEPTION 'a DEK can only be moved to the active KEK'
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END
$$;

-- Counting GCM wraps without UPDATE on keks: adds p_count (1..1e6) to the KEK's counter unless
-- that passes p_limit; returns the new count, or NULL when refused. (#15 moves the counting of
-- application-inserted DEKs into the database; this keeps kek's own counting working for
-- roles that may not update keks.)
CREATE FUNCTION kek_record_wraps(p_kek integer, p_count bigint, p_limit bigint) RETURNS bigint
LANGUAGE sql SECURITY DEFINER AS $$
    UPDATE keks SET wrap_count = wrap_count + p_count
     WHERE id = p_kek AND p_count BETWEEN 1 AND 1000000 AND wrap_count + p_count <= p_limit
    RETURNING wrap_count
$$;

DO $$
BEGIN
    EXECUTE format('ALTER FUNCTION data_keys_require_active_kek() SET search_path = %I, pg_temp', current_schema());
    EXECUTE format('ALTER FUNCTION data_keys_require_active_kek_on_move() SET search_path = %I, pg_temp', current_schema());
    EXECUTE format('ALTER FUNCTION kek_record_wraps(integer, bigint, bigint) SET search_path = %I, pg_temp', current_schema());
END
$$;
REVOKE ALL ON FUNCTION kek_record_wraps(integer, bigint, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION kek_record_wraps(integer, bigint, bigint) TO kek_worker, kek_app;
