-- The DEK triggers of 001, unchanged in body, now run with the owner's rights and a pinned
-- search_path (this schema, pg_temp last; ALTER FUNCTION below): a temporary table named keks
-- can no longer stand in for the real one, and an application needs no lock privilege on keks
-- for the FOR KEY SHARE that makes a retirement wait for its in-flight DEK inserts.

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

ALTER FUNCTION data_keys_require_active_kek() SECURITY DEFINER;
ALTER FUNCTION data_keys_require_active_kek_on_move() SECURITY DEFINER;
SELECT kek_pin_search_path('data_keys_require_active_kek()', 'data_keys_require_active_kek_on_move()',
                           'kek_record_wraps(integer, bigint, bigint)');
REVOKE ALL ON FUNCTION kek_record_wraps(integer, bigint, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION kek_record_wraps(integer, bigint, bigint) TO kek_worker, kek_app;
