-- Root key identities: one check value per root key id, recorded the first time kek uses that
-- root key (it wraps a KEK, or it is proven to open one). A process whose keyring holds the
-- same id with another key compares its own check value with this row and refuses to run.
--
-- check_value is the first 16 bytes of HMAC-SHA256(root key, "kek/v1|root-key-check"): it
-- identifies the key without revealing it (README, "Root key check value"). `scheme` names
-- that computation so a later one can be told apart.
--
-- A row is written once and never changed: the database refuses UPDATE for every role, and
-- only the owner (the migrating user) may delete a row, for the runbook's deliberate
-- "this root key id is gone for good" step.

CREATE TABLE root_keys (
    id            text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9._-]{1,40}$'),
    check_value   bytea NOT NULL CHECK (length(check_value) = 16),
    scheme        text NOT NULL DEFAULT 'hmac-sha256-16/v1',
    first_used_at timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION root_keys_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% on root_keys refused: a root key id keeps the key it was first used with', TG_OP
        USING ERRCODE = 'integrity_constraint_violation',
              HINT = 'give a new root key a new id (runbooks/root-key-rotation.md)';
END
$$;

CREATE TRIGGER root_keys_no_update BEFORE UPDATE ON root_keys
    FOR EACH ROW EXECUTE FUNCTION root_keys_immutable();
CREATE TRIGGER root_keys_no_truncate BEFORE TRUNCATE ON root_keys
    FOR EACH STATEMENT EXECUTE FUNCTION root_keys_immutable();

-- The worker and CLI read the identities and record new ones; applications may read them to
-- run the same check before they unwrap a KEK.
GRANT SELECT, INSERT ON root_keys TO kek_worker;
GRANT SELECT ON root_keys TO kek_app;
