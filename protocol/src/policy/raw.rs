//! The catalog as written in TOML, every value optional and spanned so that one pass can
//! report every problem with its line.

use serde::Deserialize;
use toml::Spanned;

pub type Opt<T> = Option<Spanned<T>>;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFile {
    #[serde(default)]
    pub agency: Vec<Spanned<RawAgency>>,
    #[serde(default)]
    pub doc_type: Vec<Spanned<RawDocType>>,
    #[serde(default)]
    pub procedure: Vec<Spanned<RawProcedure>>,
    #[serde(default)]
    pub signing_profile: Vec<Spanned<RawSigningProfile>>,
    #[serde(default)]
    pub retention: Vec<Spanned<RawRetention>>,
    pub scan_quality: Option<Spanned<RawScanQuality>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAgency {
    pub code: Opt<String>,
    pub name: Opt<String>,
    pub level: Opt<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDocType {
    pub id: Opt<String>,
    pub titles: Opt<Vec<String>>,
    #[serde(default)]
    pub title_prefixes: Vec<String>,
    #[serde(default)]
    pub keywords: Vec<String>,
    #[serde(default)]
    pub negative_keywords: Vec<String>,
    #[serde(default)]
    pub patterns: Vec<Spanned<String>>,
    pub fields: Opt<Vec<Spanned<String>>>,
    pub validity: Opt<String>,
    pub reusable: Opt<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawProcedure {
    pub code: Opt<String>,
    pub slug: Opt<String>,
    pub name: Opt<String>,
    pub level: Opt<String>,
    pub processing_days: Opt<i64>,
    pub result: Opt<String>,
    #[serde(default)]
    pub component: Vec<Spanned<RawComponent>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawComponent {
    pub id: Opt<String>,
    pub name: Opt<String>,
    pub doc_types: Opt<Vec<Spanned<String>>>,
    pub required: Opt<bool>,
    pub condition: Option<String>,
    #[serde(default)]
    pub reuse: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSigningProfile {
    pub id: Opt<String>,
    pub kind: Opt<String>,
    pub reason: Opt<String>,
    pub level: Opt<String>,
    #[serde(default)]
    pub visible: bool,
    pub placement: Opt<String>,
    pub font: Opt<String>,
    pub font_size: Opt<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRetention {
    pub doc_type: Opt<String>,
    /// `permanent` or `N years`.
    pub keep: Opt<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScanQuality {
    pub min_dpi: Opt<f64>,
    pub max_blur_mm: Opt<f64>,
    pub max_skew_degrees: Opt<f64>,
    pub min_marks: Opt<f64>,
    pub min_paper: Opt<f64>,
    pub min_contrast: Opt<f64>,
    pub max_cut_marks: Opt<i64>,
    pub max_pages: Opt<i64>,
}
