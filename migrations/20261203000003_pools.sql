-- Worker pool sizes, editable by admins at run time, and the record of every change.
-- Worker processes read the sizes on a notification and on an interval, so a change takes
-- effect within seconds everywhere without a restart.

CREATE TABLE pool_settings (
    pool text PRIMARY KEY,
    size integer NOT NULL CHECK (size >= 0),
    updated_at timestamptz NOT NULL DEFAULT now(),
    updated_by text NOT NULL DEFAULT 'migration'
);

INSERT INTO pool_settings (pool, size) VALUES ('generate', 2), ('verify', 2), ('package', 2);

CREATE TABLE pool_changes (
    id bigserial PRIMARY KEY,
    pool text NOT NULL REFERENCES pool_settings (pool),
    old_size integer NOT NULL,
    new_size integer NOT NULL,
    changed_by text NOT NULL,
    changed_at timestamptz NOT NULL DEFAULT now(),
    note text NOT NULL DEFAULT ''
);
