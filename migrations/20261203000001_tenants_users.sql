-- Tenants, the people who log in, their sessions and the API tokens of tenants' automation.
-- Customers belong to exactly one tenant; staff (account managers, admins) to none, because
-- they see every tenant. Secrets are stored only as SHA-256 (tokens, session ids) or
-- argon2id (passwords) hashes.

CREATE TABLE tenants (
    id uuid PRIMARY KEY,
    slug text NOT NULL UNIQUE CHECK (slug ~ '^[a-z][a-z0-9-]{1,39}$'),
    name text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
    id uuid PRIMARY KEY,
    email text NOT NULL,
    name text NOT NULL,
    password_hash text NOT NULL,
    role text NOT NULL CHECK (role IN ('customer', 'account_manager', 'admin')),
    tenant_id uuid REFERENCES tenants (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    -- A customer without a tenant could see nothing; staff with one would be confusing.
    CHECK ((role = 'customer') = (tenant_id IS NOT NULL))
);

-- Emails are compared without regard to case.
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

CREATE TABLE sessions (
    id_hash text PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);

CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);

CREATE TABLE api_tokens (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    name text NOT NULL,
    token_hash text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz
);
