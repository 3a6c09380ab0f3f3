use crate::domain::{AgencyCode, ParseError, ProcedureCode};
use serde::Serialize;
use std::collections::BTreeMap;

/// Document type identifier: lower-case ASCII letters, digits and `_`, e.g. `birth_certificate`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DocTypeId(String);

impl DocTypeId {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let ok = !s.is_empty()
            && s.len() <= 48
            && s.as_bytes()[0].is_ascii_lowercase()
            && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if ok {
            Ok(DocTypeId(s.to_owned()))
        } else {
            Err(ParseError {
                kind: "document type id",
                value: s.chars().take(64).collect(),
                reason: "use lower-case letters, digits and '_', starting with a letter",
            })
        }
    }
}

crate::domain::string_newtype!(DocTypeId);

/// How long a document stays valid for reuse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validity {
    Permanent,
    /// Valid for this many months from the issue date.
    MonthsFromIssue(u32),
    /// Valid until the expiry date printed on it.
    UntilExpiry,
    /// Valid until a newer document of the same type replaces it.
    UntilSuperseded,
    /// The document itself states its validity (a permit, a decision).
    PerDocument,
}

impl Validity {
    /// Parses `permanent`, `6 months`, `until_expiry`, `until_superseded`, `per_document`.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "permanent" => Validity::Permanent,
            "until_expiry" => Validity::UntilExpiry,
            "until_superseded" => Validity::UntilSuperseded,
            "per_document" => Validity::PerDocument,
            other => {
                let n = other.strip_suffix(" months").or_else(|| other.strip_suffix(" month"))?;
                let n: u32 = n.parse().ok()?;
                if n == 0 || n > 1200 {
                    return None;
                }
                Validity::MonthsFromIssue(n)
            }
        })
    }
}

impl std::fmt::Display for Validity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Validity::Permanent => f.write_str("permanent"),
            Validity::MonthsFromIssue(n) => write!(f, "{n} months"),
            Validity::UntilExpiry => f.write_str("until_expiry"),
            Validity::UntilSuperseded => f.write_str("until_superseded"),
            Validity::PerDocument => f.write_str("per_document"),
        }
    }
}

impl Serialize for Validity {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Fields the extractors know how to find; document types pick from these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    OwnerId,
    FullName,
    DateOfBirth,
    IssueDate,
    ExpiryDate,
    DocumentNumber,
    IssuingAgency,
    EnterpriseCode,
    EnterpriseName,
    Address,
}

impl Field {
    pub const ALL: [Field; 10] = [
        Field::OwnerId,
        Field::FullName,
        Field::DateOfBirth,
        Field::IssueDate,
        Field::ExpiryDate,
        Field::DocumentNumber,
        Field::IssuingAgency,
        Field::EnterpriseCode,
        Field::EnterpriseName,
        Field::Address,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Field::OwnerId => "owner_id",
            Field::FullName => "full_name",
            Field::DateOfBirth => "date_of_birth",
            Field::IssueDate => "issue_date",
            Field::ExpiryDate => "expiry_date",
            Field::DocumentNumber => "document_number",
            Field::IssuingAgency => "issuing_agency",
            Field::EnterpriseCode => "enterprise_code",
            Field::EnterpriseName => "enterprise_name",
            Field::Address => "address",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Field::ALL.into_iter().find(|f| f.name() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Central,
    Province,
    District,
    Commune,
}

impl Level {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "central" => Level::Central,
            "province" => Level::Province,
            "district" => Level::District,
            "commune" => Level::Commune,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Agency {
    pub code: AgencyCode,
    pub name: String,
    pub level: Level,
}

#[derive(Debug, Clone, Serialize)]
pub struct DocType {
    pub id: DocTypeId,
    /// Printed titles, the first being the usual one.
    pub titles: Vec<String>,
    /// Words a title of this type begins with, whatever follows ("TỜ KHAI" for an
    /// application form, whatever it applies for): what follows is the document's subject.
    pub title_prefixes: Vec<String>,
    pub keywords: Vec<String>,
    pub negative_keywords: Vec<String>,
    /// Regular expressions that support this type when they match the text.
    pub patterns: Vec<String>,
    pub fields: Vec<Field>,
    pub validity: Validity,
    pub reusable: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Component {
    pub id: String,
    pub name: String,
    /// Document types that satisfy this component.
    pub doc_types: Vec<DocTypeId>,
    pub required: bool,
    /// When the component is needed only in some cases, the case in words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
    /// Whether an existing record may satisfy it instead of a new scan.
    pub reuse: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Procedure {
    pub code: ProcedureCode,
    /// Short stable name, e.g. `birth-registration`.
    pub slug: String,
    pub name: String,
    pub level: Level,
    pub processing_days: u32,
    pub result: DocTypeId,
    pub components: Vec<Component>,
}

impl Procedure {
    pub fn component(&self, id: &str) -> Option<&Component> {
        self.components.iter().find(|c| c.id == id)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SigningKind {
    /// The agency's seal on digitized copies.
    Seal,
    /// An official's visible signature on results.
    Official,
}

#[derive(Debug, Clone, Serialize)]
pub struct SigningProfile {
    pub id: String,
    pub kind: SigningKind,
    pub reason: String,
    /// `B-B` or `B-T`.
    pub level: String,
    pub visible: bool,
    /// Where the appearance goes, e.g. `top-right`.
    pub placement: String,
    pub font: String,
    pub font_size: f32,
}

#[derive(Debug, Clone, Serialize)]
pub struct Retention {
    pub doc_type: DocTypeId,
    /// Years to keep; `None` keeps forever.
    pub years: Option<u32>,
}

/// Limits of the scan quality gate: a page beyond any of them is reported, and the desk is
/// advised to scan it again. The defaults are those of `policies/scan-quality.toml`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ScanQuality {
    /// Lowest resolution accepted, in dots per inch.
    pub min_dpi: f32,
    /// Widest edge blur accepted (radius of a Gaussian blur), in millimetres.
    pub max_blur_mm: f32,
    /// Largest lean of the text lines accepted, in degrees.
    pub max_skew_degrees: f32,
    /// A page with a smaller share of marks than this is blank.
    pub min_marks: f32,
    /// Darkest paper accepted (0-255).
    pub min_paper: f32,
    /// Least contrast between marks and paper accepted (0-255).
    pub min_contrast: f32,
    /// Pieces of letters cut by one edge that are tolerated; one more and the text is cut.
    pub max_cut_marks: u32,
    /// Pages of one upload measured at most; later pages are left to recognition.
    pub max_pages: u32,
}

impl Default for ScanQuality {
    fn default() -> Self {
        ScanQuality {
            min_dpi: 140.0,
            max_blur_mm: 0.2,
            max_skew_degrees: 6.0,
            min_marks: 0.014,
            min_paper: 120.0,
            min_contrast: 70.0,
            max_cut_marks: 0,
            max_pages: 30,
        }
    }
}

/// The whole checked policy catalog; cheap to share behind an `Arc`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Catalog {
    pub agencies: BTreeMap<AgencyCode, Agency>,
    pub doc_types: BTreeMap<DocTypeId, DocType>,
    pub procedures: BTreeMap<ProcedureCode, Procedure>,
    pub signing_profiles: BTreeMap<String, SigningProfile>,
    pub retention: BTreeMap<DocTypeId, Retention>,
    /// The scan quality gate's limits (`[scan_quality]`; built-in defaults without one).
    pub scan_quality: ScanQuality,
}

impl Catalog {
    /// Finds a procedure by its national code or its slug.
    pub fn procedure(&self, key: &str) -> Option<&Procedure> {
        match ProcedureCode::parse(key) {
            Ok(code) => self.procedures.get(&code),
            Err(_) => self.procedures.values().find(|p| p.slug == key),
        }
    }

    pub fn doc_type(&self, id: &str) -> Option<&DocType> {
        DocTypeId::parse(id).ok().and_then(|id| self.doc_types.get(&id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validity_round_trips() {
        for s in ["permanent", "6 months", "until_expiry", "until_superseded", "per_document"] {
            assert_eq!(Validity::parse(s).unwrap().to_string(), s);
        }
        for bad in ["", "0 months", "six months", "forever", "-1 months"] {
            assert!(Validity::parse(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn doc_type_ids_are_slugs() {
        assert!(DocTypeId::parse("birth_certificate").is_ok());
        for bad in ["", "Birth", "1abc", "birth-certificate", "giấy"] {
            assert!(DocTypeId::parse(bad).is_err(), "{bad:?}");
        }
    }
}
