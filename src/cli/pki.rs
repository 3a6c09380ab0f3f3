use super::EXIT_INPUT;
use axum::http::header;
use axum::response::IntoResponse;
use clap::Subcommand;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum PkiCommand {
    /// Write a demo root CA, the agency seal, officials (one revoked), a TSA certificate and
    /// the root's CRL into DIR
    Demo {
        dir: PathBuf,
        /// CRL distribution point every issued certificate names (where `pki serve` runs)
        #[arg(long)]
        crl_url: Option<String>,
    },
    /// Publish the demo root's CRL over HTTP: GET /root.crl (DER) from DIR
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
        PkiCommand::Demo { dir, crl_url } => match crate::pki::demo_with(&dir, crl_url.as_deref()) {
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
        },
        PkiCommand::Serve { dir, addr } => match super::runtime() {
            Ok(rt) => rt.block_on(serve(dir, addr)),
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(EXIT_INPUT)
            }
        },
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
    let app = axum::Router::new().route(
        "/root.crl",
        axum::routing::get(move || {
            let crl = crl.clone();
            async move {
                match tokio::fs::read(&crl).await {
                    Ok(bytes) => ([(header::CONTENT_TYPE, "application/pkix-crl")], bytes).into_response(),
                    Err(_) => axum::http::StatusCode::NOT_FOUND.into_response(),
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
