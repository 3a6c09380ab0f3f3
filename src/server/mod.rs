//! The HTTP/1.1 server: an accept loop bounded by a connection limit, with hyper's header
//! read timeout and a minimum rate for request bodies, draining gracefully on shutdown.

mod rate;

pub use rate::TooSlow;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

/// How long and how slowly a client may hold a connection.
#[derive(Debug, Clone, Copy)]
pub struct HttpLimits {
    /// Time to send a request's headers, from when the connection awaits a request.
    pub header_timeout: Option<Duration>,
    /// Bytes a second a request body must average once `body_grace` has passed; 0 is off.
    pub body_min_rate: u64,
    pub body_grace: Duration,
    pub max_connections: usize,
}

impl HttpLimits {
    pub fn from_config(config: &crate::config::Config) -> HttpLimits {
        HttpLimits {
            header_timeout: config.header_timeout.every(),
            body_min_rate: config.body_min_rate,
            body_grace: config.body_grace.0,
            max_connections: config.max_connections.max(1),
        }
    }
}

/// Above the API's own head limits (which answer problem+json), so that hyper's bodyless
/// 414/431 only meet requests far past them.
const MAX_HEAD_BUFFER: usize = 256 * 1024;
const MAX_HEADERS: usize = 200;

/// Serves `app` until `shutdown` resolves, then stops accepting and waits for open
/// connections to finish their requests (idle ones are closed at once).
pub async fn serve(listener: TcpListener, app: Router, limits: HttpLimits, shutdown: impl Future<Output = ()>) -> std::io::Result<()> {
    let app = if limits.body_min_rate > 0 {
        app.layer(axum::middleware::map_request(move |req: axum::extract::Request| async move {
            req.map(|body| axum::body::Body::new(rate::MinRate::new(body, limits.body_min_rate, limits.body_grace)))
        }))
    } else {
        app
    };
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(limits.header_timeout).max_buf_size(MAX_HEAD_BUFFER).max_headers(MAX_HEADERS);
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors or a connection reset before accept: wait a
                    // moment rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let connection = http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(app.clone()));
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(peer = %peer, error = %e, "connection closed");
            }
            drop(permit);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}
