-- DEKs per KEK kept by the database (issue #19, "status at scale"): the status refresher
-- read `count(*) FROM data_keys GROUP BY kek_id` about once a second, a scan over every DEK
-- (at 100M DEKs, a full index scan per second on the applications' database). Now the count
-- of every KEK is `kek_dek_counts` plus the not yet folded rows of `kek_dek_count_deltas`,
-- a read whose cost depends on how many statements changed DEKs since the last fold, not on
-- how many DEKs there are.
--
-- Writers never wait for each other on a count: statement-level triggers APPEND one delta
-- row per (statement, kek_id) (an insert takes no row lock that another writer holds, unlike
-- an UPDATE of a shared counter row, which would serialize every application insert under
-- the active KEK). A rotation's move of 2,000 DEKs pays two rows (-2000 old KEK, +2000 new),
-- per statement, not per row. kek_fold_dek_counts() (the status refresher, each tick) moves
-- deltas into kek_dek_counts; only folders take its lock.
--
-- Only the owner writes these tables (the SECURITY DEFINER trigger functions and the fold):
-- no login role (kek_app, kek_worker) can forge or lower a count; kek_app moves a count only
-- by inserting or deleting real DEKs.

-- No concurrent DEK writes while the counts are initialised and the triggers created (this
-- lock conflicts with INSERT/UPDATE/DELETE and is held until the migration commits).
LOCK TABLE data_keys IN SHARE ROW EXCLUSIVE MODE;

-- Folded counts, one row per KEK that ever had a DEK. folded_at: the last fold that changed it.
CREATE TABLE kek_dek_counts (
    kek_id    integer PRIMARY KEY REFERENCES keks (id),
    deks      bigint NOT NULL,
    folded_at timestamptz NOT NULL DEFAULT now()
);

-- Changes not yet folded: one row per (statement, kek_id) that changed the KEK's DEK count.
-- No index but the key and no foreign key: appending must stay as cheap as it can.
CREATE TABLE kek_dek_count_deltas (
    id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kek_id integer NOT NULL,
    deks   bigint NOT NULL
);

-- The one scan over every DEK, at migrate time.
INSERT INTO kek_dek_counts (kek_id, deks)
SELECT kek_id, count(*) FROM data_keys GROUP BY kek_id;

CREATE FUNCTION kek_count_inserted_deks() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
    INSERT INTO kek_dek_count_deltas (kek_id, deks) SELECT kek_id, count(*) FROM deks_new GROUP BY kek_id;
    RETURN NULL;
END
$$;

CREATE FUNCTION kek_count_deleted_deks() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
    INSERT INTO kek_dek_count_deltas (kek_id, deks) SELECT kek_id, -count(*) FROM deks_old GROUP BY kek_id;
    RETURN NULL;
END
$$;

-- An UPDATE that moves DEKs: +1 per new row under its KEK, -1 per old row under its KEK,
-- summed per KEK; a KEK whose sum is 0 (a rewrap in place, or no move) gets no row. Two
-- scans of the transition tables and no join between them (a join of moved_new and moved_old
-- is what makes data_keys_require_active_kek_on_move's plan vary: /work/notes/issue-19.md).
-- (Transition tables cannot be combined with `UPDATE OF kek_id`, so every UPDATE fires it.)
CREATE FUNCTION kek_count_moved_deks() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
    INSERT INTO kek_dek_count_deltas (kek_id, deks)
    SELECT kek_id, sum(change) FROM (SELECT kek_id, 1 AS change FROM deks_new
                                     UNION ALL SELECT kek_id, -1 FROM deks_old) AS changes
     GROUP BY kek_id HAVING sum(change) <> 0;
    RETURN NULL;
END
$$;

-- TRUNCATE (owner only) fires no row or transition trigger: it empties the counts too.
CREATE FUNCTION kek_count_truncated_deks() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
    DELETE FROM kek_dek_count_deltas;
    UPDATE kek_dek_counts SET deks = 0, folded_at = now();
    RETURN NULL;
END
$$;

-- Moves up to p_limit committed deltas into kek_dek_counts, in one transaction; returns how
-- many it folded (0 when another session is folding: only folders take this lock, and they
-- skip rather than wait, so a refresh never queues behind another).
CREATE FUNCTION kek_fold_dek_counts(p_limit integer DEFAULT 100000) RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
    folded bigint;
BEGIN
    IF NOT pg_try_advisory_xact_lock(hashtext('kek.dek_counts_fold')) THEN
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

-- What readers use: each KEK's DEK count as of the reader's snapshot (exact: folded counts
-- plus every committed delta), when its count was last folded, and how many deltas were
-- still unfolded (what this read cost beyond one row per KEK).
CREATE VIEW kek_dek_counts_current AS
SELECT kek_id, sum(deks)::bigint AS deks, max(folded_at) AS folded_at, count(*) FILTER (WHERE folded_at IS NULL) AS unfolded
  FROM (SELECT kek_id, deks, folded_at FROM kek_dek_counts
        UNION ALL
        SELECT kek_id, deks, NULL::timestamptz FROM kek_dek_count_deltas) AS parts
 GROUP BY kek_id;

SELECT kek_pin_search_path('kek_count_inserted_deks()', 'kek_count_deleted_deks()', 'kek_count_moved_deks()',
                           'kek_count_truncated_deks()', 'kek_fold_dek_counts(integer)');
REVOKE ALL ON FUNCTION kek_fold_dek_counts(integer) FROM PUBLIC;

CREATE TRIGGER data_keys_count_inserted_deks
    AFTER INSERT ON data_keys REFERENCING NEW TABLE AS deks_new
    FOR EACH STATEMENT EXECUTE FUNCTION kek_count_inserted_deks();
CREATE TRIGGER data_keys_count_deleted_deks
    AFTER DELETE ON data_keys REFERENCING OLD TABLE AS deks_old
    FOR EACH STATEMENT EXECUTE FUNCTION kek_count_deleted_deks();
CREATE TRIGGER data_keys_count_moved_deks
    AFTER UPDATE ON data_keys REFERENCING OLD TABLE AS deks_old NEW TABLE AS deks_new
    FOR EACH STATEMENT EXECUTE FUNCTION kek_count_moved_deks();
CREATE TRIGGER data_keys_count_truncated_deks
    AFTER TRUNCATE ON data_keys
    FOR EACH STATEMENT EXECUTE FUNCTION kek_count_truncated_deks();

-- The worker and the status server read and fold; applications need neither. Nobody but the
-- owner writes the tables.
GRANT SELECT ON kek_dek_counts, kek_dek_count_deltas, kek_dek_counts_current TO kek_worker;
GRANT EXECUTE ON FUNCTION kek_fold_dek_counts(integer) TO kek_worker;
