use super::EXIT_INPUT;
use crate::pki::ocsp::{Responder, MAX_REQUEST_BYTES};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use bytes::Bytes;
use clap::Subcommand;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Subcommand)]
pub enum PkiCommand {
    /// Write a demo root CA, the agency seal, officials (one revoked), a TSA certificate and
    /// the root's CRL into DIR
    Demo {
        dir: PathBuf,
        /// CRL distribution point every issued certificate names (where `pki serve` runs)
        #[arg(long)]
        crl_url: Option<String>,
        /// OCSP responder every issued certificate names (`pki serve`'s /ocsp)
        #[arg(long)]
        ocsp_url: Option<String>,
        /// Policy catalog whose other agencies get a seal each, in DIR/seals/<code>/ (skipped
        /// when the directory is absent)
        #[arg(long, default_value = "policies")]
        policies: PathBuf,
        /// The agency whose seal is DIR/seal.pem
        #[arg(long, default_value = "000.00.31.H29")]
        agency: String,
    },
    /// Publish the demo root's CRL over HTTP, GET /root.crl (DER) from DIR, and answer OCSP
    /// requests for what the root issued, POST /ocsp, from that CRL
    Serve {
        /// Directory `pki demo` wrote
        #[arg(long, default_value = "data/pki")]
        dir: PathBuf,
        /// Address to listen on; port 0 picks a free one (the address is printed)
        #[arg(long, default_value = "127.0.0.1:8089")]
        addr: String,
    },
}

pub fn run(command: PkiCommand) -> ExitCode {
    match command {
        PkiCommand::Demo { dir, crl_url, ocsp_url, policies, agency } => {
            let publication = crate::pki::Publication { crl_url: crl_url.as_deref(), ocsp_url: ocsp_url.as_deref() };
            demo(&dir, &publication, &policies, &agency)
        }
        PkiCommand::Serve { dir, addr } => match super::runtime() {
            Ok(rt) => rt.block_on(serve(dir, addr)),
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(EXIT_INPUT)
            }
        },
    }
}

fn demo(dir: &std::path::Path, publication: &crate::pki::Publication, policies: &std::path::Path, home: &str) -> ExitCode {
    let written = crate::pki::demo_with(dir, publication).map_err(anyhow::Error::from).and_then(|mut files| {
        if policies.is_dir() {
            let catalog = crate::policy::load(policies)?;
            let others: Vec<(&str, &str)> =
                catalog.agencies.values().filter(|a| a.code.as_str() != home).map(|a| (a.code.as_str(), a.name.as_str())).collect();
            files.extend(crate::pki::demo_seals(dir, &dir.join("seals"), &others, publication)?);
        }
        Ok(files)
    });
    match written {
        Ok(files) => {
            for f in files {
                println!("{}", f.display());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(EXIT_INPUT)
        }
    }
}

async fn serve(dir: PathBuf, addr: String) -> ExitCode {
    let listener = match tokio::net::TcpListener::bind(&addr).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: cannot listen on {addr}: {e}");
            return ExitCode::from(EXIT_INPUT);
        }
    };
    // The CRL is read on every request, so a renewed file is served at once.
    let crl = dir.join("root.crl");
    // A directory without the root's key still publishes its CRL.
    let responder = match Responder::open(&dir) {
        Ok(r) => Some(Arc::new(r)),
        Err(e) => {
            eprintln!("warning: no OCSP responder: {e}");
            None
        }
    };
    let app = axum::Router::new().route("/ocsp", axum::routing::post(move |body: Bytes| ocsp(responder.clone(), body))).route(
        "/root.crl",
        axum::routing::get(move || {
            let crl = crl.clone();
            async move {
                match tokio::fs::read(&crl).await {
                    Ok(bytes) => ([(header::CONTENT_TYPE, "application/pkix-crl")], bytes).into_response(),
                    Err(_) => StatusCode::NOT_FOUND.into_response(),
                }
            }
        }),
    );
    match listener.local_addr() {
        Ok(a) => println!("listening on http://{a}/"),
        Err(e) => eprintln!("warning: {e}"),
    }
    if let Err(e) = axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
    {
        eprintln!("error: {e}");
        return ExitCode::from(EXIT_INPUT);
    }
    ExitCode::SUCCESS
}

/// POST /ocsp: a DER OCSPRequest in, a DER OCSPResponse out (RFC 6960 Appendix A.1).
async fn ocsp(responder: Option<Arc<Responder>>, body: Bytes) -> axum::response::Response {
    let Some(responder) = responder else { return StatusCode::NOT_FOUND.into_response() };
    if body.len() > MAX_REQUEST_BYTES {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    }
    // Reading the CRL and signing with RSA are blocking work.
    match tokio::task::spawn_blocking(move || responder.respond(&body)).await {
        Ok(der) => ([(header::CONTENT_TYPE, "application/ocsp-response")], der).into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}
