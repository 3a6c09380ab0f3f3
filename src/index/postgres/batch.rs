//! New records in PostgreSQL, stored by the group commit's writer task: a batch in one
//! transaction under the log's lock (its refusals found before any write, its leaves
//! appended together, each table written with one statement where the rows allow), or one
//! record alone. Replicas' batches take the log's lock in turn, as single records do.

use super::records::{mark_complete, record_row, store_record};
use super::{audit, corrupt, now_ms, tlog, Tx};
use crate::domain::{DossierCode, ScanStatus};
use crate::index::group::{answers, plan, BatchFuture, Committer, NewEntry, OneFuture, Plan};
use crate::index::{Record, RecordStatus, Result};
use sqlx::{PgPool, Postgres, QueryBuilder};
use std::collections::{BTreeMap, HashMap, HashSet};

/// Values bound to one statement at most (the engine's limit); a multi-row statement's rows
/// are chunked by it.
const BINDS: usize = 65_535;

/// The pool's side of the group commit.
pub(super) struct Batches {
    pub pool: PgPool,
}

impl Committer for Batches {
    fn commit_batch<'a>(&'a self, entries: &'a [NewEntry]) -> BatchFuture<'a> {
        Box::pin(store_batch(&self.pool, entries))
    }

    fn commit_one<'a>(&'a self, entry: &'a NewEntry) -> OneFuture<'a> {
        Box::pin(store_one(&self.pool, entry))
    }
}

/// One record in a transaction of its own: the record already stored for its scan when
/// there is one, else the record with its leaf.
async fn store_one(pool: &PgPool, e: &NewEntry) -> Result<Record> {
    let mut tx = pool.begin().await?;
    // Under the log's lock, a record another process stored for the same scan is seen.
    tlog::lock(&mut tx).await?;
    if let Some(scan) = e.rec.scan {
        let existing = sqlx::query("SELECT * FROM records WHERE scan = $1").bind(scan).fetch_optional(&mut *tx).await?;
        if let Some(row) = existing {
            return record_row(&row);
        }
    }
    let row = store_record(&mut tx, &e.rec, &e.check).await?;
    audit(&mut tx, &e.audit, &format!("record:{}", e.rec.id)).await?;
    let record = record_row(&row)?;
    tx.commit().await?;
    Ok(record)
}

async fn store_batch(pool: &PgPool, entries: &[NewEntry]) -> Result<Vec<Result<Record>>> {
    let mut tx = pool.begin().await?;
    // Under the log's lock, ids and scans another process stored are seen.
    tlog::lock(&mut tx).await?;
    let ids: Vec<String> = entries.iter().map(|e| e.rec.id.clone()).collect();
    let taken: HashSet<String> =
        sqlx::query_scalar("SELECT id FROM records WHERE id = ANY($1)").bind(&ids).fetch_all(&mut *tx).await?.into_iter().collect();
    let scans: Vec<i64> = entries.iter().filter_map(|e| e.rec.scan).collect();
    let mut sealed = HashMap::new();
    if !scans.is_empty() {
        for row in sqlx::query("SELECT * FROM records WHERE scan = ANY($1)").bind(&scans).fetch_all(&mut *tx).await? {
            let record = record_row(&row)?;
            sealed.insert(record.scan.unwrap_or_default(), record);
        }
    }
    let plans = plan(entries, &taken, &sealed);
    let new: Vec<&NewEntry> = entries.iter().zip(&plans).filter(|(_, p)| matches!(p, Plan::Store)).map(|(e, _)| e).collect();
    let stored = insert(&mut tx, &new).await?;
    tx.commit().await?;
    Ok(answers(entries, plans, stored))
}

/// Stores `new` in order, their leaves after the log's last, inside `tx` (which holds the
/// log's lock); the stored records by id.
async fn insert(tx: &mut Tx, new: &[&NewEntry]) -> Result<HashMap<String, Record>> {
    let mut stored = HashMap::with_capacity(new.len());
    if new.is_empty() {
        return Ok(stored);
    }
    let size = tlog::size(tx).await?;
    let leaves: Vec<crate::tlog::Hash> = new.iter().map(|e| crate::tlog::manifest_leaf_hash(&e.rec.manifest_digest)).collect();
    let needed = tlog::nodes(tx, &crate::tlog::append_batch_needs(size, leaves.len() as u64)).await?;
    let nodes = crate::tlog::append_batch(size, &leaves, &needed).map_err(|e| corrupt("tlog_nodes", e))?;
    tlog::insert_nodes(tx, &nodes).await?;

    let now = now_ms();
    let numbered: Vec<(u64, &NewEntry)> = (size..).zip(new.iter().copied()).collect();
    for chunk in numbered.chunks(BINDS / 19) {
        let mut q = QueryBuilder::<Postgres>::new(
            "INSERT INTO records (id, kind, agency, dossier, component, scan, owner_id, doc_type, number, issue_date, \
             valid_from, valid_until, digest, size, manifest_digest, summary, log_index, status, created_at) ",
        );
        q.push_values(chunk, |mut row, (log_index, e)| {
            let rec = &e.rec;
            row.push_bind(rec.id.clone())
                .push_bind(rec.kind)
                .push_bind(rec.agency.as_str().to_owned())
                .push_bind(rec.dossier.as_ref().map(|d| d.as_str().to_owned()))
                .push_bind(rec.component.clone())
                .push_bind(rec.scan)
                .push_bind(rec.owner_id.clone())
                .push_bind(rec.doc_type.clone())
                .push_bind(rec.number.clone())
                .push_bind(day(rec.issue_date))
                .push_bind(day(rec.valid_from))
                .push_bind(day(rec.valid_until))
                .push_bind(rec.digest.as_str().to_owned())
                .push_bind(rec.size as i64)
                .push_bind(rec.manifest_digest.as_str().to_owned())
                .push_bind(rec.summary.to_string())
                .push_bind(*log_index as i64)
                .push_bind(RecordStatus::Active.as_str())
                .push_bind(now);
        });
        q.push(" RETURNING *");
        for row in q.build().fetch_all(&mut **tx).await? {
            let record = record_row(&row)?;
            stored.insert(record.id.clone(), record);
        }
    }

    let mut q = QueryBuilder::<Postgres>::new("INSERT INTO audit (at, actor, role, agency, action, target, request_id, detail) ");
    for chunk in new.chunks(BINDS / 8) {
        q.reset();
        q.push_values(chunk, |mut row, e| {
            let a = &e.audit;
            row.push_bind(now)
                .push_bind(a.actor.id.clone())
                .push_bind(a.actor.role.clone())
                .push_bind(a.actor.agency.clone())
                .push_bind(a.action)
                .push_bind(format!("record:{}", e.rec.id))
                .push_bind(a.actor.request_id.clone())
                .push_bind(a.detail.to_string());
        });
        q.build().execute(&mut **tx).await?;
    }

    // Scans, components, dossiers: the order every transaction locks them in.
    let scans: Vec<i64> = new.iter().filter_map(|e| e.rec.scan).collect();
    if !scans.is_empty() {
        sqlx::query("UPDATE scans SET status = $1, updated_at = $2 WHERE id = ANY($3)")
            .bind(ScanStatus::Sealed.as_str())
            .bind(now)
            .bind(&scans)
            .execute(&mut **tx)
            .await?;
    }
    // Components in arrival order (a later record for one component wins, as one after
    // another), then each dossier settled once, in code order, on what they all left.
    let mut dossiers = BTreeMap::<&str, &DossierCode>::new();
    for e in new {
        if let (Some(dossier), Some(component)) = (&e.rec.dossier, &e.rec.component) {
            let flags = serde_json::to_string(&e.check.flags).map_err(|err| corrupt("components", err))?;
            sqlx::query("UPDATE components SET status = $1, flags = $2, record = $3 WHERE dossier = $4 AND component = $5")
                .bind(e.check.status.as_str())
                .bind(flags)
                .bind(&e.rec.id)
                .bind(dossier.as_str())
                .bind(component)
                .execute(&mut **tx)
                .await?;
            dossiers.insert(dossier.as_str(), dossier);
        }
    }
    for dossier in dossiers.into_values() {
        mark_complete(tx, dossier).await?;
    }
    Ok(stored)
}

fn day(d: Option<chrono::NaiveDate>) -> Option<String> {
    d.map(|d| d.format("%Y-%m-%d").to_string())
}
