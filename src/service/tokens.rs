//! Bearer tokens: issued with a secret shown once (only its SHA-256 is kept), looked up by
//! the secret a request carries, listed, revoked; and the audit log they leave.

use super::Result;
use crate::domain::access::{Scope, TokenInfo, TokenListing};
use crate::domain::audit::{AuditEntry, AuditFilter, AuditRecord};
use crate::domain::{AgencyCode, Digest, Role};
use crate::index::{Index, IndexError};
use ring::rand::{SecureRandom, SystemRandom};

/// Makes a new random token secret.
fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    SystemRandom::new().fill(&mut bytes).expect("the system random generator works");
    format!("sohoa_{}", hex::encode(bytes))
}

fn hash(secret: &str) -> Digest {
    Digest::of(secret.as_bytes())
}

/// Creates a token in the index and returns its secret, which is shown once and never stored.
pub async fn issue_token(index: &dyn Index, role: Role, agency: &AgencyCode, label: &str) -> Result<(i64, String), IndexError> {
    issue_scoped_token(index, role, agency, label, &Scope::default()).await
}

/// As [`issue_token`], with what a consumer may read beyond its own agency.
pub async fn issue_scoped_token(
    index: &dyn Index,
    role: Role,
    agency: &AgencyCode,
    label: &str,
    scope: &Scope,
) -> Result<(i64, String), IndexError> {
    let secret = new_secret();
    let id = index.create_token(role, agency, label, scope, hash(&secret).as_str()).await?;
    Ok((id, secret))
}

pub struct Tokens<'a> {
    pub index: &'a dyn Index,
}

impl Tokens<'_> {
    /// The token whose secret a request carries; None when unknown or revoked.
    pub async fn by_secret(&self, secret: &str) -> Result<Option<TokenInfo>> {
        Ok(self.index.token_by_hash(hash(secret).as_str()).await?)
    }

    /// Issues a token of `agency`, audited: (id, secret).
    pub async fn create(&self, role: Role, agency: &AgencyCode, label: &str, scope: &Scope, audit: AuditEntry) -> Result<(i64, String)> {
        let secret = new_secret();
        let id = self.index.create_token_audited(role, agency, label, scope, hash(&secret).as_str(), audit).await?;
        Ok((id, secret))
    }

    /// Tokens of `agency` (every agency's when None), of `role` when given.
    pub async fn list(&self, agency: Option<&AgencyCode>, role: Option<Role>) -> Result<Vec<TokenListing>> {
        Ok(self.index.list_tokens(agency, role).await?)
    }

    /// Revokes token `id` of `agency`; None when the agency has no such token.
    pub async fn revoke(&self, id: i64, agency: &AgencyCode, audit: AuditEntry) -> Result<Option<TokenListing>> {
        Ok(self.index.revoke_agency_token(id, agency, audit).await?)
    }

    pub async fn audit_log(&self, filter: &AuditFilter) -> Result<Vec<AuditRecord>> {
        Ok(self.index.search_audit(filter).await?)
    }
}
