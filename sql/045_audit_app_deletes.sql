-- An application's DELETE of a secret or signing key used to leave no trace. A row trigger
-- appends the audit row in the deleting transaction when the login is an application's
-- (kek_app and not kek_worker; kek's own deletes are audited by kek with the operator's name).

CREATE FUNCTION kek_audit_application_delete() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
    IF pg_has_role(session_user, 'kek_app', 'MEMBER') AND NOT pg_has_role(session_user, 'kek_worker', 'MEMBER') THEN
        INSERT INTO audit_log (actor, action, target, details)
        VALUES (session_user, TG_ARGV[0], TG_ARGV[1] || ':' || OLD.id::text,
                jsonb_build_object('project_id', OLD.project_id, 'deleted_by', 'application'));
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER project_secrets_audit_application_delete AFTER DELETE ON project_secrets
    FOR EACH ROW EXECUTE FUNCTION kek_audit_application_delete('secret.deleted', 'secret');
CREATE TRIGGER signature_keys_audit_application_delete AFTER DELETE ON signature_keys
    FOR EACH ROW EXECUTE FUNCTION kek_audit_application_delete('signing_key.deleted', 'signing_key');

SELECT kek_pin_search_path('kek_audit_application_delete()');
