//! Builds the running service from a config: catalog, index, archive, HTTP server and the
//! supervised local workers.

use crate::api::{self, issue_scoped_token, AppState, LogSigner};
use crate::archive::Archive;
use crate::config::{Config, KeySource, Secret};
use crate::domain::{AgencyCode, Role};
use crate::index;
use crate::intake::MediaLimits;
use crate::policy;
use crate::policy::{Agency, Catalog};
use crate::queue::RetryPolicy;
use crate::seal::{AgencySeal, Sealer, SealerContext};
use crate::server::HttpLimits;
use crate::service::duties::Singleton;
use crate::service::imports::posted::Runner;
use crate::sign::{FileSigner, Pkcs11Signer, Signer};
use crate::supervise::Supervisor;
use crate::tlog::SignerKey;
use anyhow::Context as _;
use futures::future::BoxFuture;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{watch, Notify};

/// A bound, ready-to-run service.
pub struct Service {
    pub addr: SocketAddr,
    pub state: Arc<AppState>,
    listener: TcpListener,
    http: HttpLimits,
    supervisor: Option<Supervisor>,
    worker_token: Option<i64>,
    sealer: Option<Sealer>,
    fixity: Option<Fixity>,
    renewal: Option<(Duration, crate::renewal::Renewal)>,
    /// Runs back-file batches posted to the service.
    imports: Runner,
    /// The lease on each singleton duty, and this process's name as its holder.
    duty_lease: Duration,
    holder: String,
}

/// The scheduled fixity pass: how often, and the replica to restore from.
struct Fixity {
    every: Duration,
    replica: Option<Archive>,
}

/// Loads everything the config names; fails on a bad catalog, index or archive.
pub async fn build_state(config: &Config) -> anyhow::Result<Arc<AppState>> {
    let catalog = policy::load(&config.policies_dir)?;
    let index = index::open_with(&config.index_url, index::PoolSettings::of(config)).await?;
    let archive = Archive::open(config)?;
    let (log_signer, access_signer) = log_signers(config)?;
    Ok(Arc::new(AppState {
        index,
        archive,
        catalog: Arc::new(catalog),
        max_upload_bytes: config.max_upload_bytes,
        import_limits: crate::service::imports::posted::Limits {
            file_bytes: config.max_upload_bytes,
            total_bytes: config.max_import_bytes,
            files: config.max_import_files,
        },
        media_limits: MediaLimits {
            max_pixels: config.max_pixels,
            max_pages: config.max_pdf_pages,
            max_scan_pixels: config.max_scan_pixels,
        },
        retry: RetryPolicy {
            base: Duration::from_secs(config.retry_base_seconds),
            max_attempts: config.max_attempts.max(1),
            lease: Duration::from_secs(config.lease_seconds.max(1)),
        },
        trust_anchors: trust_anchors(config)?,
        officials_dir: config.officials_dir.clone(),
        officials_chain: config.seal_chain.clone(),
        jobs_queued: Arc::new(Notify::new()),
        stopping: watch::channel(false).0,
        log_signer,
        access_signer,
        tsa_url: config.tsa_url.clone(),
        public_url: config.public_url.clone().unwrap_or_else(|| format!("http://{}", config.listen)).trim_end_matches('/').to_owned(),
    }))
}

/// The transparency log's key, named by the records' log's origin, and the same key named
/// by the access log's; without one, records and reads are still logged but checkpoints are
/// refused, and a warning says so once.
fn log_signers(config: &Config) -> anyhow::Result<(Option<LogSigner>, Option<LogSigner>)> {
    if !config.tlog_key.exists() {
        tracing::warn!(key = %config.tlog_key.display(), "no transparency log key: checkpoints cannot be signed until one is configured");
        return Ok((None, None));
    }
    let pem = std::fs::read(&config.tlog_key).with_context(|| format!("cannot read {}", config.tlog_key.display()))?;
    let named = |origin: String| {
        SignerKey::from_pkcs8(&origin, &pem).with_context(|| format!("{} (setting `tlog_key`)", config.tlog_key.display()))
    };
    Ok((Some(LogSigner::new(named(config.log_origin())?)), Some(LogSigner::new(named(config.access_log_origin())?))))
}

/// The configured roots; none (everything untrusted) when the file is absent.
fn trust_anchors(config: &Config) -> anyhow::Result<Vec<Vec<u8>>> {
    if !config.trust_anchors.exists() {
        tracing::warn!(file = %config.trust_anchors.display(), "no trust anchors: every signature will be reported untrusted");
        return Ok(Vec::new());
    }
    Ok(crate::sign::load_certificates(&config.trust_anchors)?)
}

/// The `sohoa-worker` binary: configured, or the one beside the running executable.
pub fn worker_binary(config: &Config) -> PathBuf {
    if let Some(path) = &config.worker_binary {
        return path.clone();
    }
    let beside = std::env::current_exe().ok().and_then(|exe| exe.parent().map(|dir| dir.join("sohoa-worker")));
    beside.unwrap_or_else(|| PathBuf::from("sohoa-worker"))
}

impl Service {
    pub async fn build(config: &Config) -> anyhow::Result<Service> {
        let started = std::time::SystemTime::now();
        let state = build_state(config).await?;
        // Jobs other replicas queue wake this one's idle workers and sealer too.
        state.index.wake_on_queued(state.jobs_queued.clone()).await?;
        remove_leftovers(&state.archive, started).await;
        let listener = TcpListener::bind(&config.listen).await?;
        let addr = listener.local_addr()?;
        let token_file = config.data_dir.join("worker.token");
        // A previous run killed outright never revoked its workers' token.
        revoke_local_token(state.index.as_ref(), &token_file).await?;
        let (supervisor, worker_token) = if config.workers > 0 {
            let agency = home_agency(config, &state.catalog)?.code.clone();
            // The installation's own workers run every agency's jobs; what they report is
            // proved before anything is sealed (custody).
            let shared = crate::index::Scope { every_agency: true, ..Default::default() };
            let (token_id, secret) = issue_scoped_token(state.index.as_ref(), Role::Worker, &agency, "local workers", &shared).await?;
            write_secret(&token_file, &secret)?;
            let api_url = format!("http://{addr}");
            let supervisor = Supervisor::start(worker_binary(config), config.workers, api_url, token_file)?;
            (Some(supervisor), Some(token_id))
        } else {
            (None, None)
        };
        let sealer = sealer(config, &state)?;
        let imports = Runner {
            index: state.index.clone(),
            archive: state.archive.clone(),
            catalog: state.catalog.clone(),
            seals: Arc::new(agency_seals(config, &state.catalog)?),
            limits: state.media_limits,
            max_attempts: config.max_attempts.max(1),
            ocr_timeout: IMPORT_OCR_TIMEOUT,
        };
        let replica = config.archive_replica_url.as_deref().map(|url| Archive::open_url(url, config)).transpose()?;
        let fixity = config.fixity_interval.every().map(|every| Fixity { every, replica });
        let renewal = match (config.renewal_interval.every(), &config.tsa_url) {
            (Some(every), Some(tsa_url)) => {
                let revocation = crate::sign::ltv::Revocation { crls: Vec::new(), fetch: true };
                Some((every, crate::renewal::Renewal { tsa_url: tsa_url.clone(), margin: config.renewal_margin.0, revocation }))
            }
            _ => None,
        };
        let holder = if config.replica_id.is_empty() { crate::service::duties::default_holder() } else { config.replica_id.clone() };
        let duty_lease = Duration::from_secs(config.duty_lease_seconds.max(1));
        Ok(Service {
            addr,
            state,
            listener,
            http: HttpLimits::from_config(config),
            supervisor,
            worker_token,
            sealer,
            fixity,
            renewal,
            imports,
            duty_lease,
            holder,
        })
    }

    /// Serves until `shutdown` resolves. Workers stop first (finishing their jobs while the
    /// API still answers), then waiting claims are released and the server drains.
    pub async fn run(self, shutdown: impl std::future::Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        tracing::info!(addr = %self.addr, holder = %self.holder, "sohoa listening");
        let app = api::router(self.state.clone());
        let sealing = self.sealer.map(|s| tokio::spawn(s.run()));
        let duty = |name: &'static str, every: Duration| Singleton {
            name,
            every,
            lease: self.duty_lease,
            holder: self.holder.clone(),
            index: self.state.index.clone(),
        };
        let auditing = self.fixity.map(|f| tokio::spawn(scheduled_fixity(self.state.clone(), duty(FIXITY, f.every), f)));
        let renewing = self.renewal.map(|(every, r)| tokio::spawn(scheduled_renewal(self.state.clone(), duty(RENEWAL, every), r)));
        let importing = tokio::spawn(scheduled_imports(self.state.clone(), duty(IMPORTS, IMPORTS_EVERY), self.imports));
        let state = self.state.clone();
        let supervisor = self.supervisor;
        let drain = async move {
            shutdown.await;
            tracing::info!("stopping");
            if let Some(supervisor) = supervisor {
                supervisor.stop().await;
            }
            let _ = state.stopping.send(true);
        };
        crate::server::serve(self.listener, app, self.http, drain).await?;
        if let Some(sealing) = sealing {
            let _ = sealing.await;
        }
        if let Some(renewing) = renewing {
            let _ = renewing.await;
        }
        if let Some(auditing) = auditing {
            let _ = auditing.await;
        }
        let _ = importing.await;
        if let Some(id) = self.worker_token {
            self.state.index.revoke_token(id).await?;
        }
        tracing::info!("sohoa stopped");
        Ok(())
    }
}

/// Revokes the token whose secret `token_file` holds (the last run's local workers'), if it
/// is still active; a missing file is a first start.
async fn revoke_local_token(index: &dyn crate::index::Index, token_file: &std::path::Path) -> anyhow::Result<()> {
    let secret = match std::fs::read_to_string(token_file) {
        Ok(s) => s.trim().to_owned(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(anyhow::Error::new(e).context(format!("cannot read {}", token_file.display()))),
    };
    if let Some(token) = index.token_by_hash(crate::domain::Digest::of(secret.as_bytes()).as_str()).await? {
        index.revoke_token(token.id).await?;
        tracing::info!(token = token.id, "revoked the local workers' token of a previous run");
    }
    Ok(())
}

/// Deletes what writes cut short by a crash left in the archive (see `Archive::leftovers`):
/// only objects last modified before `started`, so another instance's upload under way is
/// left alone. A failure is logged, never fatal: fixity reports what stays.
async fn remove_leftovers(archive: &Archive, started: std::time::SystemTime) {
    match archive.remove_leftovers(started).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(removed = n, "removed leftovers of interrupted archive writes"),
        Err(e) => tracing::warn!(code = e.code(), error = %e, "cannot remove leftovers of interrupted archive writes"),
    }
}

/// The lease of the scheduled fixity pass.
pub const FIXITY: &str = "fixity";
/// The lease of the scheduled signature renewal.
pub const RENEWAL: &str = "renewal";

/// The lease of the duty that runs back-file batches posted to the service.
pub const IMPORTS: &str = crate::service::imports::posted::LEASE;
/// How often the replica holding the imports lease looks for batches to run.
const IMPORTS_EVERY: Duration = Duration::from_secs(1);
/// How long a posted batch's documents wait for a worker to read them, as `sohoa import`'s
/// default `--ocr-timeout`.
const IMPORT_OCR_TIMEOUT: Duration = Duration::from_secs(300);

/// Runs the batches posted to `POST /imports` on the replica that holds the imports lease,
/// each still running when it takes the lease first (a batch cut off by a stop, a crash or a
/// lost lease resumes there, its settled documents skipped).
async fn scheduled_imports(state: Arc<AppState>, duty: Singleton, runner: Runner) {
    let stopping = state.stopping.subscribe();
    let runner = Arc::new(runner);
    let pass = move || -> BoxFuture<'static, ()> {
        let runner = runner.clone();
        Box::pin(async move { runner.pass().await })
    };
    duty.run(stopping, || -> BoxFuture<'static, Option<i64>> { Box::pin(async { None }) }, pass).await;
}

/// A fixity pass every `every` on the replica that holds the fixity lease, `every` after the
/// last pass any replica kept (or after the lease was taken, before the first); a pass under
/// way when the service stops or the lease is lost is abandoned (nothing is half-written:
/// restores go through `tmp/`).
async fn scheduled_fixity(state: Arc<AppState>, duty: Singleton, fixity: Fixity) {
    let stopping = state.stopping.subscribe();
    let replica = Arc::new(fixity.replica);
    let index = state.index.clone();
    let last_run = move || -> BoxFuture<'static, Option<i64>> {
        let index = index.clone();
        Box::pin(async move { index.latest_fixity_run().await.ok().flatten().map(|run| run.started_at_ms) })
    };
    let pass = move || -> BoxFuture<'static, ()> {
        let (state, replica) = (state.clone(), replica.clone());
        Box::pin(async move {
            if let Err(e) = crate::archive::audit(state.index.as_ref(), &state.archive, replica.as_ref().as_ref()).await {
                tracing::error!(code = e.code(), error = %e, "scheduled fixity pass failed");
            }
        })
    };
    duty.run(stopping, last_run, pass).await;
}

/// Renews the records whose document time-stamps near expiry every `every` on the replica
/// that holds the renewal lease, the first pass one interval after it took it; a pass still
/// running when the service stops or the lease is lost is abandoned (each renewal is one
/// transaction, written after its content is archived).
async fn scheduled_renewal(state: Arc<AppState>, duty: Singleton, renewal: crate::renewal::Renewal) {
    let stopping = state.stopping.subscribe();
    let renewal = Arc::new(renewal);
    let pass = move || -> BoxFuture<'static, ()> {
        let (state, renewal) = (state.clone(), renewal.clone());
        Box::pin(async move {
            match crate::renewal::run(&state.index, &state.archive, &renewal, false).await {
                Ok(report) => {
                    tracing::info!(checked = report.checked, renewed = report.renewed.len(), failed = report.failed.len(), "renewal pass")
                }
                Err(e) => tracing::error!(code = e.code(), error = %e, "scheduled renewal pass failed"),
            }
        })
    };
    duty.run(stopping, || -> BoxFuture<'static, Option<i64>> { Box::pin(async { None }) }, pass).await;
}

/// The seal stage, with every seal the installation holds: the home agency's (`seal_key`) and
/// those under `seals_dir`. Without any, copies are not sealed and a warning says so once.
fn sealer(config: &Config, state: &Arc<AppState>) -> anyhow::Result<Option<Sealer>> {
    let seals = agency_seals(config, &state.catalog)?;
    if seals.is_empty() {
        return Ok(None);
    }
    tracing::info!(agencies = ?seals.keys().map(AgencyCode::as_str).collect::<Vec<_>>(), "agency seals loaded");
    let context = SealerContext {
        index: state.index.clone(),
        archive: state.archive.clone(),
        catalog: state.catalog.clone(),
        retry: state.retry,
        jobs_queued: state.jobs_queued.clone(),
        stopping: state.stopping.subscribe(),
    };
    Ok(Some(Sealer::new(context, seals).with_tsa(config.tsa_url.clone())))
}

/// The seals by agency: the home agency's from `seal_key`, each other catalog agency's from
/// `<seals_dir>/<code>/seal.key` and `seal.pem` when present (`chain.pem` there, else
/// `seal_chain`, is embedded with it).
pub fn agency_seals(config: &Config, catalog: &Catalog) -> anyhow::Result<BTreeMap<AgencyCode, AgencySeal>> {
    let mut seals = BTreeMap::new();
    let home = home_agency(config, catalog)?;
    if let Some(signer) = seal_signer(config)? {
        seals.insert(home.code.clone(), AgencySeal { signer, name: home.name.clone() });
    }
    let have_home = seals.contains_key(&home.code);
    for agency in catalog.agencies.values().filter(|a| !(have_home && a.code == home.code)) {
        let dir = config.seals_dir.join(agency.code.as_str());
        let key = dir.join("seal.key");
        if !key.exists() {
            continue;
        }
        let chain = Some(dir.join("chain.pem")).filter(|c| c.exists()).or_else(|| config.seal_chain.clone());
        let signer = FileSigner::from_files(&key, &dir.join("seal.pem"), chain.as_deref())
            .with_context(|| format!("the seal of agency {} in {}", agency.code, dir.display()))?;
        seals.insert(agency.code.clone(), AgencySeal { signer: Arc::new(signer), name: agency.name.clone() });
    }
    Ok(seals)
}

/// The agency's seal key: a key file (None when absent), or a key in a PKCS#11 token, which
/// must open, accept the PIN and match the certificate now rather than at the first seal.
pub fn seal_signer(config: &Config) -> anyhow::Result<Option<Arc<dyn Signer>>> {
    match &config.seal_key {
        KeySource::File(key) if !key.exists() => {
            tracing::warn!(key = %key.display(), "no seal key: digitized copies stay unsealed until one is configured");
            Ok(None)
        }
        KeySource::File(key) => Ok(Some(Arc::new(FileSigner::from_files(key, &config.seal_cert, config.seal_chain.as_deref())?))),
        KeySource::Pkcs11(uri) => {
            let cert = (!config.seal_cert.as_os_str().is_empty()).then_some(config.seal_cert.as_path());
            let pin = config.seal_pin.as_ref().map(Secret::expose);
            let signer = Pkcs11Signer::open(uri, pin, cert, config.seal_chain.as_deref())
                .map_err(|e| anyhow::anyhow!("seal_key {uri}: {e} ({})", e.code()))?;
            tracing::info!(key = %uri, algorithm = ?signer.algorithm(), "seal key in a PKCS#11 token");
            Ok(Some(Arc::new(signer)))
        }
    }
}

/// The configured agency, which must be in the catalog.
pub fn home_agency<'c>(config: &Config, catalog: &'c Catalog) -> anyhow::Result<&'c Agency> {
    let code = AgencyCode::parse(&config.agency)?;
    catalog.agencies.get(&code).ok_or_else(|| anyhow::anyhow!("agency {code} (setting `agency`) is not in the policy catalog"))
}

/// Writes a secret readable by the owner only.
pub fn write_secret(path: &std::path::Path, secret: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut file = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path)?;
    writeln!(file, "{secret}")
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
