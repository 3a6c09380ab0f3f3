//! Leftovers of writes a crash cut short: objects under `tmp/` (large uploads go there before
//! they are copied to their digest's key) and, in a `file://` archive, the staging files
//! (`<key>#<n>`) a write fills before renaming it into place. Content-addressed objects are
//! never half-written, so these are the only traces an interrupted write leaves.

use super::{Archive, ArchiveError, Backend, Result};
use futures::TryStreamExt;
use object_store::path::Path as ObjectPath;
use object_store::ObjectStoreExt;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// One leftover: its key (a file archive's staging file keeps its `#n` suffix) and when it
/// was last written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leftover {
    pub key: String,
    pub modified: SystemTime,
}

impl Archive {
    /// Leftovers last written before `before`. An upload under way keeps writing its file, and
    /// on S3 its `tmp/` object lives only between its completion and its copy, so a cut-off a
    /// little in the past never names a write that is still going on.
    pub async fn leftovers(&self, before: SystemTime) -> Result<Vec<Leftover>> {
        let mut found = match (&self.backend, &self.root) {
            (Backend::File, Some(root)) => {
                let root = root.clone();
                let walked = tokio::task::spawn_blocking(move || staging_files(&root)).await;
                walked.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))?
            }
            _ => {
                let prefix = ObjectPath::from("tmp");
                self.store
                    .list(Some(&prefix))
                    .map_ok(|meta| Leftover { key: meta.location.to_string(), modified: meta.last_modified.into() })
                    .try_collect()
                    .await
                    .map_err(|source| ArchiveError::store("tmp/", source))?
            }
        };
        found.retain(|l| l.modified < before);
        found.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(found)
    }

    /// Deletes the leftovers last written before `before`; returns how many went.
    pub async fn remove_leftovers(&self, before: SystemTime) -> Result<usize> {
        let leftovers = self.leftovers(before).await?;
        for leftover in &leftovers {
            match &self.root {
                Some(root) if self.backend == Backend::File => {
                    let path = root.join(&leftover.key);
                    match tokio::fs::remove_file(&path).await {
                        Ok(()) => {}
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                        Err(source) => return Err(ArchiveError::File { path: path.display().to_string(), source }),
                    }
                }
                _ => {
                    let key = ObjectPath::from(leftover.key.as_str());
                    match self.store.delete(&key).await {
                        Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                        Err(source) => return Err(ArchiveError::store(leftover.key.clone(), source)),
                    }
                }
            }
            tracing::info!(key = %leftover.key, "removed leftover of an interrupted archive write");
        }
        Ok(leftovers.len())
    }
}

/// Every file under `tmp/`, and every staging file (`name#digits`) anywhere, in a file archive.
fn staging_files(root: &Path) -> Result<Vec<Leftover>> {
    let mut found = Vec::new();
    let mut dirs: Vec<PathBuf> = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(source) => return Err(ArchiveError::File { path: dir.display().to_string(), source }),
        };
        for entry in entries {
            let entry = entry.map_err(|source| ArchiveError::File { path: dir.display().to_string(), source })?;
            let path = entry.path();
            let Ok(kind) = entry.file_type() else { continue };
            if kind.is_dir() {
                dirs.push(path);
                continue;
            }
            let Ok(relative) = path.strip_prefix(root) else { continue };
            let key = relative.to_string_lossy().into_owned();
            if !(key.starts_with("tmp/") || is_staging_name(&entry.file_name().to_string_lossy())) {
                continue;
            }
            // A file gone between the listing and here was finished or removed meanwhile.
            let Ok(modified) = entry.metadata().and_then(|m| m.modified()) else { continue };
            found.push(Leftover { key, modified });
        }
    }
    Ok(found)
}

/// `object_store`'s local store writes `<name>#<digits>` and renames it into place.
fn is_staging_name(name: &str) -> bool {
    match name.rsplit_once('#') {
        Some((_, suffix)) => !suffix.is_empty() && suffix.bytes().all(|b| b.is_ascii_digit()),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::is_staging_name;

    #[test]
    fn staging_names_end_in_a_hash_and_digits() {
        assert!(is_staging_name("abc#1"));
        assert!(is_staging_name("ab#c#12"));
        for name in ["abc", "abc#", "abc#x1", "abc#1x"] {
            assert!(!is_staging_name(name), "{name}");
        }
    }
}
