-- The proof that a KEK may be destroyed: one row per `kek verify` run, in a table only kek's
-- roles may write (before, any application could forge a `verification.finished` audit row).
-- The database sets when and by which login; the KEK lifecycle trigger (040) and
-- `kek keys destroy` read it.

CREATE TABLE kek_verifications (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at              timestamptz NOT NULL DEFAULT clock_timestamp(),
    login           text NOT NULL DEFAULT session_user,
    keks_checked    integer NOT NULL CHECK (keks_checked >= 0),
    deks_checked    bigint NOT NULL CHECK (deks_checked >= 0),
    values_checked  bigint NOT NULL CHECK (values_checked >= 0),
    failures        integer NOT NULL CHECK (failures >= 0)
);

CREATE FUNCTION kek_verifications_stamp() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        RAISE EXCEPTION 'kek_verifications is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
    END IF;
    NEW.at := clock_timestamp();
    NEW.login := session_user;
    RETURN NEW;
END
$$;

CREATE TRIGGER kek_verifications_stamp BEFORE INSERT OR UPDATE OR DELETE ON kek_verifications
    FOR EACH ROW EXECUTE FUNCTION kek_verifications_stamp();

SELECT kek_pin_search_path('kek_verifications_stamp()');
REVOKE ALL ON TABLE kek_verifications FROM PUBLIC;
GRANT SELECT, INSERT ON kek_verifications TO kek_worker;
