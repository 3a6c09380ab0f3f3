//! Dossiers and their checklists in SQLite.

use super::*;

fn dossier_row(r: &SqliteRow) -> Result<Dossier> {
    let code: String = r.get("code");
    let agency: String = r.get("agency");
    Ok(Dossier {
        code: DossierCode::parse(&code).map_err(|e| corrupt("dossiers", e))?,
        agency: AgencyCode::parse(&agency).map_err(|e| corrupt("dossiers", e))?,
        procedure: r.get("procedure"),
        applicant: Applicant { kind: r.get("applicant_kind"), id: r.get("applicant_id"), name: r.get("applicant_name") },
        status: parse_state(r, "dossiers", DossierStatus::parse)?,
        received_at_ms: r.get("received_at"),
        due_at_ms: r.get("due_at"),
        components: Vec::new(),
        scans: Vec::new(),
    })
}

/// A dossier's checklist, read on `conn` (inside the reader's transaction).
async fn components(conn: &mut sqlx::SqliteConnection, code: &str) -> Result<Vec<ComponentState>> {
    let rows = sqlx::query("SELECT component, required, status, flags, record, reused FROM components WHERE dossier = ? ORDER BY position")
        .bind(code)
        .fetch_all(&mut *conn)
        .await?;
    rows.iter()
        .map(|r| {
            Ok(ComponentState {
                component: r.get("component"),
                required: r.get("required"),
                status: parse_state(r, "components", ComponentStatus::parse)?,
                flags: serde_json::from_str(r.get("flags")).map_err(|e| corrupt("components", e))?,
                record: r.get("record"),
                reused: r.get("reused"),
            })
        })
        .collect()
}

/// A dossier's scans, read on `conn` (inside the reader's transaction).
async fn scans_of(conn: &mut sqlx::SqliteConnection, code: &str) -> Result<Vec<Scan>> {
    let rows = sqlx::query("SELECT * FROM scans WHERE dossier = ? ORDER BY id").bind(code).fetch_all(&mut *conn).await?;
    rows.iter().map(scans::scan_row).collect()
}

#[async_trait]
impl DossierStore for SqliteIndex {
    async fn create_dossier(&self, d: NewDossier, entry: AuditEntry) -> Result<DossierCode> {
        let mut tx = self.write().await?;
        let day = d.day.format("%Y-%m-%d").to_string();
        let seq: i64 = sqlx::query_scalar(
            "INSERT INTO dossier_counters (agency, day, last) VALUES (?, ?, 1) \
             ON CONFLICT (agency, day) DO UPDATE SET last = last + 1 RETURNING last",
        )
        .bind(d.agency.as_str())
        .bind(&day)
        .fetch_one(&mut *tx)
        .await?;
        let exhausted = || IndexError::SequenceExhausted { agency: d.agency.clone(), day: d.day };
        let seq = u32::try_from(seq).map_err(|_| exhausted())?;
        let code = DossierCode::new(&d.agency, d.day, seq).map_err(|_| exhausted())?;
        sqlx::query(
            "INSERT INTO dossiers (code, agency, procedure, applicant_kind, applicant_id, applicant_name, status, received_at, due_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(code.as_str())
        .bind(d.agency.as_str())
        .bind(&d.procedure)
        .bind(&d.applicant.kind)
        .bind(&d.applicant.id)
        .bind(&d.applicant.name)
        .bind(DossierStatus::INITIAL.as_str())
        .bind(d.received_at_ms)
        .bind(d.due_at_ms)
        .execute(&mut *tx)
        .await?;
        for (position, (component, required)) in d.components.iter().enumerate() {
            sqlx::query("INSERT INTO components (dossier, component, position, required, status) VALUES (?, ?, ?, ?, ?)")
                .bind(code.as_str())
                .bind(component)
                .bind(position as i64)
                .bind(required)
                .bind(ComponentStatus::INITIAL.as_str())
                .execute(&mut *tx)
                .await?;
        }
        audit(&mut tx, &entry, code.as_str()).await?;
        tx.commit().await?;
        Ok(code)
    }

    async fn dossier(&self, code: &DossierCode) -> Result<Option<Dossier>> {
        // One snapshot: a scan sealed between two reads would show beside its component unchecked.
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query("SELECT * FROM dossiers WHERE code = ?").bind(code.as_str()).fetch_optional(&mut *tx).await?;
        let Some(row) = row else { return Ok(None) };
        let mut dossier = dossier_row(&row)?;
        dossier.components = components(&mut tx, code.as_str()).await?;
        dossier.scans = scans_of(&mut tx, code.as_str()).await?;
        tx.commit().await?;
        Ok(Some(dossier))
    }

    async fn list_dossiers(&self, f: &DossierFilter) -> Result<Vec<Dossier>> {
        let mut tx = self.pool.begin().await?;
        let rows = sqlx::query(
            "SELECT * FROM dossiers WHERE (?1 IS NULL OR agency = ?1) AND (?2 IS NULL OR status = ?2) \
             AND (?3 IS NULL OR received_at >= ?3) AND (?4 IS NULL OR received_at < ?4) \
             ORDER BY received_at DESC, code DESC LIMIT ?5",
        )
        .bind(f.agency.as_ref().map(|a| a.as_str()))
        .bind(f.status.as_deref())
        .bind(f.from_ms)
        .bind(f.to_ms)
        .bind(f.limit as i64)
        .fetch_all(&mut *tx)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let mut d = dossier_row(row)?;
            d.components = components(&mut tx, d.code.as_str()).await?;
            out.push(d);
        }
        tx.commit().await?;
        Ok(out)
    }

    async fn set_dossier_status(&self, code: &DossierCode, from: DossierStatus, to: DossierStatus, entry: AuditEntry) -> Result<bool> {
        let mut tx = self.write().await?;
        let done = sqlx::query("UPDATE dossiers SET status = ? WHERE code = ? AND status = ?")
            .bind(to.as_str())
            .bind(code.as_str())
            .bind(from.as_str())
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        audit(&mut tx, &entry, &format!("dossier:{code}")).await?;
        tx.commit().await?;
        Ok(true)
    }
}
