//! Loading and checking: every problem in every file is collected before giving up.

use super::model::*;
use super::raw::*;
use crate::domain::{AgencyCode, ProcedureCode};
use std::collections::HashSet;
use std::ops::Range;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// One problem in the catalog, located by file and line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: PathBuf,
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.file.display(), self.line, self.message)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("cannot read policy directory {dir}: {source}")]
    Unreadable { dir: PathBuf, source: std::io::Error },
    #[error("{} problem(s) in the policy catalog:\n{}", .0.len(), report(.0))]
    Invalid(Vec<Problem>),
}

fn report(problems: &[Problem]) -> String {
    problems.iter().map(|p| format!("  {p}")).collect::<Vec<_>>().join("\n")
}

/// Reads every `*.toml` in `dir` (sorted by name) and checks the whole catalog.
pub fn load(dir: &Path) -> Result<Catalog, CatalogError> {
    let unreadable = |source| CatalogError::Unreadable { dir: dir.to_owned(), source };
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(unreadable)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    paths.sort();
    let mut sources = Vec::new();
    for path in paths {
        let text = std::fs::read_to_string(&path).map_err(unreadable)?;
        sources.push((path, text));
    }
    check(&sources)
}

/// Checks catalog sources given as (file name, text) pairs.
pub fn check(sources: &[(PathBuf, String)]) -> Result<Catalog, CatalogError> {
    let mut problems = Vec::new();
    let mut files = Vec::new();
    for (path, text) in sources {
        match toml::from_str::<RawFile>(text) {
            Ok(raw) => files.push((Located { file: path, text, problems: Vec::new() }, raw)),
            Err(e) => {
                let line = e.span().map_or(1, |s| line_of(text, s.start));
                problems.push(Problem { file: path.clone(), line, message: e.message().to_owned() });
            }
        }
    }
    if files.is_empty() && problems.is_empty() {
        problems.push(Problem { file: PathBuf::from("."), line: 0, message: "no policy files (*.toml) found".into() });
    }

    let mut catalog = Catalog::default();
    // Ids seen so far, valid or not, so a duplicate of an invalid item is still reported.
    let mut seen = HashSet::new();
    // Document types first: everything else refers to them.
    for (loc, raw) in &mut files {
        for item in std::mem::take(&mut raw.doc_type) {
            loc.doc_type(item, &mut catalog, &mut seen);
        }
    }
    for (loc, raw) in &mut files {
        for item in std::mem::take(&mut raw.agency) {
            loc.agency(item, &mut catalog);
        }
        for item in std::mem::take(&mut raw.procedure) {
            loc.procedure(item, &mut catalog, &mut seen);
        }
        for item in std::mem::take(&mut raw.signing_profile) {
            loc.signing_profile(item, &mut catalog);
        }
        for item in std::mem::take(&mut raw.retention) {
            loc.retention(item, &mut catalog);
        }
        if let Some(item) = raw.scan_quality.take() {
            if !seen.insert("scan_quality".into()) {
                loc.problem(item.span(), "duplicate [scan_quality] table");
            } else {
                loc.scan_quality(item, &mut catalog);
            }
        }
    }
    for (loc, _) in files {
        problems.extend(loc.problems);
    }
    if catalog.agencies.is_empty() && problems.is_empty() {
        problems.push(Problem { file: PathBuf::from("."), line: 0, message: "the catalog names no agency".into() });
    }
    if problems.is_empty() {
        Ok(catalog)
    } else {
        problems.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
        Err(CatalogError::Invalid(problems))
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())].iter().filter(|&&b| b == b'\n').count() + 1
}

/// One file being checked: turns spans into lines and collects problems.
struct Located<'a> {
    file: &'a Path,
    text: &'a str,
    problems: Vec<Problem>,
}

impl Located<'_> {
    fn problem(&mut self, span: Range<usize>, message: impl Into<String>) {
        let line = line_of(self.text, span.start);
        self.problems.push(Problem { file: self.file.to_owned(), line, message: message.into() });
    }

    /// A required value, or a "missing field" problem at the item's line.
    fn required<T>(&mut self, value: Opt<T>, item: &Range<usize>, what: &str, field: &str) -> Option<Spanned<T>> {
        if value.is_none() {
            self.problem(item.clone(), format!("{what}: missing field `{field}`"));
        }
        value
    }

    fn doc_type_ref(&mut self, catalog: &Catalog, id: &Spanned<String>, what: &str) -> Option<DocTypeId> {
        match DocTypeId::parse(id.get_ref()).ok().filter(|d| catalog.doc_types.contains_key(d)) {
            Some(d) => Some(d),
            None => {
                self.problem(id.span(), format!("{what}: unknown document type `{}`", id.get_ref()));
                None
            }
        }
    }

    /// `[scan_quality]`: each limit optional (the default stands), each within its range.
    fn scan_quality(&mut self, item: Spanned<RawScanQuality>, catalog: &mut Catalog) {
        let raw = item.into_inner();
        let mut q = ScanQuality::default();
        let mut number = |value: Opt<f64>, name: &str, range: std::ops::RangeInclusive<f64>, into: &mut f32| {
            if let Some(v) = value {
                if range.contains(v.get_ref()) {
                    *into = *v.get_ref() as f32;
                } else {
                    self.problem(v.span(), format!("scan_quality: {name} must be {} to {}", range.start(), range.end()));
                }
            }
        };
        number(raw.min_dpi, "min_dpi", 0.0..=1200.0, &mut q.min_dpi);
        number(raw.max_blur_mm, "max_blur_mm", 0.0..=10.0, &mut q.max_blur_mm);
        number(raw.max_skew_degrees, "max_skew_degrees", 0.0..=45.0, &mut q.max_skew_degrees);
        number(raw.min_marks, "min_marks", 0.0..=1.0, &mut q.min_marks);
        number(raw.min_paper, "min_paper", 0.0..=255.0, &mut q.min_paper);
        number(raw.min_contrast, "min_contrast", 0.0..=255.0, &mut q.min_contrast);
        let mut count = |value: Opt<i64>, name: &str, range: std::ops::RangeInclusive<i64>, into: &mut u32| {
            if let Some(v) = value {
                if range.contains(v.get_ref()) {
                    *into = *v.get_ref() as u32;
                } else {
                    self.problem(v.span(), format!("scan_quality: {name} must be {} to {}", range.start(), range.end()));
                }
            }
        };
        count(raw.max_cut_marks, "max_cut_marks", 0..=10_000, &mut q.max_cut_marks);
        count(raw.max_pages, "max_pages", 0..=10_000, &mut q.max_pages);
        catalog.scan_quality = q;
    }

    fn level(&mut self, level: Spanned<String>, what: &str) -> Option<Level> {
        let parsed = Level::parse(level.get_ref());
        if parsed.is_none() {
            self.problem(level.span(), format!("{what}: level must be central, province, district or commune"));
        }
        parsed
    }

    fn doc_type(&mut self, item: Spanned<RawDocType>, catalog: &mut Catalog, seen: &mut HashSet<String>) {
        let span = item.span();
        let raw = item.into_inner();
        let Some(id) = self.required(raw.id, &span, "document type", "id") else { return };
        let what = format!("document type `{}`", id.get_ref());
        let titles = self.required(raw.titles, &span, &what, "titles");
        let fields = self.required(raw.fields, &span, &what, "fields");
        let validity = self.required(raw.validity, &span, &what, "validity");
        let reusable = self.required(raw.reusable, &span, &what, "reusable");

        let parsed_id = match DocTypeId::parse(id.get_ref()) {
            Ok(d) => Some(d),
            Err(e) => {
                self.problem(id.span(), e.to_string());
                None
            }
        };
        if let Some(t) = &titles {
            if t.get_ref().is_empty() || t.get_ref().iter().any(|s| s.trim().is_empty()) {
                self.problem(t.span(), format!("{what}: titles must be non-empty"));
            }
        }
        if raw.title_prefixes.iter().any(|p| p.trim().is_empty()) {
            self.problem(span.clone(), format!("{what}: title_prefixes must be non-empty"));
        }
        for p in &raw.patterns {
            if let Err(e) = regex::Regex::new(p.get_ref()) {
                let first = e.to_string().lines().last().unwrap_or_default().trim().to_owned();
                self.problem(p.span(), format!("{what}: bad pattern `{}`: {first}", p.get_ref()));
            }
        }
        let mut parsed_fields = Vec::new();
        for f in fields.iter().flat_map(|f| f.get_ref()) {
            match Field::parse(f.get_ref()) {
                Some(field) => parsed_fields.push(field),
                None => {
                    let known: Vec<_> = Field::ALL.iter().map(|f| f.name()).collect();
                    self.problem(f.span(), format!("{what}: unknown field `{}` (known: {})", f.get_ref(), known.join(", ")));
                }
            }
        }
        let parsed_validity = validity.as_ref().and_then(|v| {
            let parsed = Validity::parse(v.get_ref());
            if parsed.is_none() {
                self.problem(
                    v.span(),
                    format!(
                        "{what}: validity `{}` is not permanent, N months, until_expiry, until_superseded or per_document",
                        v.get_ref()
                    ),
                );
            }
            parsed
        });
        let Some(parsed_id) = parsed_id else { return };
        if !seen.insert(format!("doc_type {parsed_id}")) {
            self.problem(id.span(), format!("duplicate document type id `{parsed_id}`"));
            return;
        }
        let (Some(titles), Some(_), Some(validity), Some(reusable)) = (titles, fields, parsed_validity, reusable) else {
            return;
        };
        catalog.doc_types.insert(
            parsed_id.clone(),
            DocType {
                id: parsed_id,
                titles: titles.into_inner(),
                title_prefixes: raw.title_prefixes,
                keywords: raw.keywords,
                negative_keywords: raw.negative_keywords,
                patterns: raw.patterns.into_iter().map(Spanned::into_inner).collect(),
                fields: parsed_fields,
                validity,
                reusable: reusable.into_inner(),
            },
        );
    }

    fn agency(&mut self, item: Spanned<RawAgency>, catalog: &mut Catalog) {
        let span = item.span();
        let raw = item.into_inner();
        let Some(code) = self.required(raw.code, &span, "agency", "code") else { return };
        let what = format!("agency `{}`", code.get_ref());
        let name = self.required(raw.name, &span, &what, "name");
        let level = self.required(raw.level, &span, &what, "level").and_then(|l| self.level(l, &what));
        let parsed = match AgencyCode::parse(code.get_ref()) {
            Ok(c) => c,
            Err(e) => return self.problem(code.span(), e.to_string()),
        };
        if catalog.agencies.contains_key(&parsed) {
            return self.problem(code.span(), format!("duplicate agency code `{parsed}`"));
        }
        if let (Some(name), Some(level)) = (name, level) {
            catalog.agencies.insert(parsed.clone(), Agency { code: parsed, name: name.into_inner(), level });
        }
    }

    fn procedure(&mut self, item: Spanned<RawProcedure>, catalog: &mut Catalog, seen: &mut HashSet<String>) {
        let span = item.span();
        let raw = item.into_inner();
        let Some(code) = self.required(raw.code, &span, "procedure", "code") else { return };
        let what = format!("procedure `{}`", code.get_ref());
        let slug = self.required(raw.slug, &span, &what, "slug");
        let name = self.required(raw.name, &span, &what, "name");
        let level = self.required(raw.level, &span, &what, "level").and_then(|l| self.level(l, &what));
        let days = self.required(raw.processing_days, &span, &what, "processing_days");
        let result = self.required(raw.result, &span, &what, "result").and_then(|r| self.doc_type_ref(catalog, &r, &what));
        let parsed = match ProcedureCode::parse(code.get_ref()) {
            Ok(c) => Some(c),
            Err(e) => {
                self.problem(code.span(), e.to_string());
                None
            }
        };
        if let Some(s) = &slug {
            let ok = !s.get_ref().is_empty() && s.get_ref().bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            if !ok {
                self.problem(s.span(), format!("{what}: slug must be lower-case letters, digits and '-'"));
            } else if catalog.procedures.values().any(|p| &p.slug == s.get_ref()) {
                self.problem(s.span(), format!("duplicate procedure slug `{}`", s.get_ref()));
            }
        }
        let days = days.and_then(|d| {
            let ok = (1..=365).contains(d.get_ref());
            if !ok {
                self.problem(d.span(), format!("{what}: processing_days must be 1 to 365"));
            }
            ok.then(|| *d.get_ref() as u32)
        });
        if raw.component.is_empty() {
            self.problem(span.clone(), format!("{what}: no components"));
        }
        let mut components = Vec::new();
        let mut component_ids = HashSet::new();
        for c in raw.component {
            if let Some(c) = self.component(c, catalog, &what) {
                if !component_ids.insert(c.id.clone()) {
                    self.problem(span.clone(), format!("{what}: duplicate component id `{}`", c.id));
                }
                components.push(c);
            }
        }
        let Some(parsed) = parsed else { return };
        if !seen.insert(format!("procedure {parsed}")) {
            return self.problem(code.span(), format!("duplicate procedure code `{parsed}`"));
        }
        if let (Some(slug), Some(name), Some(level), Some(days), Some(result)) = (slug, name, level, days, result) {
            let procedure = Procedure {
                code: parsed.clone(),
                slug: slug.into_inner(),
                name: name.into_inner(),
                level,
                processing_days: days,
                result,
                components,
            };
            catalog.procedures.insert(parsed, procedure);
        }
    }

    fn component(&mut self, item: Spanned<RawComponent>, catalog: &Catalog, procedure: &str) -> Option<Component> {
        let span = item.span();
        let raw = item.into_inner();
        let what = format!("{procedure} component");
        let id = self.required(raw.id, &span, &what, "id")?;
        let what = format!("{procedure} component `{}`", id.get_ref());
        let name = self.required(raw.name, &span, &what, "name");
        let doc_types = self.required(raw.doc_types, &span, &what, "doc_types");
        let required = self.required(raw.required, &span, &what, "required");
        let valid_id = !id.get_ref().is_empty() && id.get_ref().bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !valid_id {
            self.problem(id.span(), format!("{what}: id must be lower-case letters, digits and '_'"));
        }
        let mut types = Vec::new();
        for d in doc_types.iter().flat_map(|d| d.get_ref()) {
            types.extend(self.doc_type_ref(catalog, d, &what));
        }
        if let Some(d) = &doc_types {
            if d.get_ref().is_empty() {
                self.problem(d.span(), format!("{what}: doc_types is empty"));
            }
        }
        if raw.reuse && types.iter().any(|t| catalog.doc_types.get(t).is_some_and(|d| !d.reusable)) {
            self.problem(span.clone(), format!("{what}: reuse is allowed but a listed document type is not reusable"));
        }
        let (name, doc_types, required) = (name?, doc_types?, required?);
        if !valid_id || types.len() != doc_types.get_ref().len() || types.is_empty() {
            return None;
        }
        Some(Component {
            id: id.into_inner(),
            name: name.into_inner(),
            doc_types: types,
            required: required.into_inner(),
            condition: raw.condition,
            reuse: raw.reuse,
        })
    }

    fn signing_profile(&mut self, item: Spanned<RawSigningProfile>, catalog: &mut Catalog) {
        let span = item.span();
        let raw = item.into_inner();
        let Some(id) = self.required(raw.id, &span, "signing profile", "id") else { return };
        let what = format!("signing profile `{}`", id.get_ref());
        let kind = self.required(raw.kind, &span, &what, "kind");
        let reason = self.required(raw.reason, &span, &what, "reason");
        let level = self.required(raw.level, &span, &what, "level");
        let placement = self.required(raw.placement, &span, &what, "placement");
        let font = self.required(raw.font, &span, &what, "font");
        let font_size = self.required(raw.font_size, &span, &what, "font_size");
        let kind = kind.and_then(|k| match k.get_ref().as_str() {
            "seal" => Some(SigningKind::Seal),
            "official" => Some(SigningKind::Official),
            _ => {
                self.problem(k.span(), format!("{what}: kind must be seal or official"));
                None
            }
        });
        if let Some(l) = &level {
            if !matches!(l.get_ref().as_str(), "B-B" | "B-T") {
                self.problem(l.span(), format!("{what}: level must be B-B or B-T"));
            }
        }
        if let Some(s) = &font_size {
            if !(4.0..=72.0).contains(s.get_ref()) {
                self.problem(s.span(), format!("{what}: font_size must be 4 to 72"));
            }
        }
        if catalog.signing_profiles.contains_key(id.get_ref()) {
            return self.problem(id.span(), format!("duplicate signing profile id `{}`", id.get_ref()));
        }
        if let (Some(kind), Some(reason), Some(level), Some(placement), Some(font), Some(size)) =
            (kind, reason, level, placement, font, font_size)
        {
            let profile = SigningProfile {
                id: id.get_ref().clone(),
                kind,
                reason: reason.into_inner(),
                level: level.into_inner(),
                visible: raw.visible,
                placement: placement.into_inner(),
                font: font.into_inner(),
                font_size: *size.get_ref() as f32,
            };
            catalog.signing_profiles.insert(id.into_inner(), profile);
        }
    }

    fn retention(&mut self, item: Spanned<RawRetention>, catalog: &mut Catalog) {
        let span = item.span();
        let raw = item.into_inner();
        let Some(doc_type) = self.required(raw.doc_type, &span, "retention", "doc_type") else { return };
        let what = format!("retention of `{}`", doc_type.get_ref());
        let keep = self.required(raw.keep, &span, &what, "keep");
        let doc = self.doc_type_ref(catalog, &doc_type, &what);
        let years = keep.and_then(|k| {
            let parsed = match k.get_ref().as_str() {
                "permanent" => Some(None),
                other => other.strip_suffix(" years").and_then(|n| n.parse::<u32>().ok()).filter(|n| (1..=500).contains(n)).map(Some),
            };
            if parsed.is_none() {
                self.problem(k.span(), format!("{what}: keep must be `permanent` or `N years`"));
            }
            parsed
        });
        let (Some(doc), Some(years)) = (doc, years) else { return };
        if catalog.retention.contains_key(&doc) {
            return self.problem(doc_type.span(), format!("duplicate retention rule for `{doc}`"));
        }
        catalog.retention.insert(doc.clone(), Retention { doc_type: doc, years });
    }
}
