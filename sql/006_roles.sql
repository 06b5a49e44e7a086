-- Database roles for the two kinds of programs that touch the key store.
--
--   kek_worker  the kek worker and CLI: KEK lifecycle, rewrap, re-encryption, env import,
--               secrets and signing keys of every project, audit log (append and read).
--   kek_app     an application following DESIGN.md: reads and writes the secrets and signing
--               keys of ONE project, chosen per session or transaction with
--                   SELECT set_config('app.project_id', '<uuid>', false)   -- or SET app.project_id = '...'
--               Row-level security hides every other project's rows; without the setting it
--               sees no rows at all. It can create DEKs (under the active KEK only: trigger of
--               001) and append audit rows, but cannot read the audit log or change KEKs.
--
-- Both are NOLOGIN group roles: grant them to login roles (GRANT kek_app TO billing_service).
-- Roles are cluster-wide, so they are created only when absent (a DBA may create them ahead
-- when the migrating user lacks CREATEROLE); grants and policies are per database.
-- The table owner (the migrating user) is not subject to row-level security (no FORCE).

DO $$
DECLARE
    role_name text;
BEGIN
    FOREACH role_name IN ARRAY ARRAY['kek_worker', 'kek_app'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = role_name) THEN
            BEGIN
                EXECUTE format('CREATE ROLE %I NOLOGIN', role_name);
            EXCEPTION WHEN duplicate_object OR unique_violation THEN
                NULL;  -- a migration of another database on this cluster created it meanwhile
            END;
        END IF;
    END LOOP;
END
$$;

-- The audit chain trigger reads the previous row's hash and draws ids from its sequence.
-- Running it with the owner's rights lets roles that may only INSERT into audit_log append
-- rows (an application must not read the whole log). search_path is pinned, pg_temp last,
-- so no temporary table can stand in for audit_log inside the trigger.
DO $$
BEGIN
    EXECUTE format('ALTER FUNCTION audit_log_chain() SECURITY DEFINER SET search_path = %I, pg_temp', current_schema());
END
$$;

-- kek_worker: exactly what the worker's statements use.
GRANT SELECT, INSERT, UPDATE ON keks TO kek_worker;
GRANT SELECT, INSERT, UPDATE, DELETE ON data_keys TO kek_worker;
GRANT SELECT, INSERT, UPDATE, DELETE ON project_secrets TO kek_worker;
GRANT SELECT, INSERT, UPDATE ON signature_keys TO kek_worker;
GRANT SELECT, INSERT ON audit_log TO kek_worker;
GRANT SELECT, INSERT ON env_imports TO kek_worker;
GRANT SELECT ON schema_migrations TO kek_worker;
GRANT USAGE ON SEQUENCE keks_id_seq, data_keys_id_seq TO kek_worker;   -- explicit nextval() before wrapping

-- The job tables come from 002_jobs.sql on another branch. On a fresh database 002 runs
-- before this file and is granted here; on a database migrated before 002 existed, 002
-- runs after this file, so 002 (or a later migration) must grant its own tables too.
DO $$
BEGIN
    IF to_regclass('jobs') IS NOT NULL THEN
        GRANT SELECT, INSERT, UPDATE, DELETE ON jobs TO kek_worker;
    END IF;
    IF to_regclass('workers') IS NOT NULL THEN
        GRANT SELECT, INSERT, UPDATE, DELETE ON workers TO kek_worker;
    END IF;
END
$$;

-- kek_app: one project's secrets and signing keys, DEK creation, audit append.
GRANT SELECT ON keks TO kek_app;                        -- unwrap the active KEK with the root key
GRANT UPDATE (wrap_count) ON keks TO kek_app;           -- DataKeys.recordWraps; FOR SHARE in the DEK trigger
GRANT SELECT, INSERT, DELETE ON data_keys TO kek_app;   -- new DEK per value; drop the old one on update
                                                        -- (a DEK still referenced cannot be deleted: FK)
GRANT USAGE ON SEQUENCE data_keys_id_seq TO kek_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON project_secrets TO kek_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON signature_keys TO kek_app;
GRANT INSERT ON audit_log TO kek_app;

-- Row-level security: kek_worker sees every project, kek_app only app.project_id's rows.
-- nullif turns an unset or RESET setting ('') into NULL, which matches no row.
ALTER TABLE project_secrets ENABLE ROW LEVEL SECURITY;
ALTER TABLE signature_keys ENABLE ROW LEVEL SECURITY;

CREATE POLICY project_secrets_worker ON project_secrets TO kek_worker USING (true) WITH CHECK (true);
CREATE POLICY signature_keys_worker ON signature_keys TO kek_worker USING (true) WITH CHECK (true);

CREATE POLICY project_secrets_app ON project_secrets TO kek_app
    USING (project_id = nullif(current_setting('app.project_id', true), '')::uuid)
    WITH CHECK (project_id = nullif(current_setting('app.project_id', true), '')::uuid);
CREATE POLICY signature_keys_app ON signature_keys TO kek_app
    USING (project_id = nullif(current_setting('app.project_id', true), '')::uuid)
    WITH CHECK (project_id = nullif(current_setting('app.project_id', true), '')::uuid);
