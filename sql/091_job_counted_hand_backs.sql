-- Hand-backs that count toward a bound (JobKindGate.handBackLimit in Sources/JobQueue).
--
-- A worker hands a job back without an attempt when it cannot run it (JobNotRunnableHere),
-- so that another worker may. When the worker that hands back can run the job's kind at all
-- (its gate's check passes, e.g. its keyring opens every KEK in use), the job itself may be
-- what no worker can run (it names a corrupted pending KEK): such hand-backs are counted
-- here, and at the bound the job fails permanently instead of going round forever.
-- `kek jobs retry` sets the count back to 0. kek_worker's table-level UPDATE on jobs (044)
-- covers the new column.
ALTER TABLE jobs ADD COLUMN counted_hand_backs integer NOT NULL DEFAULT 0 CHECK (counted_hand_backs >= 0);
