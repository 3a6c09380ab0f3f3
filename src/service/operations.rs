//! What the operator watches: whether the index and the archive answer, the queue's depth,
//! the log's size and the latest fixity pass.

use super::Result;
use crate::archive::Archive;
use crate::domain::AgencyCode;
use crate::index::{FixityRun, Index};
use crate::queue::{JobKind, JobState};

pub struct Operations<'a> {
    pub index: &'a dyn Index,
    pub archive: &'a Archive,
}

/// Each dependency's answer: None when it answered, else why not.
pub struct Readiness {
    pub index: Option<String>,
    pub archive: Option<String>,
}

impl Readiness {
    pub fn ready(&self) -> bool {
        self.index.is_none() && self.archive.is_none()
    }
}

impl Operations<'_> {
    /// Both dependencies asked at once.
    pub async fn readiness(&self) -> Readiness {
        let (index, archive) = tokio::join!(self.index.ping(), self.archive.ping());
        Readiness { index: index.err().map(|e| e.to_string()), archive: archive.err().map(|e| e.to_string()) }
    }

    /// Jobs by kind and state, every agency's.
    pub async fn job_counts(&self) -> Result<Vec<(JobKind, JobState, u64)>> {
        Ok(self.index.job_counts(None::<&AgencyCode>).await?)
    }

    pub async fn log_size(&self) -> Result<u64> {
        Ok(self.index.tlog_size().await?)
    }

    pub async fn latest_fixity(&self) -> Result<Option<FixityRun>> {
        Ok(self.index.latest_fixity_run().await?)
    }
}
