//! A posted batch's files, written to a directory of their own as they arrive and checked on
//! the way: their names, their count, each one's size and their total. Nothing of a batch
//! refused here reaches the archive or the index; the directory goes with the value.

use crate::domain::{hidden_character, Digest};
use crate::service::{Result, ServiceError};
use sha2::{Digest as _, Sha256};
use std::path::{Path, PathBuf};
use tokio::io::AsyncWriteExt;

/// The extensions of the scans a batch may hold, as `sohoa import` takes them from a directory.
pub const SCANS: [&str; 6] = ["png", "jpg", "jpeg", "tif", "tiff", "pdf"];
/// Longest file name taken, in bytes (what common file systems allow).
const MAX_NAME_BYTES: usize = 255;

/// How much one posted batch may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest file, the sheet included.
    pub file_bytes: u64,
    /// Largest batch, every file and the sheet together.
    pub total_bytes: u64,
    /// Most files, the sheet not counted.
    pub files: usize,
}

/// One file as staged: its name and digest.
#[derive(Debug, Clone)]
pub struct StagedFile {
    pub name: String,
    pub digest: Digest,
}

/// The part being written.
struct Open {
    name: Option<String>,
    file: tokio::fs::File,
    size: u64,
    hash: Sha256,
}

/// The files of a batch as they arrive, one part at a time.
pub struct Staged {
    dir: tempfile::TempDir,
    limits: Limits,
    total: u64,
    pub(super) files: Vec<StagedFile>,
    pub(super) sheet: Option<StagedFile>,
    open: Option<Open>,
}

fn too_large(code: &'static str, detail: String) -> ServiceError {
    ServiceError::TooLarge { code, detail }
}

fn invalid(code: &'static str, detail: String) -> ServiceError {
    ServiceError::Invalid { code, detail }
}

fn io(e: std::io::Error) -> ServiceError {
    ServiceError::Internal { context: "cannot stage a posted batch", detail: e.to_string() }
}

/// A plain file name of a scan: no directory, nothing hidden, a scan's extension.
pub fn check_name(name: &str) -> Result<()> {
    let shown: String = name.chars().take(80).collect();
    let refuse = |why: &str| invalid("file_name_invalid", format!("file name {shown:?}: {why}"));
    if name.is_empty() {
        return Err(refuse("empty"));
    }
    if name.len() > MAX_NAME_BYTES {
        return Err(refuse(&format!("longer than {MAX_NAME_BYTES} bytes")));
    }
    if name.contains(['/', '\\']) || name == ".." {
        return Err(refuse("a name, not a path, is taken"));
    }
    if name.starts_with('.') {
        return Err(refuse("hidden files are not taken"));
    }
    if let Some(c) = hidden_character(name) {
        return Err(refuse(&format!("holds the character U+{:04X}", c as u32)));
    }
    let scan = Path::new(name).extension().and_then(|e| e.to_str()).is_some_and(|e| SCANS.contains(&e.to_ascii_lowercase().as_str()));
    if !scan {
        return Err(invalid("file_type_unsupported", format!("file {shown:?}: a batch holds scans named .{}", SCANS.join(", ."))));
    }
    Ok(())
}

impl Staged {
    /// An empty batch in a directory of its own under the system's temporary directory.
    pub fn new(limits: Limits) -> Result<Staged> {
        let dir = tempfile::Builder::new().prefix("sohoa-import-").tempdir().map_err(io)?;
        Ok(Staged { dir, limits, total: 0, files: Vec::new(), sheet: None, open: None })
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Begins a scan named `name`, as the client named it.
    pub async fn begin_file(&mut self, name: Option<&str>) -> Result<()> {
        let name = name.ok_or_else(|| invalid("file_name_missing", "each file part needs a file name".into()))?;
        check_name(name)?;
        if self.files.iter().any(|f| f.name == name) {
            return Err(invalid("file_name_repeated", format!("file {name:?} is in the batch twice")));
        }
        if self.files.len() >= self.limits.files {
            return Err(too_large("too_many_files", format!("a batch holds at most {} files", self.limits.files)));
        }
        self.begin(Some(name.to_owned()), self.dir.path().join(name)).await
    }

    /// Begins the metadata sheet.
    pub async fn begin_sheet(&mut self) -> Result<()> {
        if self.sheet.is_some() {
            return Err(invalid("sheet_repeated", "a batch has one sheet".into()));
        }
        // a name no scan can take, since scans are not hidden
        self.begin(None, self.dir.path().join(".sheet.csv")).await
    }

    async fn begin(&mut self, name: Option<String>, path: PathBuf) -> Result<()> {
        let file = tokio::fs::File::create(&path).await.map_err(io)?;
        self.open = Some(Open { name, file, size: 0, hash: Sha256::new() });
        Ok(())
    }

    /// Appends `chunk` to the part begun last.
    pub async fn write(&mut self, chunk: &[u8]) -> Result<()> {
        let Some(open) = self.open.as_mut() else { return Ok(()) };
        open.size += chunk.len() as u64;
        self.total += chunk.len() as u64;
        let what = open.name.as_deref().map_or_else(|| "the sheet".to_owned(), |n| format!("file {n:?}"));
        if open.size > self.limits.file_bytes {
            return Err(too_large("file_too_large", format!("{what} is over {} bytes", self.limits.file_bytes)));
        }
        if self.total > self.limits.total_bytes {
            return Err(too_large("batch_too_large", format!("the batch is over {} bytes", self.limits.total_bytes)));
        }
        open.hash.update(chunk);
        open.file.write_all(chunk).await.map_err(io)
    }

    /// Ends the part begun last; an empty one is refused.
    pub async fn end(&mut self) -> Result<()> {
        let Some(mut open) = self.open.take() else { return Ok(()) };
        open.file.flush().await.map_err(io)?;
        let what = open.name.as_deref().map_or_else(|| "the sheet".to_owned(), |n| format!("file {n:?}"));
        if open.size == 0 {
            return Err(invalid("empty_file", format!("{what} is empty")));
        }
        let staged = StagedFile { name: open.name.clone().unwrap_or_default(), digest: Digest::from_hasher(open.hash) };
        match open.name {
            Some(_) => self.files.push(staged),
            None => self.sheet = Some(staged),
        }
        Ok(())
    }

    /// The path a staged file was written to.
    pub(super) fn path_of(&self, file: &StagedFile) -> PathBuf {
        match file.name.as_str() {
            "" => self.dir.path().join(".sheet.csv"),
            name => self.dir.path().join(name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_plain_scan_names() {
        for ok in ["p1.png", "Giấy khai sinh 01.PDF", "a b.tif"] {
            assert!(check_name(ok).is_ok(), "{ok}");
        }
        let code = |name: &str| match check_name(name) {
            Err(ServiceError::Invalid { code, .. }) => code,
            other => panic!("{name:?}: {other:?}"),
        };
        for (bad, expected) in [
            ("../p1.png", "file_name_invalid"),
            ("dir/p1.png", "file_name_invalid"),
            ("c:\\scans\\p1.png", "file_name_invalid"),
            (".p1.png", "file_name_invalid"),
            ("", "file_name_invalid"),
            ("abc\u{202E}gnp.exe", "file_name_invalid"),
            ("notes.txt", "file_type_unsupported"),
            ("p1", "file_type_unsupported"),
        ] {
            assert_eq!(code(bad), expected, "{bad:?}");
        }
        assert_eq!(code(&format!("{}.png", "a".repeat(252))), "file_name_invalid");
    }

    #[tokio::test]
    async fn a_file_or_a_batch_over_its_limit_is_refused_and_its_directory_removed() {
        let limits = Limits { file_bytes: 10, total_bytes: 15, files: 2 };
        let mut staged = Staged::new(limits).unwrap();
        let dir = staged.dir().to_owned();
        staged.begin_file(Some("a.png")).await.unwrap();
        staged.write(b"0123456789").await.unwrap();
        staged.end().await.unwrap();
        staged.begin_file(Some("b.png")).await.unwrap();
        let over = staged.write(b"012345").await.unwrap_err();
        assert!(matches!(over, ServiceError::TooLarge { code: "batch_too_large", .. }), "{over:?}");
        drop(staged);
        assert!(!dir.exists(), "the staged files outlived the refused batch");

        let mut staged = Staged::new(limits).unwrap();
        staged.begin_file(Some("a.png")).await.unwrap();
        assert!(matches!(staged.write(&[0; 11]).await, Err(ServiceError::TooLarge { code: "file_too_large", .. })));
        let mut staged = Staged::new(limits).unwrap();
        for name in ["a.png", "b.png"] {
            staged.begin_file(Some(name)).await.unwrap();
            staged.write(b"x").await.unwrap();
            staged.end().await.unwrap();
        }
        assert!(matches!(staged.begin_file(Some("a.png")).await, Err(ServiceError::Invalid { code: "file_name_repeated", .. })));
        assert!(matches!(staged.begin_file(Some("c.png")).await, Err(ServiceError::TooLarge { code: "too_many_files", .. })));
    }
}
