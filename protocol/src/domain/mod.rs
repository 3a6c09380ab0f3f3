//! Identifiers and values that parse (once built, they are valid): what the service and its
//! workers both read, and what the service's entities are keyed by.

mod agency;
mod citizen;
mod digest;
mod dossier;
mod enterprise;
mod procedure;

pub use agency::AgencyCode;
pub use citizen::{CitizenId, CitizenIdKind, Sex};
pub use digest::Digest;
pub use dossier::DossierCode;
pub use enterprise::EnterpriseCode;
pub use procedure::ProcedureCode;

/// Why a value did not parse; `kind` names the type, `reason` says what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {kind} {value:?}: {reason}")]
pub struct ParseError {
    pub kind: &'static str,
    pub value: String,
    pub reason: &'static str,
}

impl ParseError {
    fn new(kind: &'static str, value: &str, reason: &'static str) -> Self {
        // Keep errors short even for hostile input.
        let value: String = value.chars().take(64).collect();
        ParseError { kind, value, reason }
    }
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Implements Display, FromStr, AsRef<str> and string serde for a newtype over `String`
/// whose `parse` constructor is the only way in.
macro_rules! string_newtype {
    ($ty:ident) => {
        impl $ty {
            /// The canonical text form.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl std::str::FromStr for $ty {
            type Err = $crate::domain::ParseError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $ty::parse(s)
            }
        }
        impl AsRef<str> for $ty {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }
        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                $ty::parse(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}
pub(crate) use string_newtype;

/// Characters that hide or reorder what a reader sees: C0 and C1 controls other than tab,
/// line feed and carriage return, DEL, and the bidirectional embeddings, overrides and
/// isolates (U+202A–U+202E, U+2066–U+2069).
pub fn hidden_character(text: &str) -> Option<char> {
    text.chars().find(|&c| {
        (c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
            || ('\u{202A}'..='\u{202E}').contains(&c)
            || ('\u{2066}'..='\u{2069}').contains(&c)
    })
}
