-- data_keys.kek_id's foreign key checked every inserted or moved row on its own (a KEY SHARE
-- lookup of keks per row: 10-15 us of a rotation's ~30 us of server time per moved row,
-- pg_stat_statements, 200k DEKs in 2,000-row batches; issue #19). The same guarantee, that
-- no DEK names a KEK that does not exist, is already given once per statement, for every
-- role, by the triggers on both tables:
--   - INSERT (and COPY, INSERT ... ON CONFLICT, MERGE ... INSERT) into data_keys: 001/041's
--     data_keys_require_active_kek locks the distinct KEKs named FOR KEY SHARE and refuses
--     any that is not active (a missing one is "missing"); 031's wrap counter refuses too;
--   - UPDATE (and ON CONFLICT DO UPDATE, MERGE ... UPDATE) moving kek_id: 110's
--     data_keys_require_active_kek_on_move refuses a move to any KEK that is not active;
--   - DELETE of a KEK and a change of its id: refused by keks_enforce_lifecycle (040, KK001,
--     KK002); retirement and destruction need zero DEKs (KK003);
--   - TRUNCATE keks: refused below (before, the foreign key refused it, or with CASCADE it
--     emptied data_keys and every table referencing it: now refused either way).
-- What turns these off turned the foreign key off too: session_replication_role = replica
-- (a superuser's), and the owner's ALTER TABLE (it could drop the constraint as it can
-- disable a trigger).
-- DEKOrphanTests tries every way to orphan a DEK as kek_app, kek_worker and the owner.
ALTER TABLE data_keys DROP CONSTRAINT data_keys_kek_id_fkey;

CREATE FUNCTION keks_refuse_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'keks cannot be truncated: keks rows are kept for the record and DEKs name them (rule: no DELETE on keks)'
        USING ERRCODE = 'KK001', HINT = 'a KEK ends as destroyed (kek keys destroy, then kek keys purge)';
END
$$;
CREATE TRIGGER keks_no_truncate BEFORE TRUNCATE ON keks FOR EACH STATEMENT EXECUTE FUNCTION keks_refuse_truncate();
SELECT kek_pin_search_path('keks_refuse_truncate()');
