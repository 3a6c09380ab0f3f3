use super::EXIT_INPUT;
use crate::sign::FileSigner;
use crate::tsa::{Responder, TsaServeError, MAX_REQUEST_BYTES};
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use clap::Subcommand;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Subcommand)]
pub enum TsaCommand {
    /// Serve RFC 3161 time-stamps over HTTP (POST application/timestamp-query to any path)
    Serve {
        /// Address to listen on; port 0 picks a free one (the address is printed)
        #[arg(long, default_value = "127.0.0.1:3161")]
        addr: String,
        /// TSA certificate (PEM, critical extended key usage timeStamping); more certificates in the file form the chain
        #[arg(long, default_value = "data/pki/tsa.pem")]
        cert: PathBuf,
        /// TSA private key
        #[arg(long, default_value = "data/pki/tsa.key")]
        key: PathBuf,
        /// Issuing certificates to include in tokens
        #[arg(long)]
        chain: Option<PathBuf>,
    },
}

pub async fn run(command: TsaCommand) -> ExitCode {
    let TsaCommand::Serve { addr, cert, key, chain } = command;
    let signer = match FileSigner::from_files(&key, &cert, chain.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_INPUT);
        }
    };
    let listener = match tokio::net::TcpListener::bind(&addr).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: cannot listen on {addr}: {e}");
            return ExitCode::from(EXIT_INPUT);
        }
    };
    let responder = Arc::new(Responder::new(signer));
    let app =
        axum::Router::new().fallback(axum::routing::post(stamp)).layer(DefaultBodyLimit::max(MAX_REQUEST_BYTES)).with_state(responder);
    match listener.local_addr() {
        Ok(a) => println!("listening on http://{a}/"),
        Err(e) => eprintln!("warning: {e}"),
    }
    if let Err(e) = axum::serve(listener, app).with_graceful_shutdown(shutdown()).await {
        eprintln!("error: {e}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

async fn stamp(State(responder): State<Arc<Responder>>, body: Bytes) -> axum::response::Response {
    // Signing is CPU work; keep it off the async workers.
    let result = tokio::task::spawn_blocking(move || responder.respond(&body)).await;
    match result {
        Ok(Ok(reply)) => ([(header::CONTENT_TYPE, "application/timestamp-reply")], reply).into_response(),
        Ok(Err(TsaServeError::BadRequest(e))) => (StatusCode::BAD_REQUEST, e).into_response(),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "time-stamp signing failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

async fn shutdown() {
    let _ = tokio::signal::ctrl_c().await;
}
