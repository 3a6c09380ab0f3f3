//! PostgreSQL: the schema (`migrations/postgres`, the twin of `migrations/sqlite` in
//! PostgreSQL's types) and the connection pool the backend runs on.

use super::Result;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;
use std::str::FromStr;
use std::time::Duration;

/// Connections per process: a replica's handlers and job runners share them.
const CONNECTIONS: u32 = 16;

/// Connects to the database `url` names and brings its schema up to date. Replicas starting
/// together are safe: sqlx takes an advisory lock around the migrations.
pub async fn connect(url: &str) -> Result<PgPool> {
    let options = PgConnectOptions::from_str(url)?.application_name("sohoa");
    let pool = PgPoolOptions::new().max_connections(CONNECTIONS).acquire_timeout(Duration::from_secs(10)).connect_with(options).await?;
    sqlx::migrate!("./migrations/postgres").run(&pool).await?;
    Ok(pool)
}
