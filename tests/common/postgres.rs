//! A database of its own for each test on the PostgreSQL server the test environment names
//! (`SOHOA_TEST_POSTGRES_URL`, set by `scripts/postgres-start.sh` under `make test`).
//! Databases are named `sohoa_t_...` and dropped when the test lets go of them;
//! `postgres-start.sh` drops those a day old that a killed run left behind.

use sqlx::{Connection, PgConnection};
use std::sync::atomic::{AtomicU32, Ordering};

/// The server's URL, when the environment names one.
pub fn server() -> Option<String> {
    std::env::var("SOHOA_TEST_POSTGRES_URL").ok().filter(|u| !u.is_empty())
}

/// A database made for one test; dropped, with any connection still open to it, on drop.
pub struct Scratch {
    pub url: String,
    admin: String,
    name: String,
}

impl Drop for Scratch {
    /// Sends the drop without waiting for it: PostgreSQL checkpoints before it drops a
    /// database (about 1.4 s here), and completes a statement it was sent even when the test
    /// process exits meanwhile. The test's runtime may be the one dropping this, so the
    /// statement runs on a thread and runtime of its own. A database left behind (the
    /// process killed) is dropped a day later by `postgres-start.sh`.
    fn drop(&mut self) {
        let (admin, name) = (self.admin.clone(), self.name.clone());
        std::thread::spawn(move || {
            let dropped = (|| -> Result<(), String> {
                let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
                runtime.block_on(async {
                    let mut admin = PgConnection::connect(&admin).await.map_err(|e| e.to_string())?;
                    let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                    sqlx::query(&sql).execute(&mut admin).await.map_err(|e| e.to_string())?;
                    admin.close().await.map_err(|e| e.to_string())
                })
            })();
            if let Err(e) = dropped {
                eprintln!("test database {name} left behind: {e}");
            }
        });
    }
}

/// Creates an empty database on the server `admin_url` connects to.
pub async fn scratch_database(admin_url: &str) -> Scratch {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
    let name = format!("sohoa_t_{}_{}_{}_{}", now.as_secs(), std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed), now.subsec_nanos());
    let mut admin = PgConnection::connect(admin_url).await.expect("the test PostgreSQL server takes connections");
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut admin).await.expect("the test role may create databases");
    admin.close().await.ok();
    let (base, _) = admin_url.rsplit_once('/').expect("a PostgreSQL URL names a database");
    Scratch { url: format!("{base}/{name}"), admin: admin_url.to_owned(), name }
}
