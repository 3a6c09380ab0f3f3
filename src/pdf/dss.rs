//! The Document Security Store (ISO 32000-2 §12.8.4.3, PAdES B-LT): certificates, OCSP
//! responses and CRLs in the catalog's `/DSS`, read back for validation and added as an
//! incremental update.

use super::file::{PdfFile, Revision};
use super::font::deflate;
use super::update::Update;
use super::PdfError;
use lopdf::{Dictionary, Object, Stream};
use std::io::{Read, Seek};

/// Most entries read from one DSS array.
const MAX_ENTRIES: usize = 10_000;
/// Largest single certificate, CRL or OCSP response read.
const MAX_ITEM_BYTES: usize = 16 << 20;

/// Validation data: DER certificates, OCSP responses and CRLs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dss {
    pub certs: Vec<Vec<u8>>,
    pub ocsps: Vec<Vec<u8>>,
    pub crls: Vec<Vec<u8>>,
}

impl Dss {
    /// Adds what `other` holds that this store lacks.
    pub fn merge(&mut self, other: &Dss) {
        for (mine, theirs) in [(&mut self.certs, &other.certs), (&mut self.ocsps, &other.ocsps), (&mut self.crls, &other.crls)] {
            for item in theirs {
                if !mine.contains(item) {
                    mine.push(item.clone());
                }
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.certs.is_empty() && self.ocsps.is_empty() && self.crls.is_empty()
    }
}

/// The DSS of a revision; empty when it has none. Entries that do not read are skipped.
pub fn read<R: Read + Seek>(rev: &Revision<R>) -> Dss {
    let mut dss = Dss::default();
    let Some(dict) = rev.catalog().ok().and_then(|(_, c)| c.get(b"DSS").ok().and_then(|d| rev.dictionary(d, "the DSS").ok())) else {
        return dss;
    };
    for (key, out) in [(&b"Certs"[..], &mut dss.certs), (b"OCSPs", &mut dss.ocsps), (b"CRLs", &mut dss.crls)] {
        let items = match dict.get(key).ok().and_then(|a| rev.resolve(a).ok()) {
            Some(Object::Array(a)) => a,
            _ => continue,
        };
        for item in items.iter().take(MAX_ENTRIES) {
            if let Ok(Object::Stream(s)) = rev.resolve(item) {
                if let Ok(data) = s.get_plain_content_with_limit(MAX_ITEM_BYTES) {
                    out.push(data);
                }
            }
        }
    }
    dss
}

/// The incremental update that adds `extra` to the DSS of the PDF in `source` (creating it
/// when there is none), to be appended to the file.
pub fn append<R: Read + Seek>(source: R, extra: &Dss) -> Result<Vec<u8>, PdfError> {
    let file = PdfFile::open(source)?;
    let rev = file.latest()?;
    let (root_id, mut catalog) = rev.catalog()?;
    let existing = read(&rev);
    let old = catalog.get(b"DSS").ok().and_then(|d| rev.dictionary(d, "the DSS").ok()).unwrap_or_default();
    let mut update = Update::new(&rev)?;
    let mut dict = old.clone();
    dict.set("Type", Object::Name(b"DSS".to_vec()));
    let lists = [("Certs", &existing.certs, &extra.certs), ("OCSPs", &existing.ocsps, &extra.ocsps), ("CRLs", &existing.crls, &extra.crls)];
    for (key, had, items) in lists {
        // What the store already holds stays where it is; only new items are written.
        let mut refs = match old.get(key.as_bytes()).ok().map(|a| rev.resolve(a)) {
            Some(Ok(Object::Array(a))) => a,
            _ => Vec::new(),
        };
        let mut added: Vec<&Vec<u8>> = Vec::new();
        for item in items.iter().filter(|i| !had.contains(i)) {
            if !added.contains(&item) {
                added.push(item);
            }
        }
        if refs.is_empty() && added.is_empty() {
            continue;
        }
        for item in added {
            let id = update.alloc();
            let mut stream_dict = Dictionary::new();
            stream_dict.set("Filter", Object::Name(b"FlateDecode".to_vec()));
            update.put(id, &Object::Stream(Stream::new(stream_dict, deflate(item))));
            refs.push(Object::Reference(id));
        }
        dict.set(key, Object::Array(refs));
    }
    let dss_id = update.alloc();
    update.put(dss_id, &Object::Dictionary(dict));
    catalog.set("DSS", Object::Reference(dss_id));
    // ISO 32000-1 extension for PAdES validation data (ETSI EN 319 142-1 §5.4.2).
    let mut extensions = match catalog.get(b"Extensions").ok().map(|e| rev.resolve(e)) {
        Some(Ok(Object::Dictionary(d))) => d,
        _ => Dictionary::new(),
    };
    if !extensions.has(b"ESIC") {
        let esic = Dictionary::from_iter([("BaseVersion", Object::Name(b"1.7".to_vec())), ("ExtensionLevel", Object::Integer(5))]);
        extensions.set("ESIC", Object::Dictionary(esic));
        catalog.set("Extensions", Object::Dictionary(extensions));
    }
    update.put(root_id, &Object::Dictionary(catalog));
    Ok(update.finish().bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merging_keeps_each_item_once() {
        let mut a = Dss { certs: vec![vec![1], vec![2]], ..Default::default() };
        a.merge(&Dss { certs: vec![vec![2], vec![3]], crls: vec![vec![9]], ..Default::default() });
        assert_eq!(a.certs, vec![vec![1], vec![2], vec![3]]);
        assert_eq!(a.crls, vec![vec![9]]);
        assert!(!a.is_empty());
    }
}
