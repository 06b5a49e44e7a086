-- The audit log becomes append-only and hash-chained.
--
-- Every row stores the SHA-256 of the previous row's hash followed by its own content, so
-- editing or removing a row breaks the chain at that row (`kek audit verify` names it).
-- The chain is built by a trigger under a transaction-scoped advisory lock, so rows are
-- chained in commit order whoever inserts them (kek or another program), and ids follow
-- that order. The database refuses UPDATE, DELETE and TRUNCATE on the table.
-- (Anyone who can drop triggers can rewrite the chain too: record the head hash that
-- `kek audit verify` prints somewhere outside the database to anchor it.)

ALTER TABLE audit_log ALTER COLUMN id DROP IDENTITY;
CREATE SEQUENCE audit_log_id_seq OWNED BY audit_log.id;
ALTER TABLE audit_log
    ADD COLUMN prev_hash bytea,
    ADD COLUMN hash bytea;

CREATE FUNCTION audit_log_content(row_id bigint, at timestamptz, actor text, action text, target text, details jsonb)
RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
    SELECT convert_to(
        row_id::text || '|' || to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') || '|' ||
        actor || '|' || action || '|' || coalesce(target, '') || '|' || details::text,
        'UTF8')
$$;

CREATE FUNCTION audit_log_chain() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('kek.audit_log'));
    NEW.id := nextval('audit_log_id_seq');
    SELECT hash INTO NEW.prev_hash FROM audit_log ORDER BY id DESC LIMIT 1;
    NEW.prev_hash := coalesce(NEW.prev_hash, '\x'::bytea);
    NEW.hash := sha256(NEW.prev_hash || audit_log_content(NEW.id, NEW.at, NEW.actor, NEW.action, NEW.target, NEW.details));
    RETURN NEW;
END
$$;

CREATE TRIGGER audit_log_chain BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_chain();

CREATE FUNCTION audit_log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change();

ALTER TABLE audit_log ALTER COLUMN hash SET NOT NULL, ALTER COLUMN prev_hash SET NOT NULL;
CREATE INDEX audit_log_action_at ON audit_log (action, at);
