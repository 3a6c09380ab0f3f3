//! Accepting a worker's recognition: the searchable copy is assembled here, from the stored
//! scan, and stored beside the words; the scan's result names both and who produced them.

use super::{assemble, CustodyError, EngineInfo, PageText, Recognition};
use crate::archive::{Archive, ArchiveError};
use crate::domain::Digest;
use crate::intake::MediaLimits;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sohoa_protocol::job::Completion;

/// The token a result came from, as the service knows it (never as the worker says).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WorkerIdentity {
    pub token: i64,
    pub label: String,
    pub role: String,
}

#[derive(Debug, thiserror::Error)]
pub enum AcceptError {
    #[error("the completion names {0:?}, which is not the digest of the job's input")]
    DigestMismatch(String),
    #[error("the completion names no stored recognition ({0}): POST it to /output first")]
    RecognitionMissing(String),
    #[error("the stored recognition cannot be read: {0}")]
    RecognitionInvalid(String),
    #[error(transparent)]
    Custody(#[from] CustodyError),
    #[error(transparent)]
    Archive(#[from] ArchiveError),
}

impl AcceptError {
    pub fn code(&self) -> &'static str {
        match self {
            AcceptError::DigestMismatch(_) => "digest_mismatch",
            AcceptError::RecognitionMissing(_) => "output_missing",
            AcceptError::RecognitionInvalid(_) => "invalid_result",
            AcceptError::Custody(e) => e.code(),
            AcceptError::Archive(e) => e.code(),
        }
    }

    /// Whether the worker's output does not show the scan: refused, and the job retried.
    pub fn is_mismatch(&self) -> bool {
        matches!(self, AcceptError::Custody(CustodyError::Mismatch(_)))
    }
}

/// Checks `completion` against the job's input `scan`, assembles the searchable copy from
/// the stored scan and the recognition's words, stores it, and returns the scan's result.
/// A digitized scan's result, as the service stores it on the scan: the scan and the
/// recognition it was read from, the searchable copy assembled here, who read it with what,
/// and the words of every page.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScanResult {
    /// Digest (`sha256:<hex>`) of the scan.
    pub input: String,
    /// Digest of the worker's stored recognition.
    pub recognition: String,
    pub pdf: StoredPdf,
    pub worker: WorkerIdentity,
    pub engine: EngineInfo,
    pub pages: Vec<PageText>,
}

/// The searchable copy in the archive.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredPdf {
    pub digest: String,
    pub size: u64,
}

impl ScanResult {
    /// A result as the index holds it.
    pub fn from_value(value: Value) -> Result<ScanResult, serde_json::Error> {
        serde_json::from_value(value)
    }

    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or_default()
    }

    /// The searchable copy's digest.
    pub fn pdf_digest(&self) -> Option<Digest> {
        Digest::parse(&self.pdf.digest).ok()
    }

    /// Each page's text, in order.
    pub fn texts(&self) -> Vec<&str> {
        self.pages.iter().map(|p| p.text.as_str()).collect()
    }
}

pub async fn accept(
    archive: &Archive,
    scan: &Digest,
    completion: &Completion,
    worker: WorkerIdentity,
    limits: MediaLimits,
) -> Result<ScanResult, AcceptError> {
    if Digest::parse(&completion.input).ok().as_ref() != Some(scan) {
        return Err(AcceptError::DigestMismatch(completion.input.clone()));
    }
    let missing = || AcceptError::RecognitionMissing(completion.recognition.clone());
    let digest = Digest::parse(&completion.recognition).map_err(|_| missing())?;
    let stored = match archive.get_blob(&digest).await {
        Err(ArchiveError::Missing { .. }) => return Err(missing()),
        read => read?,
    };
    let recognition: Recognition = serde_json::from_slice(&stored).map_err(|e| AcceptError::RecognitionInvalid(e.to_string()))?;
    if Digest::parse(&recognition.input).ok().as_ref() != Some(scan) {
        return Err(AcceptError::DigestMismatch(recognition.input.clone()));
    }
    let content = archive.get_blob(scan).await?;
    let (pdf, recognition) = tokio::task::spawn_blocking(move || {
        assemble(&[&content], &recognition.pages, limits, super::SERVICE_POLICY).map(|pdf| (pdf, recognition))
    })
    .await
    .map_err(|e| CustodyError::Write(format!("assembly stopped: {e}")))??;
    let size = pdf.len();
    let pdf = archive.put_blob(pdf.into()).await?;
    Ok(ScanResult {
        input: scan.prefixed(),
        recognition: digest.prefixed(),
        pdf: StoredPdf { digest: pdf.prefixed(), size: size as u64 },
        worker,
        engine: recognition.engine,
        pages: recognition.pages,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(text: &str, x: u32) -> super::super::Word {
        super::super::Word { text: text.into(), conf: 90.0, x, y: 0, w: 20, h: 8, line: 0 }
    }

    #[test]
    fn a_scan_result_stored_before_it_was_typed_still_reads() {
        let pdf = format!("sha256:{}", "ab".repeat(32));
        let stored = serde_json::json!({
            "input": format!("sha256:{}", "cd".repeat(32)), "recognition": format!("sha256:{}", "ef".repeat(32)),
            "pdf": {"digest": pdf, "size": 1234},
            "worker": {"token": 3, "label": "w1", "role": "worker"},
            "engine": {"name": "tesseract", "version": "5.3.0", "language": "vie", "model": "abc"},
            "pages": [{"page": 1, "width": 100, "height": 50, "dpi": 300.0, "quarter_turns": 0, "skew": 0.0, "confidence": 90.0,
                       "no_text": false, "text": "Số 12", "words": [word("Số", 0), word("12", 30)]}],
        });
        let result = ScanResult::from_value(stored.clone()).unwrap();
        assert_eq!(result.texts(), ["Số 12"]);
        assert_eq!(result.pdf_digest().unwrap().prefixed(), pdf);
        assert_eq!(result.pages[0].source, super::super::TextSource::Recognised);
        let back = result.to_value();
        for key in ["input", "recognition", "pdf", "worker", "engine"] {
            assert_eq!(back[key], stored[key], "{key}");
        }
        assert_eq!(back["pages"][0]["words"], stored["pages"][0]["words"]);
    }
}
