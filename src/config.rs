//! Layered configuration: built-in defaults < `sohoa.toml` < `SOHOA_*` environment.
//! Every key `k` can also be read from the file named by `SOHOA_K_FILE` (for secrets).

use crate::sign::{Pkcs11Uri, UriError};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("config file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("environment {var}: {message}")]
    Env { var: String, message: String },
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line, with the fields and spans (a request's id among them).
    Json,
}

impl LogFormat {
    fn parse(value: &str) -> Result<LogFormat, String> {
        match value {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            other => Err(format!("log_format must be text or json, not {other:?}")),
        }
    }
}

/// Every setting; see the README's table.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub listen: String,
    /// The agency this installation serves: demo tokens and local workers belong to it.
    pub agency: String,
    pub data_dir: PathBuf,
    pub index_url: String,
    /// PostgreSQL connections per process; a replica's handlers and job runners share them.
    pub index_pool_size: u32,
    /// How long a request waits for a PostgreSQL connection before the index is reported
    /// unavailable (503 `index_unavailable`), the server down or every connection busy.
    pub index_acquire_timeout: Interval,
    pub archive_url: String,
    pub policies_dir: PathBuf,
    /// Local worker processes that `serve` supervises; 0 runs none.
    pub workers: usize,
    /// Path of the `sohoa-worker` binary; by default the one beside `sohoa`.
    pub worker_binary: Option<PathBuf>,
    pub max_upload_bytes: u64,
    /// Largest back-file batch posted to `POST /imports`, every file and the sheet together;
    /// each file is limited by `max_upload_bytes`.
    pub max_import_bytes: u64,
    /// Most files in a back-file batch posted to `POST /imports`.
    pub max_import_files: usize,
    pub max_pixels: u64,
    pub max_pdf_pages: u32,
    /// Pixels of all pages of one scan together.
    pub max_scan_pixels: u64,
    pub lease_seconds: u64,
    /// The lease a replica holds on a singleton duty (the fixity schedule, signature
    /// renewal), renewed every third of it: another replica takes a duty over within this
    /// long of its holder's death.
    pub duty_lease_seconds: u64,
    /// This process's name as a duty's lease holder; by default `<host>:<pid>:<random>`.
    pub replica_id: String,
    pub max_attempts: u32,
    pub retry_base_seconds: u64,
    pub s3_endpoint: Option<String>,
    pub s3_region: String,
    pub s3_access_key_id: Option<String>,
    pub s3_secret_access_key: Option<String>,
    pub s3_allow_http: bool,
    /// Retries of a failed S3 request, with backoff, within `s3_retry_timeout`.
    pub s3_max_retries: usize,
    /// How long a failed S3 request is retried before the archive is reported unavailable
    /// (a client then gets 503 `archive_unavailable` and may try again).
    pub s3_retry_timeout: Interval,
    /// A second archive (same S3 settings) that fixity restores corrupt or missing objects from.
    pub archive_replica_url: Option<String>,
    /// How often `serve` runs a fixity pass; zero turns it off.
    pub fixity_interval: Interval,
    pub log: String,
    /// `text` (default) or `json`: one JSON object per log line, with the request's id.
    pub log_format: LogFormat,
    /// The agency's seal key and certificate, and the issuing chain embedded with it. With a
    /// key in a PKCS#11 token, an empty `seal_cert` takes the token's certificate.
    pub seal_key: KeySource,
    pub seal_cert: PathBuf,
    pub seal_chain: Option<PathBuf>,
    /// The user PIN of the token holding the seal key (give it as `SOHOA_SEAL_PIN_FILE`).
    pub seal_pin: Option<Secret>,
    /// Other agencies' seals: `<seals_dir>/<agency code>/seal.key` and `seal.pem` (and
    /// `chain.pem`, else `seal_chain`); a dossier's copies are sealed with its agency's seal.
    pub seals_dir: PathBuf,
    /// Root certificates (PEM) that `POST /verify` and sealing checks trust.
    pub trust_anchors: PathBuf,
    /// Officials' server-held keys: a signer token labelled `L` signs with `L.key`/`L.pem`.
    pub officials_dir: PathBuf,
    /// The transparency log's Ed25519 key (PKCS#8 PEM); its verifier key is written beside
    /// it with the extension `.pub`.
    pub tlog_key: PathBuf,
    /// The log's name, first line of its checkpoints; empty means `sohoa.example/<agency>`.
    pub tlog_origin: String,
    /// RFC 3161 time-stamp authority: with it, sealed copies and issued results are archived
    /// at PAdES B-LTA and renewed before their time-stamps expire.
    pub tsa_url: Option<String>,
    /// The desk's address as the public reaches it: issued results link their verification
    /// page there (`{public_url}/#/xac-minh/{result}`); `http://{listen}` when unset.
    pub public_url: Option<String>,
    /// Renew a record when its newest document time-stamp's TSA certificate expires within this.
    pub renewal_margin: Interval,
    /// How often `serve` looks for records to renew (with `tsa_url`); zero turns it off.
    pub renewal_interval: Interval,
    /// Time a client has to send a request's headers, counted from when the connection
    /// waits for a request: it also closes idle keep-alive connections; zero turns it off.
    pub header_timeout: Interval,
    /// Slowest request body accepted, in bytes a second, once `body_grace` has passed; a
    /// stalled upload is closed. Zero turns it off.
    pub body_min_rate: u64,
    pub body_grace: Interval,
    /// Open connections served at once; further clients wait in the listen backlog.
    pub max_connections: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: "127.0.0.1:8080".into(),
            agency: "000.00.31.H29".into(),
            data_dir: "data".into(),
            index_url: "sqlite://data/sohoa.db".into(),
            index_pool_size: 16,
            index_acquire_timeout: Interval(Duration::from_secs(5)),
            archive_url: "file://data/archive".into(),
            policies_dir: "policies".into(),
            workers: std::thread::available_parallelism().map_or(1, |n| n.get()),
            worker_binary: None,
            max_upload_bytes: 50 * 1024 * 1024,
            max_import_bytes: 1024 * 1024 * 1024,
            max_import_files: 2000,
            max_pixels: 60_000_000,
            max_pdf_pages: 200,
            max_scan_pixels: 4_000_000_000,
            lease_seconds: 60,
            duty_lease_seconds: 30,
            replica_id: String::new(),
            max_attempts: 5,
            retry_base_seconds: 5,
            s3_endpoint: None,
            s3_region: "garage".into(),
            s3_access_key_id: None,
            s3_secret_access_key: None,
            s3_allow_http: false,
            s3_max_retries: 10,
            s3_retry_timeout: Interval(Duration::from_secs(5)),
            archive_replica_url: None,
            fixity_interval: Interval(Duration::from_secs(24 * 3600)),
            log: "info".into(),
            log_format: LogFormat::Text,
            seal_key: KeySource::File("data/pki/seal.key".into()),
            seal_cert: "data/pki/seal.pem".into(),
            seal_chain: Some("data/pki/root.pem".into()),
            seal_pin: None,
            seals_dir: "data/pki/seals".into(),
            trust_anchors: "data/pki/root.pem".into(),
            officials_dir: "data/pki".into(),
            tlog_key: "data/tlog.key".into(),
            tlog_origin: String::new(),
            tsa_url: None,
            public_url: None,
            renewal_margin: Interval(Duration::from_secs(90 * 86_400)),
            renewal_interval: Interval(Duration::from_secs(24 * 3600)),
            header_timeout: Interval(Duration::from_secs(10)),
            body_min_rate: 1024,
            body_grace: Interval(Duration::from_secs(10)),
            max_connections: 1024,
        }
    }
}

/// A duration written `90s`, `30m`, `24h`, `7d` or plain seconds; zero means off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct Interval(pub Duration);

impl Interval {
    pub fn parse(text: &str) -> Result<Interval, String> {
        let text = text.trim();
        let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
        let (number, unit) = text.split_at(split);
        let n: u64 = number.parse().map_err(|_| format!("{text:?} is not a duration such as 90s, 30m, 24h or 7d"))?;
        let seconds = match unit {
            "" | "s" => 1,
            "m" => 60,
            "h" => 3600,
            "d" => 86_400,
            _ => return Err(format!("{text:?} is not a duration such as 90s, 30m, 24h or 7d")),
        };
        Ok(Interval(Duration::from_secs(n.saturating_mul(seconds))))
    }

    /// None when zero (off).
    pub fn every(self) -> Option<Duration> {
        (!self.0.is_zero()).then_some(self.0)
    }
}

impl TryFrom<String> for Interval {
    type Error = String;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        Interval::parse(&text)
    }
}

/// Where a signing key is: a key file, or an object in a PKCS#11 token (`pkcs11:` URI).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub enum KeySource {
    File(PathBuf),
    // Boxed: a parsed URI is many times the size of a path.
    Pkcs11(Box<Pkcs11Uri>),
}

impl KeySource {
    /// A `pkcs11:` URI, or else a path.
    pub fn parse(text: &str) -> Result<KeySource, UriError> {
        match text.get(..7) {
            Some(scheme) if scheme.eq_ignore_ascii_case("pkcs11:") => Pkcs11Uri::parse(text).map(|uri| KeySource::Pkcs11(Box::new(uri))),
            _ => Ok(KeySource::File(text.into())),
        }
    }
}

impl TryFrom<String> for KeySource {
    type Error = UriError;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        KeySource::parse(&text)
    }
}

impl From<PathBuf> for KeySource {
    fn from(path: PathBuf) -> Self {
        KeySource::File(path)
    }
}

/// A setting kept out of debug output and logs.
#[derive(Clone, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// Names of the keys, for the environment overlay.
const KEYS: [&str; 49] = [
    "listen",
    "agency",
    "data_dir",
    "index_url",
    "index_pool_size",
    "index_acquire_timeout",
    "archive_url",
    "policies_dir",
    "workers",
    "worker_binary",
    "max_upload_bytes",
    "max_import_bytes",
    "max_import_files",
    "max_pixels",
    "max_pdf_pages",
    "max_scan_pixels",
    "lease_seconds",
    "duty_lease_seconds",
    "replica_id",
    "max_attempts",
    "retry_base_seconds",
    "s3_endpoint",
    "s3_region",
    "s3_access_key_id",
    "s3_secret_access_key",
    "s3_allow_http",
    "s3_max_retries",
    "s3_retry_timeout",
    "archive_replica_url",
    "fixity_interval",
    "log",
    "log_format",
    "seal_key",
    "seal_cert",
    "seal_chain",
    "seal_pin",
    "seals_dir",
    "trust_anchors",
    "officials_dir",
    "tlog_key",
    "tlog_origin",
    "tsa_url",
    "public_url",
    "renewal_margin",
    "renewal_interval",
    "header_timeout",
    "body_min_rate",
    "body_grace",
    "max_connections",
];

impl Config {
    /// The transparency log's name: `tlog_origin`, or `sohoa.example/<agency>`.
    pub fn log_origin(&self) -> String {
        if self.tlog_origin.is_empty() {
            format!("sohoa.example/{}", self.agency)
        } else {
            self.tlog_origin.clone()
        }
    }

    /// The access log's name: the transparency log's, with `/access` after it.
    pub fn access_log_origin(&self) -> String {
        format!("{}/access", self.log_origin())
    }

    /// Loads `file` (or `./sohoa.toml` when it exists), then the process environment.
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        let default_file = Path::new("sohoa.toml");
        let file = file.or_else(|| default_file.exists().then_some(default_file));
        let mut config = match file {
            Some(path) => Config::from_file(path)?,
            None => Config::default(),
        };
        config.apply_env(|name| std::env::var(name).ok())?;
        Ok(config)
    }

    pub fn from_file(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.into(), source })?;
        toml::from_str(&text).map_err(|e| ConfigError::Parse { path: path.into(), message: e.message().to_owned() })
    }

    /// Overlays `SOHOA_<KEY>` and `SOHOA_<KEY>_FILE` from `env`.
    pub fn apply_env(&mut self, env: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        for key in KEYS {
            let var = format!("SOHOA_{}", key.to_ascii_uppercase());
            let file_var = format!("{var}_FILE");
            let value = match (env(&var), env(&file_var)) {
                (Some(v), _) => v,
                (None, Some(path)) => std::fs::read_to_string(&path)
                    .map(|s| s.trim_end_matches(['\n', '\r']).to_owned())
                    .map_err(|e| ConfigError::Env { var: file_var.clone(), message: format!("cannot read {path}: {e}") })?,
                (None, None) => continue,
            };
            self.set(key, &value).map_err(|message| ConfigError::Env { var, message })?;
        }
        Ok(())
    }

    fn set(&mut self, key: &str, value: &str) -> Result<(), String> {
        fn num<T: std::str::FromStr>(v: &str) -> Result<T, String> {
            v.trim().parse().map_err(|_| format!("{v:?} is not a number"))
        }
        fn flag(v: &str) -> Result<bool, String> {
            match v.trim() {
                "1" | "true" | "yes" => Ok(true),
                "0" | "false" | "no" => Ok(false),
                _ => Err(format!("{v:?} is not true or false")),
            }
        }
        let text = || value.to_owned();
        let opt = || (!value.is_empty()).then(text);
        match key {
            "listen" => self.listen = text(),
            "agency" => self.agency = text(),
            "data_dir" => self.data_dir = text().into(),
            "index_url" => self.index_url = text(),
            "index_pool_size" => self.index_pool_size = num(value)?,
            "index_acquire_timeout" => self.index_acquire_timeout = Interval::parse(value)?,
            "archive_url" => self.archive_url = text(),
            "policies_dir" => self.policies_dir = text().into(),
            "workers" => self.workers = num(value)?,
            "worker_binary" => self.worker_binary = opt().map(PathBuf::from),
            "max_upload_bytes" => self.max_upload_bytes = num(value)?,
            "max_import_bytes" => self.max_import_bytes = num(value)?,
            "max_import_files" => self.max_import_files = num(value)?,
            "max_pixels" => self.max_pixels = num(value)?,
            "max_pdf_pages" => self.max_pdf_pages = num(value)?,
            "max_scan_pixels" => self.max_scan_pixels = num(value)?,
            "lease_seconds" => self.lease_seconds = num(value)?,
            "duty_lease_seconds" => self.duty_lease_seconds = num(value)?,
            "replica_id" => self.replica_id = text(),
            "max_attempts" => self.max_attempts = num(value)?,
            "retry_base_seconds" => self.retry_base_seconds = num(value)?,
            "s3_endpoint" => self.s3_endpoint = opt(),
            "s3_region" => self.s3_region = text(),
            "s3_access_key_id" => self.s3_access_key_id = opt(),
            "s3_secret_access_key" => self.s3_secret_access_key = opt(),
            "s3_allow_http" => self.s3_allow_http = flag(value)?,
            "s3_max_retries" => self.s3_max_retries = num(value)?,
            "s3_retry_timeout" => self.s3_retry_timeout = Interval::parse(value)?,
            "archive_replica_url" => self.archive_replica_url = opt(),
            "fixity_interval" => self.fixity_interval = Interval::parse(value)?,
            "log" => self.log = text(),
            "log_format" => self.log_format = LogFormat::parse(value)?,
            "seal_key" => self.seal_key = KeySource::parse(value).map_err(|e| e.to_string())?,
            "seal_cert" => self.seal_cert = text().into(),
            "seal_chain" => self.seal_chain = opt().map(PathBuf::from),
            "seal_pin" => self.seal_pin = opt().map(Secret),
            "seals_dir" => self.seals_dir = text().into(),
            "trust_anchors" => self.trust_anchors = text().into(),
            "officials_dir" => self.officials_dir = text().into(),
            "tlog_key" => self.tlog_key = text().into(),
            "tlog_origin" => self.tlog_origin = text(),
            "tsa_url" => self.tsa_url = opt(),
            "public_url" => self.public_url = opt(),
            "renewal_margin" => self.renewal_margin = Interval::parse(value)?,
            "renewal_interval" => self.renewal_interval = Interval::parse(value)?,
            "header_timeout" => self.header_timeout = Interval::parse(value)?,
            "body_min_rate" => self.body_min_rate = num(value)?,
            "body_grace" => self.body_grace = Interval::parse(value)?,
            "max_connections" => self.max_connections = num(value)?,
            other => return Err(format!("unknown key {other}")),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn environment_overrides_file_and_file_variants_hold_secrets() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("sohoa.toml");
        std::fs::write(&file, "listen = \"0.0.0.0:9000\"\nworkers = 3\nindex_url = \"sqlite://x.db\"\n").unwrap();
        let secret = dir.path().join("secret");
        std::fs::write(&secret, "s3cr3t\n").unwrap();
        let mut config = Config::from_file(&file).unwrap();
        assert_eq!(config.workers, 3);
        let env: HashMap<String, String> =
            [("SOHOA_WORKERS", "7"), ("SOHOA_S3_ALLOW_HTTP", "true"), ("SOHOA_S3_SECRET_ACCESS_KEY_FILE", secret.to_str().unwrap())]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect();
        config.apply_env(|k| env.get(k).cloned()).unwrap();
        assert_eq!(config.listen, "0.0.0.0:9000");
        assert_eq!(config.index_url, "sqlite://x.db");
        assert_eq!(config.workers, 7);
        assert!(config.s3_allow_http);
        assert_eq!(config.s3_secret_access_key.as_deref(), Some("s3cr3t"));
        assert_eq!(config.archive_url, "file://data/archive");
    }

    #[test]
    fn intervals_take_units_and_zero_is_off() {
        assert_eq!(Config::default().fixity_interval.every(), Some(Duration::from_secs(86_400)));
        assert_eq!(Interval::parse("90").unwrap().0, Duration::from_secs(90));
        assert_eq!(Interval::parse("30m").unwrap().0, Duration::from_secs(1800));
        assert_eq!(Interval::parse("7d").unwrap().0, Duration::from_secs(7 * 86_400));
        assert_eq!(Interval::parse("0").unwrap().every(), None);
        for bad in ["", "h", "1w", "-1s", "1.5h"] {
            assert!(Interval::parse(bad).is_err(), "{bad:?}");
        }
        let config: Config = toml::from_str("fixity_interval = \"12h\"\narchive_replica_url = \"s3://replica\"\n").unwrap();
        assert_eq!(config.fixity_interval.0, Duration::from_secs(12 * 3600));
        assert_eq!(config.archive_replica_url.as_deref(), Some("s3://replica"));
    }

    #[test]
    fn seal_key_is_a_path_or_a_pkcs11_uri_and_the_pin_a_hidden_file_setting() {
        let dir = tempfile::tempdir().unwrap();
        let pin = dir.path().join("pin");
        std::fs::write(&pin, "1234\n").unwrap();
        assert_eq!(Config::default().seal_key, KeySource::File("data/pki/seal.key".into()));
        let mut config: Config = toml::from_str("seal_key = \"pkcs11:token=seal;object=seal\"\n").unwrap();
        let KeySource::Pkcs11(uri) = &config.seal_key else { panic!("not a URI: {:?}", config.seal_key) };
        assert_eq!((uri.token.as_deref(), uri.object.as_deref()), (Some("seal"), Some("seal")));
        let env = |k: &str| match k {
            "SOHOA_SEAL_KEY" => Some("/keys/seal.key".to_owned()),
            "SOHOA_SEAL_PIN_FILE" => Some(pin.display().to_string()),
            _ => None,
        };
        config.apply_env(env).unwrap();
        assert_eq!(config.seal_key, KeySource::File("/keys/seal.key".into()));
        assert_eq!(config.seal_pin.as_ref().map(Secret::expose), Some("1234"));
        assert!(!format!("{config:?}").contains("1234"), "the PIN stays out of debug output");
        let err = config.apply_env(|k| (k == "SOHOA_SEAL_KEY").then(|| "pkcs11:object=a?pin-value=1".to_owned())).unwrap_err();
        assert!(err.to_string().contains("SOHOA_SEAL_KEY") && err.to_string().contains("pin-value"), "{err}");
        assert!(toml::from_str::<Config>("seal_key = \"pkcs11:object=a;object=b\"\n").is_err());
    }

    #[test]
    fn bad_values_name_the_variable() {
        let mut config = Config::default();
        let err = config.apply_env(|k| (k == "SOHOA_MAX_PIXELS").then(|| "lots".to_owned())).unwrap_err();
        assert!(err.to_string().contains("SOHOA_MAX_PIXELS"), "{err}");
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("sohoa.toml");
        std::fs::write(&file, "colour = 1\n").unwrap();
        assert!(Config::from_file(&file).unwrap_err().to_string().contains("unknown field"));
    }
}
