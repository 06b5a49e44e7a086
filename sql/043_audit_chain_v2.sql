-- The audit chain, version 2: nothing a writer declares can stand in for what the database
-- knows, the head lives where concurrent writers serialize, and the hash encoding is
-- unambiguous.
--
-- * `at` (clock_timestamp()) and `login` (session_user, which SET ROLE does not change) are
--   set by the trigger; `actor` is what the writer declares (an operator's name), kept beside.
-- * The head (last id and hash) is one row of audit_head, locked FOR UPDATE by the trigger.
--   No role but the owner can read or lock it, so no outside session can take that lock
--   except by appending an audit row in an open transaction (kek's statements then fail at
--   their lock_timeout, naming the wait). The advisory lock of 003 is gone.
-- * The lock only serializes READ COMMITTED writers: a REPEATABLE READ or SERIALIZABLE
--   transaction would fail (or fork the chain) on a head updated after its snapshot, so they
--   are refused with a clear error (SQLSTATE KA001). kek runs its own transactions as
--   READ COMMITTED explicitly, whatever default_transaction_isolation says.
-- * Version 2 rows hash  prev_hash || field* , each field a 4-byte big-endian length and its
--   UTF-8 bytes (0xFFFFFFFF for NULL): "kek-audit/v2", id, at (UTC, microseconds), login,
--   actor, action, target, details. Rows before this migration keep hash_version 1 and verify
--   with 003's '|'-joined encoding; audit_head.v1_until says where version 1 ends, so no new
--   row can claim the old encoding.

ALTER TABLE audit_log
    ADD COLUMN login text,
    ADD COLUMN hash_version smallint NOT NULL DEFAULT 1 CHECK (hash_version IN (1, 2));
ALTER TABLE audit_log ALTER COLUMN hash_version SET DEFAULT 2;

CREATE TABLE audit_head (
    singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    id         bigint,              -- NULL while the log is empty
    hash       bytea NOT NULL,      -- '\x' while the log is empty
    v1_until   bigint NOT NULL      -- rows with id <= v1_until use hash version 1
);
INSERT INTO audit_head (id, hash, v1_until)
SELECT max(id), coalesce((SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1), '\x'::bytea), coalesce(max(id), 0)
  FROM audit_log;
REVOKE ALL ON TABLE audit_head FROM PUBLIC;

CREATE FUNCTION audit_field(value text) RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN value IS NULL THEN '\xffffffff'::bytea
                ELSE int4send(octet_length(convert_to(value, 'UTF8'))) || convert_to(value, 'UTF8') END
$$;

CREATE FUNCTION audit_log_content_v2(row_id bigint, at timestamptz, login text, actor text, action text, target text, details jsonb)
RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
    SELECT audit_field('kek-audit/v2') || audit_field(row_id::text)
        || audit_field(to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))
        || audit_field(login) || audit_field(actor) || audit_field(action) || audit_field(target) || audit_field(details::text)
$$;

-- The hash a row must carry, by its version; NULL for a version the row may not claim.
CREATE FUNCTION audit_log_expected_hash(r audit_log, v1_until bigint) RETURNS bytea LANGUAGE sql STABLE AS $$
    SELECT CASE
        WHEN r.hash_version = 1 AND r.id <= v1_until
            THEN sha256(r.prev_hash || audit_log_content(r.id, r.at, r.actor, r.action, r.target, r.details))
        WHEN r.hash_version = 2 AND r.id > v1_until
            THEN sha256(r.prev_hash || audit_log_content_v2(r.id, r.at, r.login, r.actor, r.action, r.target, r.details))
    END
$$;

CREATE OR REPLACE FUNCTION audit_log_chain() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
    head record;
BEGIN
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION 'audit rows can only be written in READ COMMITTED transactions; this one is %',
            current_setting('transaction_isolation')
            USING ERRCODE = 'KA001',
                  HINT = 'BEGIN ISOLATION LEVEL READ COMMITTED (the chain head must be read after its lock, not from a snapshot)';
    END IF;
    SELECT h.id, h.hash INTO head FROM audit_head h WHERE h.singleton FOR UPDATE;
    NEW.id := nextval('audit_log_id_seq');
    NEW.at := clock_timestamp();
    NEW.login := session_user;
    NEW.hash_version := 2;
    NEW.prev_hash := head.hash;
    NEW.hash := sha256(NEW.prev_hash || audit_log_content_v2(NEW.id, NEW.at, NEW.login, NEW.actor, NEW.action, NEW.target, NEW.details));
    UPDATE audit_head SET id = NEW.id, hash = NEW.hash WHERE singleton;
    RETURN NEW;
END
$$;

ALTER TABLE audit_log ALTER COLUMN login SET DEFAULT session_user;

SELECT kek_pin_search_path('audit_log_chain()', 'audit_log_refuse_change()', 'audit_field(text)',
                           'audit_log_content(bigint, timestamptz, text, text, text, jsonb)',
                           'audit_log_content_v2(bigint, timestamptz, text, text, text, text, jsonb)',
                           'audit_log_expected_hash(audit_log, bigint)');
GRANT SELECT ON audit_head TO kek_worker;   -- kek audit head / verify; no UPDATE, so no FOR UPDATE either
