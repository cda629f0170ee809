//! Who is asking: password hashing (argon2id), login sessions and API tokens, and the
//! `Scope` every customer-facing query takes. A `Scope` can only be made here, from a
//! verified session or token, so no handler can widen what a caller sees.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use chrono::{DateTime, Utc};
use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use uuid::Uuid;

use app::model::{Role, Viewer};

/// Name of the login session cookie.
pub const SESSION_COOKIE: &str = "factory_session";

/// Prefix that makes Factory's API tokens recognisable in logs and secret scanners.
const TOKEN_PREFIX: &str = "fct_";

/// The tenants a caller may see and act on, and who the caller is.
#[derive(Clone, Debug)]
pub struct Scope {
    tenant: Option<TenantRef>,
    actor: String,
    role: Role,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TenantRef {
    pub id: Uuid,
    pub slug: String,
}

impl Scope {
    /// The only tenant this caller may touch, or `None` for staff, who see every tenant.
    pub fn tenant_id(&self) -> Option<Uuid> {
        self.tenant.as_ref().map(|tenant| tenant.id)
    }

    pub fn tenant(&self) -> Option<&TenantRef> {
        self.tenant.as_ref()
    }

    /// Who acts, for audit records: an email or `token:<name>`.
    pub fn actor(&self) -> &str {
        &self.actor
    }

    pub fn role(&self) -> Role {
        self.role
    }

    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("hash password")]
    Hash,
    #[error("query credentials")]
    Database(#[from] sqlx::Error),
}

pub fn hash_password(password: &str) -> Result<String, AuthError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|_| AuthError::Hash)
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
        .unwrap_or(false)
}

/// A new random secret (session id or API token); only its hash is ever stored.
fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

fn secret_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// A logged-in person with the scope derived from their role.
#[derive(Clone, Debug)]
pub struct Principal {
    pub viewer: Viewer,
    pub scope: Scope,
}

#[derive(sqlx::FromRow)]
struct UserRow {
    id: Uuid,
    email: String,
    name: String,
    role: String,
    password_hash: String,
    tenant_id: Option<Uuid>,
    tenant_slug: Option<String>,
}

impl UserRow {
    fn into_principal(self) -> Option<Principal> {
        let role = Role::parse(&self.role)?;
        let tenant = match (role, self.tenant_id, self.tenant_slug) {
            (Role::Customer, Some(id), Some(slug)) => Some(TenantRef { id, slug }),
            (Role::Customer, _, _) => return None,
            _ => None,
        };
        let viewer = Viewer {
            user_id: self.id,
            email: self.email.clone(),
            name: self.name,
            role,
            tenant_slug: tenant.as_ref().map(|tenant| tenant.slug.clone()),
        };
        let scope = Scope { tenant, actor: self.email, role };
        Some(Principal { viewer, scope })
    }
}

const USER_COLUMNS: &str = "u.id, u.email, u.name, u.role, u.password_hash, u.tenant_id, \
     t.slug AS tenant_slug";

/// Checks an email and password; `None` for an unknown email or a wrong password alike.
pub async fn login(
    db: &PgPool,
    email: &str,
    password: &str,
    lifetime: chrono::Duration,
) -> Result<Option<(String, Principal)>, AuthError> {
    let sql = format!(
        "SELECT {USER_COLUMNS} FROM users u LEFT JOIN tenants t ON t.id = u.tenant_id \
         WHERE lower(u.email) = lower($1)"
    );
    let row: Option<UserRow> =
        sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(email.trim()).fetch_optional(db).await?;
    let Some(row) = row else {
        // Spend the same effort as a real check so response time does not reveal emails.
        let _ = hash_password(password);
        return Ok(None);
    };
    if !verify_password(password, &row.password_hash) {
        return Ok(None);
    }
    let user_id = row.id;
    let Some(principal) = row.into_principal() else { return Ok(None) };

    let session = new_secret();
    let expires_at: DateTime<Utc> = Utc::now() + lifetime;
    sqlx::query("INSERT INTO sessions (id_hash, user_id, expires_at) VALUES ($1, $2, $3)")
        .bind(secret_hash(&session))
        .bind(user_id)
        .bind(expires_at)
        .execute(db)
        .await?;
    Ok(Some((session, principal)))
}

pub async fn session_principal(db: &PgPool, session: &str) -> Result<Option<Principal>, AuthError> {
    let sql = format!(
        "SELECT {USER_COLUMNS} FROM sessions s JOIN users u ON u.id = s.user_id \
         LEFT JOIN tenants t ON t.id = u.tenant_id \
         WHERE s.id_hash = $1 AND s.expires_at > now()"
    );
    let row: Option<UserRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(secret_hash(session))
        .fetch_optional(db)
        .await?;
    Ok(row.and_then(UserRow::into_principal))
}

pub async fn logout(db: &PgPool, session: &str) -> Result<(), AuthError> {
    sqlx::query("DELETE FROM sessions WHERE id_hash = $1 OR expires_at < now()")
        .bind(secret_hash(session))
        .execute(db)
        .await?;
    Ok(())
}

/// Creates an API token for a tenant and returns the secret, which is never stored.
pub async fn create_token(
    db: &PgPool,
    tenant_slug: &str,
    name: &str,
) -> Result<Option<String>, AuthError> {
    let token = format!("{TOKEN_PREFIX}{}", new_secret());
    let inserted = sqlx::query(
        "INSERT INTO api_tokens (id, tenant_id, name, token_hash) \
         SELECT $1, id, $3, $4 FROM tenants WHERE slug = $2",
    )
    .bind(Uuid::new_v4())
    .bind(tenant_slug)
    .bind(name)
    .bind(secret_hash(&token))
    .execute(db)
    .await?;
    Ok((inserted.rows_affected() == 1).then_some(token))
}

/// The scope of a bearer token: always exactly one tenant, acting as a customer.
pub async fn token_scope(db: &PgPool, token: &str) -> Result<Option<Scope>, AuthError> {
    let row: Option<(String, Uuid, String)> = sqlx::query_as(
        "UPDATE api_tokens k SET last_used_at = now() FROM tenants t \
         WHERE k.token_hash = $1 AND t.id = k.tenant_id \
         RETURNING k.name, t.id, t.slug",
    )
    .bind(secret_hash(token))
    .fetch_optional(db)
    .await?;
    Ok(row.map(|(name, id, slug)| Scope {
        tenant: Some(TenantRef { id, slug }),
        actor: format!("token:{name}"),
        role: Role::Customer,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_verifies_against_its_own_hash_only() {
        let hash = hash_password("correct horse").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &hash));
        assert!(!verify_password("wrong horse", &hash));
        assert!(!verify_password("correct horse", "not a hash"));
    }

    #[test]
    fn secrets_are_random_and_hashes_stable() {
        assert_ne!(new_secret(), new_secret());
        assert_eq!(secret_hash("abc"), secret_hash("abc"));
        assert_eq!(secret_hash("abc").len(), 64);
    }
}
