-- kek_record_wraps (041) let any kek_app login add up to 1e6 to a KEK's wrap_count per call:
-- an application could push a KEK to its GCM limit without wrapping anything. Since 031 the
-- database counts every wrap itself (statement triggers on data_keys into kek_wrap_counters,
-- read through kek_wraps()), and no kek code calls this function any more. Dropped, so the
-- only way for an application to raise a KEK's count is to insert DEKs under it.
-- keks.wrap_count stays as the count made before 031; kek_wraps() adds it to the counters,
-- and kek_app has no UPDATE on keks (044).
DROP FUNCTION kek_record_wraps(integer, bigint, bigint);
