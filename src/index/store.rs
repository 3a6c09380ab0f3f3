//! The index's traits, one per concern. A backend implements each directly, one file per
//! trait; [`Index`](super::Index) combines them. Implementations make each method atomic:
//! a method either applies all its writes (audit entry included) or none.

use super::*;

/// Bearer tokens, kept by the SHA-256 of their secret.
#[async_trait]
pub trait TokenStore: Send + Sync {
    async fn create_token(&self, role: Role, agency: &AgencyCode, label: &str, scope: &Scope, hash: &str) -> Result<i64>;
    async fn token_by_hash(&self, hash: &str) -> Result<Option<TokenInfo>>;
    async fn revoke_token(&self, id: i64) -> Result<()>;
    /// As [`create_token`](Self::create_token), with `audit` written in the same transaction
    /// under the target `token:<id>`.
    async fn create_token_audited(
        &self,
        role: Role,
        agency: &AgencyCode,
        label: &str,
        scope: &Scope,
        hash: &str,
        audit: AuditEntry,
    ) -> Result<i64>;
    /// Tokens (of `agency` when given, of `role` when given), newest first.
    async fn list_tokens(&self, agency: Option<&AgencyCode>, role: Option<Role>) -> Result<Vec<TokenListing>>;
    /// Revokes `agency`'s token `id` with `audit`; `None` when the agency has no such token.
    /// A token already revoked keeps its first revocation time and writes nothing.
    async fn revoke_agency_token(&self, id: i64, agency: &AgencyCode, audit: AuditEntry) -> Result<Option<TokenListing>>;
    /// Notes that token `id` was seen at `now_ms` (a worker claiming or renewing a lease).
    async fn touch_token(&self, id: i64, now_ms: i64) -> Result<()>;
}

/// Dossiers with their checklists: allocation of codes, reading, status changes.
#[async_trait]
pub trait DossierStore: Send + Sync {
    /// Allocates the next code of the agency's day and stores the dossier with its checklist.
    async fn create_dossier(&self, dossier: NewDossier, audit: AuditEntry) -> Result<DossierCode>;
    async fn dossier(&self, code: &DossierCode) -> Result<Option<Dossier>>;
    async fn list_dossiers(&self, filter: &DossierFilter) -> Result<Vec<Dossier>>;
    /// Moves the dossier from `from` to `to`; `false`, writing nothing, when it is not in `from`.
    async fn set_dossier_status(&self, code: &DossierCode, from: DossierStatus, to: DossierStatus, audit: AuditEntry) -> Result<bool>;
}

/// Uploaded scans and the steps of their state machine.
#[async_trait]
pub trait ScanStore: Send + Sync {
    async fn scan_by_idempotency_key(&self, key: &str) -> Result<Option<Scan>>;
    /// Stores the scan, queues its job and marks the component pending, in one transaction.
    async fn create_scan(&self, scan: NewScan, kind: JobKind, policy: RetryPolicy, audit: AuditEntry) -> Result<Scan>;
    async fn scan(&self, id: i64) -> Result<Option<Scan>>;
    /// What the worker reported for a finished scan: the searchable PDF and page texts.
    async fn scan_result(&self, id: i64) -> Result<Option<serde_json::Value>>;
    /// Applies `step` to scan `scan` (a recognised scan left unsealed) with the audit entry.
    async fn step_scan(&self, scan: i64, step: ScanStep, audit: AuditEntry) -> Result<()>;
}

/// The durable job queue: claims under leases, and the steps a service decided.
#[async_trait]
pub trait JobStore: Send + Sync {
    /// Queues `job` on its own, answering its id; a job with the same key, in any state, is
    /// the one answered, not doubled.
    async fn queue_job(&self, job: NewJob) -> Result<i64>;
    /// Hands the oldest ready job of the first priority among `kinds` (of `agency` when
    /// given) to a worker under a new lease, with `scan` applied to the scan it processes; a job whose lease ran out is ready
    /// again while it has attempts left.
    async fn claim_job(
        &self,
        kinds: &[JobKind],
        agency: Option<&AgencyCode>,
        lease: &str,
        lease_ms: i64,
        now_ms: i64,
        scan: &ScanStep,
    ) -> Result<Option<Job>>;
    /// Running jobs whose lease ran out before `now_ms` with no attempt left.
    async fn expired_jobs(&self, now_ms: i64) -> Result<Vec<Job>>;
    async fn heartbeat(&self, job: i64, lease: &str, until_ms: i64) -> Result<bool>;
    /// Applies `step` with `audit`; `false`, writing nothing, when the job is no longer as the
    /// step expects.
    async fn step_job(&self, step: JobStep, audit: Option<AuditEntry>) -> Result<bool>;
    async fn job(&self, id: i64) -> Result<Option<Job>>;
    /// What a finished job produced, as its finisher stored it.
    async fn job_result(&self, id: i64) -> Result<Option<serde_json::Value>>;
    /// Jobs by kind and state (of `agency` when given, else over every agency): the queue's depth.
    async fn job_counts(&self, agency: Option<&AgencyCode>) -> Result<Vec<(JobKind, JobState, u64)>>;
    /// Jobs in `state` (of `agency` when given), oldest first.
    async fn jobs_in_state(&self, state: JobState, agency: Option<&AgencyCode>, limit: u32) -> Result<Vec<Job>>;
    /// Wakes `queued`'s waiters whenever another process sharing this index queues a job,
    /// for as long as someone else holds `queued`. A backend that one process owns has no
    /// one else to hear from.
    async fn wake_on_queued(&self, queued: Arc<tokio::sync::Notify>) -> Result<()>;
}

/// Records with their log leaves: stored, found, corrected, renewed, reused.
#[async_trait]
pub trait RecordStore: Send + Sync {
    /// Stores a sealed record and appends its manifest to the transparency log, marks its
    /// scan `sealed` and its component by `check`, and the dossier `complete` when every
    /// required component is satisfied. A scan has at most one record: sealing it again
    /// returns the first.
    async fn create_record(&self, record: NewRecord, check: ComponentCheck, audit: AuditEntry) -> Result<Record>;
    /// Links an existing record to a component instead of a new scan: the component is
    /// satisfied and counted as reused; the dossier may become complete.
    async fn reuse_record(&self, dossier: &DossierCode, component: &str, record: &str, audit: AuditEntry) -> Result<()>;
    async fn record(&self, id: &str) -> Result<Option<Record>>;
    /// The records whose content has `digest`, oldest first: whether a file is in the log.
    async fn records_with_content(&self, digest: &Digest) -> Result<Vec<Record>>;
    async fn record_for_scan(&self, scan: i64) -> Result<Option<Record>>;
    /// Oldest first, after the cursor.
    async fn find_records(&self, filter: &RecordFilter) -> Result<Vec<Record>>;
    /// Replaces an active record by its corrected version in one transaction: the new record
    /// (with its log leaf) takes the component, checked by `check`; the old one is
    /// superseded; `label` (`{"doc_type", "fields"}`) is kept for `scan` as labelled data.
    async fn correct_record(
        &self,
        old: &str,
        record: NewRecord,
        check: ComponentCheck,
        scan: i64,
        label: serde_json::Value,
        audit: AuditEntry,
    ) -> Result<Record>;
    /// Replaces an active record by a renewed version of its content (the same document with
    /// validation data and a newer document time-stamp appended) in one transaction: the new
    /// record (with its log leaf) takes the component with the old one's check; the old one is
    /// superseded and stays, content, manifest and leaf.
    async fn renew_record(&self, old: &str, record: NewRecord, check: ComponentCheck, audit: AuditEntry) -> Result<Record>;
    /// The agency's corrections, newest first.
    async fn corrections(&self, agency: &AgencyCode, limit: u32) -> Result<Vec<Correction>>;
}

/// The end of a record's active life: revocation, supersession, legal holds, disposal.
#[async_trait]
pub trait LifecycleStore: Send + Sync {
    /// Revokes or supersedes an active record; its content, manifest and log leaf stay.
    /// `None` when there is no such record.
    async fn change_record_status(&self, id: &str, change: StatusChange, audit: AuditEntry) -> Result<Option<Record>>;
    /// Places a legal hold on `target` (`record:<id>` or `dossier:<code>` of `agency`).
    async fn place_hold(&self, agency: &AgencyCode, target: &str, reason: &str, audit: AuditEntry) -> Result<Hold>;
    /// Releases a hold in force; `None` when the agency has no such hold in force.
    async fn release_hold(&self, agency: &AgencyCode, id: i64, audit: AuditEntry) -> Result<Option<Hold>>;
    /// The agency's holds, newest first; with `in_force`, only those not released.
    async fn holds(&self, agency: &AgencyCode, in_force: bool, limit: u32) -> Result<Vec<Hold>>;
    /// The agency's records past retention, not disposed of and not under a hold, oldest first.
    async fn disposal_candidates(&self, agency: &AgencyCode, rules: &[RetentionCutoff], limit: u32) -> Result<Vec<Record>>;
    /// Marks a record disposed of, checking in the same transaction that it is past `rule`
    /// and under no hold. `None` when there is no such record.
    async fn dispose_record(&self, id: &str, rule: &RetentionCutoff, reason: &str, audit: AuditEntry) -> Result<Option<Disposal>>;
}

/// Result documents, their signed versions and deferred-signing sessions.
#[async_trait]
pub trait ResultStore: Send + Sync {
    /// Attaches a result document (version 1) to a dossier, any signer of the agency to sign it.
    async fn create_result(&self, result: NewResult, audit: AuditEntry) -> Result<ResultDoc> {
        self.create_result_signed_by(result, &[], audit).await
    }
    /// Attaches a result document (version 1) to a dossier, to be signed by the officials
    /// `signers` (signer token labels) in that order; none: any signer of the agency.
    async fn create_result_signed_by(&self, result: NewResult, signers: &[String], audit: AuditEntry) -> Result<ResultDoc>;
    async fn result(&self, id: &str) -> Result<Option<ResultDoc>>;
    /// The agency's draft results, oldest first, at most `limit`.
    async fn draft_results(&self, agency: &AgencyCode, limit: u32) -> Result<Vec<ResultDoc>>;
    /// Adds a signed version if the result is still a draft at `version.base`, marking the
    /// deferred-signing session used in the same transaction.
    async fn add_result_version(&self, id: &str, version: NewVersion, audit: AuditEntry) -> Result<ResultDoc>;
    async fn create_signing_session(&self, session: NewSession, audit: AuditEntry) -> Result<()>;
    async fn signing_session(&self, id: &str) -> Result<Option<SigningSession>>;
    /// Marks a draft result issued as `record` (already stored).
    async fn issue_result(&self, id: &str, record: &str, audit: AuditEntry) -> Result<ResultDoc>;
}

/// The transparency log's tree nodes.
#[async_trait]
pub trait LogStore: Send + Sync {
    /// Leaves in the transparency log: every record has one (`Record::log_index`),
    /// appended in the transaction that stores the record.
    async fn tlog_size(&self) -> Result<u64>;
    /// The stored log nodes among `ids`; absent ones are left out. Nodes never change once
    /// written, so proofs may be computed from a size read earlier.
    async fn tlog_nodes(&self, ids: &[NodeId]) -> Result<NodeMap>;
}

/// The access log: every read of a record, each entry a leaf of the access log's own tree
/// (`access_nodes`), appended in the transaction that stores the entry.
#[async_trait]
pub trait ReadLogStore: Send + Sync {
    /// Logs `reads` in order, in a transaction shared with the reads waiting beside them;
    /// their numbers (leaf indexes) once committed.
    async fn log_reads(&self, reads: Vec<NewRead>) -> Result<Vec<u64>>;
    /// The owner's reads `filter` selects, newest first.
    async fn reads_of_owner(&self, filter: &ReadFilter) -> Result<Vec<ReadEntry>>;
    /// The entries numbered from `from`, in order, at most `limit`: the log page by page.
    async fn read_entries(&self, from: u64, limit: u32) -> Result<Vec<ReadEntry>>;
    /// Leaves in the access log's tree.
    async fn access_size(&self) -> Result<u64>;
    /// The stored nodes of the access log's tree among `ids`; absent ones are left out.
    async fn access_nodes(&self, ids: &[NodeId]) -> Result<NodeMap>;
}

/// What the archive must hold, and the fixity passes that checked it.
#[async_trait]
pub trait FixityStore: Send + Sync {
    /// What the archive must hold: every record's content and scan (blobs), and every
    /// record's manifest with the digest recorded when it was sealed.
    async fn archived_objects(&self) -> Result<ArchivedObjects>;
    /// Keeps a fixity pass's report; returns its id.
    async fn save_fixity_run(&self, run: &FixityRun) -> Result<i64>;
    async fn latest_fixity_run(&self) -> Result<Option<FixityRun>>;
}

/// Leases on the singleton duties of a service run by several replicas: one holder at a time,
/// until the lease expires. Times are the caller's clock (replicas keep theirs in step).
#[async_trait]
pub trait LeaseStore: Send + Sync {
    /// Gives `name` to `holder` until `now_ms + ttl_ms` when it is free, expired, or already
    /// `holder`'s (then it is extended); `false`, writing nothing, while another holds it.
    async fn acquire_lease(&self, name: &str, holder: &str, now_ms: i64, ttl_ms: i64) -> Result<bool>;
    /// Extends `holder`'s lease to `now_ms + ttl_ms`; `false`, writing nothing, when `holder`
    /// does not hold it or it expired (a holder that lost it must acquire it again).
    async fn renew_lease(&self, name: &str, holder: &str, now_ms: i64, ttl_ms: i64) -> Result<bool>;
    /// Lets go of `holder`'s lease so that another may take it at once; `false` when `holder`
    /// did not hold it.
    async fn release_lease(&self, name: &str, holder: &str) -> Result<bool>;
    /// The lease as stored, expired or not.
    async fn lease(&self, name: &str) -> Result<Option<Lease>>;
}

/// The audit log; each entry is written by the change it describes.
#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Newest first; with `agency`, that agency's entries only (the service's own entries
    /// carry the agency of what they concern).
    async fn audit_log(&self, agency: Option<&AgencyCode>, target: Option<&str>, limit: u32) -> Result<Vec<AuditRecord>>;
    /// Newest first, the entries `filter` selects.
    async fn search_audit(&self, filter: &AuditFilter) -> Result<Vec<AuditRecord>>;
}

/// What the service indicators are computed from.
#[async_trait]
pub trait StatsStore: Send + Sync {
    /// The facts of each of `agency`'s dossiers received in `[from_ms, to_ms)` or whose
    /// result was issued in it.
    async fn dossier_facts(&self, agency: &AgencyCode, from_ms: i64, to_ms: i64) -> Result<Vec<crate::domain::indicators::DossierFacts>>;
}

/// The progress of back-file imports, by batch and line, and the duplicates they look for.
#[async_trait]
pub trait ImportStore: Send + Sync {
    /// What the index holds of batch `batch`'s documents, by line.
    async fn import_items(&self, batch: &str) -> Result<Vec<ImportItem>>;
    /// Stores what became of a document, replacing what was kept of its line.
    async fn put_import_item(&self, item: &ImportItem) -> Result<()>;
    /// An earlier record with the same content (a document imported from `source`), or an
    /// active record of `agency` with the same type and `number`.
    async fn import_duplicate(
        &self,
        agency: &AgencyCode,
        doc_type: &str,
        number: Option<&str>,
        source: &Digest,
    ) -> Result<Option<Duplicate>>;
}

/// Back-file batches posted to the service, and where each stands.
#[async_trait]
pub trait ImportBatchStore: Send + Sync {
    /// Keeps `batch` unless a batch of its id is kept already: `None` when it was kept now,
    /// else the batch kept earlier, unchanged.
    async fn create_import_batch(&self, batch: &ImportBatch) -> Result<Option<ImportBatch>>;
    async fn import_batch(&self, id: &str) -> Result<Option<ImportBatch>>;
    /// The batches still running, oldest first.
    async fn running_import_batches(&self) -> Result<Vec<ImportBatch>>;
    /// Sets the batch's state, report and error; `false` when there is no such batch.
    async fn set_import_batch_state(&self, id: &str, state: BatchState, report: Option<&str>, error: Option<&str>) -> Result<bool>;
}
