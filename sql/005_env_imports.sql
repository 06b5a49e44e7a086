-- One row per completed `kek import-env` run: what was imported, by whom, from where.
-- Names and counts only; never a value, never a hash of a value. Dry runs and refused
-- imports write nothing, so every row here describes a committed import.

CREATE TABLE env_imports (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id      uuid NOT NULL,
    started_at      timestamptz NOT NULL,
    finished_at     timestamptz NOT NULL DEFAULT now(),
    source          text NOT NULL,          -- e.g. "file:/etc/app/.env + env:prefix=APP_ (stripped)"
    on_conflict     text NOT NULL CHECK (on_conflict IN ('refuse', 'update', 'skip')),
    counts          jsonb NOT NULL,         -- {"created": n, "unchanged": n, ...}
    names           jsonb NOT NULL,         -- {"created": ["NAME", ...], ...}
    actor           text NOT NULL
);
CREATE INDEX env_imports_project_id ON env_imports (project_id, id);
