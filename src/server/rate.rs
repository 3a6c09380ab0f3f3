//! A request body that fails when its client sends too slowly, so a stalled upload frees
//! its connection instead of holding it for as long as the client likes.

use axum::body::Bytes;
use http_body::{Body, Frame, SizeHint};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::time::{Instant, Sleep};

/// The error a too-slow body ends with.
#[derive(Debug, thiserror::Error)]
#[error("the request body arrived slower than {rate} bytes a second ({received} bytes in {elapsed:?})")]
pub struct TooSlow {
    rate: u64,
    received: u64,
    elapsed: Duration,
}

pub(super) struct MinRate<B> {
    inner: B,
    rate: u64,
    grace: Duration,
    started: Instant,
    received: u64,
    deadline: Pin<Box<Sleep>>,
}

impl<B> MinRate<B> {
    pub(super) fn new(inner: B, rate: u64, grace: Duration) -> MinRate<B> {
        let started = Instant::now();
        MinRate { inner, rate, grace, started, received: 0, deadline: Box::pin(tokio::time::sleep_until(started + grace)) }
    }

    /// When the bytes received so far stop being enough.
    fn due(&self) -> Instant {
        let earned = Duration::from_secs_f64(self.received as f64 / self.rate as f64);
        self.started + earned.max(self.grace)
    }
}

impl<B> Body for MinRate<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<axum::BoxError>,
{
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.received += data.len() as u64;
                    let due = this.due();
                    this.deadline.as_mut().reset(due);
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e.into()))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => match this.deadline.as_mut().poll(cx) {
                Poll::Ready(()) => {
                    let elapsed = this.started.elapsed();
                    tracing::info!(received = this.received, elapsed_ms = elapsed.as_millis() as u64, "request body too slow");
                    Poll::Ready(Some(Err(Box::new(TooSlow { rate: this.rate, received: this.received, elapsed }))))
                }
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    #[tokio::test]
    async fn a_stalled_body_fails_after_the_grace_and_a_steady_one_passes() {
        let (mut tx, rx) = futures::channel::mpsc::channel::<Result<Frame<Bytes>, std::io::Error>>(4);
        let stalled = MinRate::new(http_body_util::StreamBody::new(rx), 1024, Duration::from_millis(300));
        tx.try_send(Ok(Frame::data(Bytes::from(vec![0u8; 100])))).unwrap();
        let started = Instant::now();
        let err = stalled.collect().await.unwrap_err();
        assert!(err.downcast_ref::<TooSlow>().is_some(), "{err}");
        let elapsed = started.elapsed();
        assert!(elapsed >= Duration::from_millis(250) && elapsed < Duration::from_secs(5), "{elapsed:?}");

        let whole = http_body_util::Full::new(Bytes::from(vec![0u8; 5000]));
        let body = MinRate::new(whole, 1024, Duration::from_secs(10)).collect().await.unwrap().to_bytes();
        assert_eq!(body.len(), 5000);
    }
}
