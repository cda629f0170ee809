//! Tenants and users: the demo accounts `factory demo` creates, safe to create again.

use uuid::Uuid;

use super::{Store, StoreError};
use crate::auth::{hash_password, AuthError};

/// A demo login as printed by `factory demo`.
#[derive(Clone, Debug)]
pub struct DemoLogin {
    pub email: String,
    pub password: String,
    pub role: &'static str,
    pub tenant: Option<&'static str>,
}

const DEMO_TENANTS: [(&str, &str); 2] = [("acme", "Acme Corporation"), ("globex", "Globex")];

/// (email, name, role, tenant slug, password)
const DEMO_USERS: [(&str, &str, &str, Option<&str>, &str); 4] = [
    ("customer@acme.test", "Ada Acme", "customer", Some("acme"), "acme-demo-pass"),
    ("customer@globex.test", "Gus Globex", "customer", Some("globex"), "globex-demo-pass"),
    ("manager@factory.test", "Mona Manager", "account_manager", None, "manager-demo-pass"),
    ("admin@factory.test", "Alex Admin", "admin", None, "admin-demo-pass"),
];

impl Store {
    /// Creates the demo tenants and users, or resets the demo users' passwords if they exist.
    pub async fn seed_demo(&self) -> Result<Vec<DemoLogin>, StoreError> {
        let mut tx = self.pool.begin().await?;
        for (slug, name) in DEMO_TENANTS {
            sqlx::query(
                "INSERT INTO tenants (id, slug, name) VALUES ($1, $2, $3) \
                 ON CONFLICT (slug) DO NOTHING",
            )
            .bind(Uuid::new_v4())
            .bind(slug)
            .bind(name)
            .execute(&mut *tx)
            .await?;
        }

        let mut logins = Vec::new();
        for (email, name, role, tenant, password) in DEMO_USERS {
            let hash = hash_password(password).map_err(|error| match error {
                AuthError::Database(error) => StoreError::Database(error),
                AuthError::Hash => StoreError::Conflict("hash demo password".into()),
            })?;
            sqlx::query(
                "INSERT INTO users (id, email, name, password_hash, role, tenant_id) \
                 VALUES ($1, $2, $3, $4, $5, (SELECT id FROM tenants WHERE slug = $6)) \
                 ON CONFLICT (lower(email)) DO UPDATE SET password_hash = excluded.password_hash, \
                 name = excluded.name, role = excluded.role, tenant_id = excluded.tenant_id",
            )
            .bind(Uuid::new_v4())
            .bind(email)
            .bind(name)
            .bind(hash)
            .bind(role)
            .bind(tenant)
            .execute(&mut *tx)
            .await?;
            logins.push(DemoLogin { email: email.into(), password: password.into(), role, tenant });
        }
        tx.commit().await?;
        Ok(logins)
    }
}
