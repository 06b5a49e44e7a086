-- The KEK lifecycle of DESIGN.md, enforced by the database for every role (superusers too,
-- unless they disable triggers), not only by kek's code:
--
--   pending -> active -> decrypt_only -> retired -> destroyed, any (but destroyed) -> compromised,
--   compromised -> retired; retired needs zero DEKs; destroyed needs a scheduled destruction
--   whose grace window has passed, zero DEKs, and clears wrapped_key in the same statement.
--   wrapped_key changes otherwise only together with root_key_id (a root rotation re-wraps
--   the same key under another root key); wrap_count never decreases; rows are never deleted.
--
-- Each refusal has its own SQLSTATE (class KK, "kek lifecycle") and names the rule:
--   KK001 delete refused            KK002 transition not allowed     KK003 DEKs remain
--   KK004 destruction not due       KK005 key changed outside a root rotation
--   KK006 wrap_count decreased      KK007 no clean verification since retirement
--   KK008 grace window below the minimum (kek_policy.min_destroy_grace)
--
-- The destruction proof is a row of kek_verifications (042), which only kek's roles write.
-- Functions run with the owner's rights and a pinned search_path (this schema, pg_temp last),
-- so no temporary table can stand in for keks, data_keys or kek_policy.

-- Pins a function's search_path to this schema with pg_temp last (pg_temp searched first when
-- not named): used by 040-044 for every trigger and security-definer function.
CREATE FUNCTION kek_pin_search_path(VARIADIC functions regprocedure[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    f regprocedure;
BEGIN
    FOREACH f IN ARRAY functions LOOP
        EXECUTE format('ALTER FUNCTION %s SET search_path = %I, pg_temp', f, current_schema());
    END LOOP;
END
$$;
REVOKE ALL ON FUNCTION kek_pin_search_path(regprocedure[]) FROM PUBLIC;

-- One row of policy the owner may tune; the documented default minimum grace is one hour.
CREATE TABLE kek_policy (
    singleton          boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    min_destroy_grace  interval NOT NULL DEFAULT interval '1 hour' CHECK (min_destroy_grace >= interval '0')
);
INSERT INTO kek_policy DEFAULT VALUES;

CREATE FUNCTION keks_enforce_lifecycle() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
    deks bigint;
    allowed boolean;
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'KEK % cannot be deleted: keks rows are kept for the record (rule: no DELETE on keks)', OLD.id
            USING ERRCODE = 'KK001', HINT = 'a KEK ends as destroyed (kek keys destroy, then kek keys purge)';
    END IF;
    IF NEW.id <> OLD.id THEN
        RAISE EXCEPTION 'KEK % cannot change its id (rule: ids are fixed)', OLD.id USING ERRCODE = 'KK002';
    END IF;
    IF NEW.wrap_count < OLD.wrap_count THEN
        RAISE EXCEPTION 'KEK %: wrap_count cannot decrease from % to % (rule: the GCM wrap counter only grows)',
            OLD.id, OLD.wrap_count, NEW.wrap_count USING ERRCODE = 'KK006';
    END IF;
    IF NEW.state IS DISTINCT FROM OLD.state THEN
        allowed := (OLD.state, NEW.state) IN (('pending', 'active'), ('active', 'decrypt_only'),
                                              ('decrypt_only', 'retired'), ('retired', 'destroyed'),
                                              ('compromised', 'retired'))
                   OR (NEW.state = 'compromised' AND OLD.state <> 'destroyed');
        IF NOT allowed THEN
            RAISE EXCEPTION 'KEK % cannot go from % to % (rule: pending -> active -> decrypt_only -> retired -> destroyed, any -> compromised -> retired)',
                OLD.id, OLD.state, NEW.state USING ERRCODE = 'KK002';
        END IF;
        IF NEW.state IN ('retired', 'destroyed') THEN
            -- Wait for every transaction still writing DEKs under this KEK (they hold FOR KEY
            -- SHARE, see 041), then count with a fresh snapshot.
            PERFORM 1 FROM keks WHERE id = OLD.id FOR UPDATE;
            SELECT count(*) INTO deks FROM data_keys WHERE kek_id = OLD.id;
            IF deks > 0 THEN
                RAISE EXCEPTION 'KEK % cannot become %: % DEKs are still wrapped under it (rule: zero DEKs)',
                    OLD.id, NEW.state, deks USING ERRCODE = 'KK003';
            END IF;
        END IF;
        IF NEW.state = 'destroyed' AND (OLD.destroy_after IS NULL OR OLD.destroy_after > now()) THEN
            RAISE EXCEPTION 'KEK % cannot be destroyed before its scheduled destruction (destroy_after %) (rule: grace window)',
                OLD.id, coalesce(OLD.destroy_after::text, 'not set') USING ERRCODE = 'KK004';
        END IF;
        IF NEW.state = 'destroyed' AND NOT EXISTS (SELECT 1 FROM kek_verifications v
                                                   WHERE v.at > OLD.retired_at AND v.failures = 0) THEN
            RAISE EXCEPTION 'KEK % cannot be destroyed: no verification without failures since its retirement (rule: verified)', OLD.id
                USING ERRCODE = 'KK007';
        END IF;
    END IF;
    IF NEW.destroy_after IS NOT NULL AND NEW.destroy_after IS DISTINCT FROM OLD.destroy_after THEN
        IF NEW.state <> 'retired' THEN
            RAISE EXCEPTION 'KEK % is %: only a retired KEK can be scheduled for destruction', OLD.id, NEW.state
                USING ERRCODE = 'KK002';
        END IF;
        IF NEW.destroy_after < now() + (SELECT min_destroy_grace FROM kek_policy) THEN
            RAISE EXCEPTION 'KEK %: the grace window before destruction must be at least % (rule: kek_policy.min_destroy_grace)',
                OLD.id, (SELECT min_destroy_grace FROM kek_policy) USING ERRCODE = 'KK008';
        END IF;
        IF NOT EXISTS (SELECT 1 FROM kek_verifications v WHERE v.at > OLD.retired_at AND v.failures = 0) THEN
            RAISE EXCEPTION 'KEK % cannot be scheduled for destruction: no verification without failures since its retirement (rule: verified)',
                OLD.id USING ERRCODE = 'KK007', HINT = 'run kek verify';
        END IF;
    END IF;
    IF NEW.wrapped_key IS DISTINCT FROM OLD.wrapped_key THEN
        IF NEW.state = 'destroyed' AND OLD.state <> 'destroyed' THEN
            NULL;  -- the destruction itself clears the key (CHECK keks_key_present demands NULL)
        ELSIF NEW.root_key_id IS NOT DISTINCT FROM OLD.root_key_id OR NEW.wrapped_key IS NULL OR OLD.wrapped_key IS NULL THEN
            RAISE EXCEPTION 'KEK %: wrapped_key may change only in a root rotation, together with root_key_id (rule: key fixed)', OLD.id
                USING ERRCODE = 'KK005';
        END IF;
    ELSIF NEW.root_key_id IS DISTINCT FROM OLD.root_key_id THEN
        RAISE EXCEPTION 'KEK %: root_key_id may change only with a new wrapped_key (rule: key fixed)', OLD.id
            USING ERRCODE = 'KK005';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER keks_lifecycle BEFORE UPDATE OR DELETE ON keks
    FOR EACH ROW EXECUTE FUNCTION keks_enforce_lifecycle();

-- A KEK is born pending (kek generates, then activates) with no count and no schedule.
CREATE FUNCTION keks_enforce_birth() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
    IF NEW.state NOT IN ('pending', 'active') OR NEW.wrap_count <> 0 OR NEW.destroy_after IS NOT NULL THEN
        RAISE EXCEPTION 'a new KEK starts pending (or active) with wrap_count 0 and no destruction scheduled (rule: birth)'
            USING ERRCODE = 'KK002';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER keks_birth BEFORE INSERT ON keks FOR EACH ROW EXECUTE FUNCTION keks_enforce_birth();

SELECT kek_pin_search_path('keks_enforce_lifecycle()', 'keks_enforce_birth()');
REVOKE ALL ON TABLE kek_policy FROM PUBLIC;
GRANT SELECT ON kek_policy TO kek_worker;
