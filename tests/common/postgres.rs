//! A database of its own for each test on the PostgreSQL server the test environment names
//! (`SOHOA_TEST_POSTGRES_URL`, set by `scripts/postgres-start.sh` under `make test`).
//! Databases are named `sohoa_t_...`; `postgres-start.sh` drops those a day old.

use sqlx::{Connection, PgConnection};
use std::sync::atomic::{AtomicU32, Ordering};

/// The server's URL, when the environment names one.
pub fn server() -> Option<String> {
    std::env::var("SOHOA_TEST_POSTGRES_URL").ok().filter(|u| !u.is_empty())
}

/// Creates an empty database on the server `admin_url` connects to and returns its URL.
pub async fn scratch_database(admin_url: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
    let name = format!("sohoa_t_{}_{}_{}_{}", now.as_secs(), std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed), now.subsec_nanos());
    let mut admin = PgConnection::connect(admin_url).await.expect("the test PostgreSQL server takes connections");
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut admin).await.expect("the test role may create databases");
    admin.close().await.ok();
    let (base, _) = admin_url.rsplit_once('/').expect("a PostgreSQL URL names a database");
    format!("{base}/{name}")
}
