-- What a hostile review of sql/100 and sql/111 found, closed for every role:
--
-- 1. A DEK's id never changes. The move check (110) and the wrap counter (031) pair a
--    statement's old and new rows by id; an UPDATE that changed id and kek_id together
--    (`SET id = id + 1e12, kek_id = 4242`, or through ON CONFLICT DO UPDATE / MERGE) paired
--    nothing and moved a DEK under a missing or non-active KEK, which the foreign key used to
--    refuse before 111 dropped it. A column trigger fires only for statements that name `id`
--    in their SET list, so a rotation's batch (kek_id, wrapped_key) pays nothing for it.
-- 2. DEK ids are positive. Rotation parts, the sweep, re-encryption and verification walk ids
--    upward from 0; a DEK an application inserted with id <= 0 was never moved, and its KEK
--    could then never be retired (KK003 on every later rotation).
-- 3. No role may build a trigger on a trigger function of kek's. The count and audit trigger
--    functions run with the owner's rights (SECURITY DEFINER); EXECUTE is what CREATE TRIGGER
--    checks (firing does not), and PUBLIC had it, so any login could attach one to a temporary
--    table of its own and append forged deltas or zero every count.
-- 4. Folding is excluded by a row only the owner can lock, not by an advisory lock key that
--    any login could hold forever to stop every fold without an error.

CREATE FUNCTION kek_refuse_dek_id_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'a DEK''s id never changes (DEK %)', OLD.id
        USING ERRCODE = 'KK009', HINT = 'store a new DEK instead (kek secrets put), and delete the old one';
END
$$;
CREATE TRIGGER data_keys_id_is_fixed BEFORE UPDATE OF id ON data_keys
    FOR EACH ROW WHEN (NEW.id IS DISTINCT FROM OLD.id) EXECUTE FUNCTION kek_refuse_dek_id_change();
SELECT kek_pin_search_path('kek_refuse_dek_id_change()');

ALTER TABLE data_keys ADD CONSTRAINT data_keys_id_positive CHECK (id > 0);

DO $$
DECLARE
    f regprocedure;
BEGIN
    FOR f IN SELECT p.oid::regprocedure FROM pg_proc p
              WHERE p.prorettype = 'trigger'::regtype AND p.proowner = (SELECT oid FROM pg_roles WHERE rolname = current_user)
                AND p.pronamespace = (SELECT relnamespace FROM pg_class WHERE oid = 'data_keys'::regclass) LOOP
        EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC, kek_worker, kek_app', f);
    END LOOP;
END
$$;

-- One row; nobody but the owner may lock it (FOR UPDATE needs UPDATE, granted to no role).
CREATE TABLE kek_dek_count_folder (only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row));
INSERT INTO kek_dek_count_folder DEFAULT VALUES;

CREATE OR REPLACE FUNCTION kek_fold_dek_counts(p_limit integer DEFAULT 100000) RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
    folded bigint;
BEGIN
    PERFORM 1 FROM kek_dek_count_folder FOR UPDATE SKIP LOCKED;
    IF NOT FOUND THEN
        RETURN 0;
    END IF;
    WITH taken AS (
        DELETE FROM kek_dek_count_deltas
         WHERE id IN (SELECT id FROM kek_dek_count_deltas ORDER BY id LIMIT greatest(p_limit, 1) FOR UPDATE SKIP LOCKED)
        RETURNING kek_id, deks),
    sums AS (SELECT kek_id, sum(deks)::bigint AS deks, count(*) AS n FROM taken GROUP BY kek_id),
    applied AS (
        INSERT INTO kek_dek_counts AS c (kek_id, deks) SELECT kek_id, deks FROM sums
        ON CONFLICT (kek_id) DO UPDATE SET deks = c.deks + EXCLUDED.deks, folded_at = now()
        RETURNING c.kek_id)
    SELECT coalesce(sum(n), 0)::bigint INTO folded FROM sums;
    RETURN folded;
END
$$;
SELECT kek_pin_search_path('kek_fold_dek_counts(integer)');
