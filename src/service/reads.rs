//! Access transparency: every read of a record is logged (who, which agency, when, what,
//! why) before it is served, consumers say why they read a person's records, owners' reads
//! are listed, and the access log is checked against its tree and a signed checkpoint.

use super::{Result, ServiceError};
use crate::domain::reads::{is_personal, NewRead, Purpose, ReadEntry, ReadFilter, ReadKind, Reader};
use crate::domain::record::Record;
use crate::domain::Role;
use crate::index::Index;
use crate::tlog::{self, Checkpoint, MemoryLog, NodeId};

/// Entries read at a time when the whole log is checked.
const PAGE: u32 = 10_000;
/// Problems named one by one in a check's report; the rest are counted.
const MAX_PROBLEMS: usize = 20;

/// The access log over the index.
pub struct Reads<'a> {
    pub index: &'a dyn Index,
}

/// Refuses a consumer's read of a person's record without a purpose (`purpose_required`).
/// Staff read at the desk under their agency's own duty; a purpose they give is kept.
pub fn require_purpose(role: Role, records: &[Record], purpose: Option<&Purpose>) -> Result<()> {
    if role != Role::Consumer || purpose.is_some() {
        return Ok(());
    }
    match records.iter().find(|r| is_personal(r.owner_id.as_deref())) {
        Some(r) => Err(ServiceError::BadRequest {
            code: "purpose_required",
            detail: format!(
                "record {} is a person's: say why it is read with purpose=<dossier code or procedure code> (Decree 13/2023)",
                r.id
            ),
        }),
        None => Ok(()),
    }
}

/// What a check of the access log found.
#[derive(Debug, Clone, Default)]
pub struct LogCheck {
    /// Entries read from the index.
    pub entries: u64,
    /// Leaves in the stored tree.
    pub tree_size: u64,
    /// The root of the tree rebuilt from the entries.
    pub root: tlog::Hash,
    /// The checkpoint's size, when one was checked.
    pub checkpoint_size: Option<u64>,
    /// What does not hold, first ones first.
    pub problems: Vec<String>,
    /// Problems past those named.
    pub more_problems: u64,
}

impl LogCheck {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }

    fn problem(&mut self, what: String) {
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(what);
        } else {
            self.more_problems += 1;
        }
    }
}

impl Reads<'_> {
    /// Logs that `reader` read `records` (`read`) for `purpose`; returns once committed, so a
    /// read is never served unlogged.
    pub async fn log(&self, reader: &Reader, records: &[Record], read: ReadKind, purpose: Option<&Purpose>) -> Result<()> {
        let at_ms = chrono::Utc::now().timestamp_millis();
        let reads = records
            .iter()
            .map(|r| NewRead {
                at_ms,
                reader: reader.clone(),
                record: r.id.clone(),
                record_agency: r.agency.clone(),
                owner_id: r.owner_id.clone(),
                read,
                purpose: purpose.map(|p| p.as_str().to_owned()),
            })
            .collect();
        self.index.log_reads(reads).await?;
        Ok(())
    }

    /// The owner's reads `filter` selects, newest first.
    pub async fn of_owner(&self, filter: &ReadFilter) -> Result<Vec<ReadEntry>> {
        Ok(self.index.reads_of_owner(filter).await?)
    }

    /// Rebuilds the access log's tree from its entries and checks it against the stored tree
    /// and, when given, a signed checkpoint: a changed, moved or removed entry is found.
    pub async fn check(&self, checkpoint: Option<&Checkpoint>) -> Result<LogCheck> {
        let mut check = LogCheck { tree_size: self.index.access_size().await?, ..Default::default() };
        let mut rebuilt = MemoryLog::new();
        loop {
            let page = self.index.read_entries(rebuilt.size(), PAGE).await?;
            let Some(last) = page.last() else { break };
            let first = rebuilt.size();
            let ids: Vec<NodeId> = (first..=last.seq).map(|i| NodeId::new(0, i)).collect();
            let stored = self.index.access_nodes(&ids).await?;
            for entry in &page {
                while rebuilt.size() < entry.seq {
                    // A missing row leaves its stored leaf in the tree to keep the numbering.
                    let seq = rebuilt.size();
                    check.problem(format!("entry {seq} is missing from the access log"));
                    rebuilt.append(stored.get(&NodeId::new(0, seq)).copied().unwrap_or_default());
                }
                let leaf = tlog::leaf_hash(&entry.leaf_data());
                if stored.get(&NodeId::new(0, entry.seq)) != Some(&leaf) {
                    check.problem(format!(
                        "entry {} ({} of record {}) does not hash to its leaf: it was changed",
                        entry.seq,
                        entry.entry.read.as_str(),
                        entry.entry.record
                    ));
                }
                rebuilt.append(leaf);
            }
            check.entries += page.len() as u64;
        }
        if rebuilt.size() != check.tree_size {
            check.problem(format!("the access log has {} entries, its tree {} leaves", rebuilt.size(), check.tree_size));
        }
        check.root = rebuilt.root();
        if check.tree_size > 0 {
            let nodes = self.index.access_nodes(&tlog::root_needs(check.tree_size)).await?;
            match tlog::root(check.tree_size, &nodes) {
                Ok(root) if rebuilt.size() == check.tree_size && root != check.root => {
                    check.problem("the stored tree's root is not the root of the entries".into())
                }
                Ok(_) => {}
                Err(e) => check.problem(format!("the stored tree is damaged: {e}")),
            }
        }
        if let Some(cp) = checkpoint {
            check.checkpoint_size = Some(cp.size);
            if cp.size > rebuilt.size() {
                check.problem(format!("the checkpoint covers {} entries, the log holds {}: entries were removed", cp.size, rebuilt.size()));
            } else if rebuilt.root_at(cp.size).map_err(|e| ServiceError::Internal { context: "access log", detail: e.to_string() })?
                != cp.root
            {
                check.problem(format!("the first {} entries do not hash to the checkpoint's root: the log was rewritten", cp.size));
            }
        }
        Ok(check)
    }
}
