-- The move check of 001/041 joined its two transition tables (moved_new JOIN moved_old USING
-- (id)) on every UPDATE of data_keys, to find the rows whose kek_id changed. The transition
-- tables have no statistics, so the join's plan varied: 2 ms to 1.2 s for the same 2,000-row
-- batch (issue #19, finding 2). The rule is the same; the work is ordered so the common
-- statements never join:
--   1. the distinct new kek_ids (one pass over moved_new, a handful of values) are locked FOR
--      KEY SHARE, as before for the KEKs moved to (now also those rewritten in place: a
--      superset, so a demotion or retirement waits for this statement as it did);
--   2. if all of them are active (a rotation's batch: every row moved to the active KEK, or a
--      rewrite under the active KEK) no row can have moved to a non-active KEK: done;
--   3. otherwise only the rows under those non-active KEKs are paired with their old version
--      (an in-place rewrite under a decrypt_only KEK, or a refused move).
-- The wrap counter of 031 (kek_count_rewrapped_wraps) must pair every old and new row (a wrap
-- is a changed wrapped_key). Its plan, and step 3's, is made stable by refusing nested loops
-- in these two functions: without statistics a plan cached for a one-row statement paired
-- 2,000 rows by nested loop (O(n^2): 270-740 ms per batch measured); a hash join is linear.
-- Measured (EXPLAIN ANALYZE, 2,000-row batches after 6 one-row UPDATEs in the transaction,
-- 200k DEKs): a rotation's move 1,080-1,480 ms -> 31-83 ms, an in-place rewrite 830-1,500 ms
-- -> 40-45 ms; the move check itself 560-900 ms -> 0.4-0.5 ms.
CREATE OR REPLACE FUNCTION data_keys_require_active_kek_on_move() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
    inactive integer[];
BEGIN
    PERFORM 1 FROM keks WHERE id IN (SELECT DISTINCT kek_id FROM moved_new) FOR KEY SHARE;
    SELECT array_agg(n.kek_id) INTO inactive
      FROM (SELECT DISTINCT kek_id FROM moved_new) n LEFT JOIN keks k ON k.id = n.kek_id
     WHERE k.state IS DISTINCT FROM 'active';
    IF inactive IS NULL THEN
        RETURN NULL;
    END IF;
    IF EXISTS (SELECT 1 FROM moved_new n JOIN moved_old o USING (id)
               WHERE n.kek_id = ANY (inactive) AND n.kek_id <> o.kek_id) THEN
        RAISE EXCEPTION 'a DEK can only be moved to the active KEK; this statement moves DEKs to one of KEKs % (not active, or missing)',
            array_to_string(inactive, ', ') USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END
$$;

-- CREATE OR REPLACE resets the function's settings: pin its search_path again (as 041 did).
SELECT kek_pin_search_path('data_keys_require_active_kek_on_move()');
ALTER FUNCTION data_keys_require_active_kek_on_move() SET enable_nestloop = off;
ALTER FUNCTION kek_count_rewrapped_wraps() SET enable_nestloop = off;
