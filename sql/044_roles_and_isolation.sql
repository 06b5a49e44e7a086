-- Roles that work and hold only what they need, and project isolation bound to the login.
--
-- Owner: the login that runs `kek migrate` owns every table (runbooks/database-roles.md);
-- it is not subject to row-level security and is the only role that maintains
-- project_logins, kek_policy and audit_head.
--
-- kek_worker (the worker, `kek serve` and the key commands): the grants below plus 006's.
-- kek_app (an application): reads the KEKs and DEKs that decryption needs, adds DEKs under
-- the active KEK, reads and writes the secrets and signing keys of the projects its LOGIN
-- is mapped to in project_logins, appends audit rows. No UPDATE on keks, hence no row locks
-- on keks either (the DEK trigger's FOR KEY SHARE runs with the owner's rights, 041).
--
-- Isolation used to trust current_setting('app.project_id'), which any session rewrites with
-- set_config. It is now keyed on session_user (the login; SET ROLE does not change it) via
-- project_logins, which only the owner writes. Behind a transaction pooler, use one login per
-- project per pool: a server connection then never carries another tenant's binding.

CREATE TABLE project_logins (
    login       text NOT NULL,
    project_id  uuid NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (login, project_id)
);
REVOKE ALL ON TABLE project_logins FROM PUBLIC;
GRANT SELECT ON project_logins TO kek_worker;

-- The projects of this session's login (owner's rights: applications cannot read the map).
CREATE FUNCTION kek_session_projects() RETURNS SETOF uuid LANGUAGE sql STABLE SECURITY DEFINER AS $$
    SELECT p.project_id FROM project_logins p WHERE p.login = session_user::text
$$;

-- True when an application login may see DEK p_dek: one of its projects' values uses it, or
-- no value does yet (a DEK just created, or just replaced and about to be deleted).
CREATE FUNCTION kek_app_dek_visible(p_dek bigint) RETURNS boolean LANGUAGE sql STABLE SECURITY DEFINER AS $$
    SELECT EXISTS (SELECT 1 FROM project_secrets s WHERE s.dek_id = p_dek
                      AND s.project_id IN (SELECT p.project_id FROM project_logins p WHERE p.login = session_user::text))
        OR EXISTS (SELECT 1 FROM signature_keys k WHERE k.dek_id = p_dek
                      AND k.project_id IN (SELECT p.project_id FROM project_logins p WHERE p.login = session_user::text))
        OR NOT (EXISTS (SELECT 1 FROM project_secrets s WHERE s.dek_id = p_dek)
                OR EXISTS (SELECT 1 FROM signature_keys k WHERE k.dek_id = p_dek))
$$;

SELECT kek_pin_search_path('kek_session_projects()', 'kek_app_dek_visible(bigint)', 'kek_jobs_notify()');
REVOKE ALL ON FUNCTION kek_session_projects(), kek_app_dek_visible(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION kek_session_projects(), kek_app_dek_visible(bigint) TO kek_app, kek_worker;

-- kek_worker: what 006 missed (found by running the end-to-end tests as a kek_worker login).
GRANT SELECT, INSERT, UPDATE, DELETE ON job_schedule_runs TO kek_worker;
GRANT SELECT, INSERT, UPDATE, DELETE ON jobs, workers TO kek_worker;

-- kek_app: no UPDATE on keks (so no FOR UPDATE/SHARE either), only the columns unwrapping needs.
REVOKE ALL ON TABLE keks FROM kek_app;
GRANT SELECT (id, root_key_id, wrapped_key, state) ON keks TO kek_app;
REVOKE ALL ON TABLE data_keys FROM kek_app;
GRANT SELECT (id, kek_id, wrapped_key), INSERT (id, kek_id, wrapped_key), DELETE ON data_keys TO kek_app;

-- Row-level security on the key tables: the worker sees everything; an application sees the
-- KEKs that can still unwrap and the DEKs of its own projects' values.
ALTER TABLE keks ENABLE ROW LEVEL SECURITY;
ALTER TABLE data_keys ENABLE ROW LEVEL SECURITY;
CREATE POLICY keks_worker ON keks TO kek_worker USING (true) WITH CHECK (true);
CREATE POLICY keks_app ON keks FOR SELECT TO kek_app USING (state IN ('active', 'decrypt_only', 'compromised'));
CREATE POLICY data_keys_worker ON data_keys TO kek_worker USING (true) WITH CHECK (true);
CREATE POLICY data_keys_app_read ON data_keys FOR SELECT TO kek_app USING (kek_app_dek_visible(id));
CREATE POLICY data_keys_app_insert ON data_keys FOR INSERT TO kek_app WITH CHECK (true);
CREATE POLICY data_keys_app_delete ON data_keys FOR DELETE TO kek_app USING (kek_app_dek_visible(id));

-- Secrets and signing keys: the login's projects, not a setting.
DROP POLICY project_secrets_app ON project_secrets;
DROP POLICY signature_keys_app ON signature_keys;
CREATE POLICY project_secrets_app ON project_secrets TO kek_app
    USING (project_id IN (SELECT kek_session_projects()))
    WITH CHECK (project_id IN (SELECT kek_session_projects()));
CREATE POLICY signature_keys_app ON signature_keys TO kek_app
    USING (project_id IN (SELECT kek_session_projects()))
    WITH CHECK (project_id IN (SELECT kek_session_projects()));
