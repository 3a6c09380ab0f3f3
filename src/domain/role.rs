use serde::{Deserialize, Serialize};

/// What a token may do; each token has exactly one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Scanner,
    Signer,
    Consumer,
    Auditor,
    Worker,
    /// Runs the installation: claims and manages every agency's jobs, reads fixity and the
    /// whole audit log; reaches no agency's dossiers or records.
    Operator,
}

impl Role {
    pub const ALL: [Role; 7] = [Role::Admin, Role::Scanner, Role::Signer, Role::Consumer, Role::Auditor, Role::Worker, Role::Operator];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Scanner => "scanner",
            Role::Signer => "signer",
            Role::Consumer => "consumer",
            Role::Auditor => "auditor",
            Role::Worker => "worker",
            Role::Operator => "operator",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
