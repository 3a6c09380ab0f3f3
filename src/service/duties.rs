//! Singleton duties: periodic work that one replica of the service runs for all of them (the
//! scheduled fixity pass, signature renewal). Each duty is a lease in the index: every
//! replica asks for it every third of the lease period; the one that gets it runs the duty on
//! its schedule and renews the lease while it holds it, the others wait. When the holder dies
//! its lease expires and the next replica to ask takes the duty over; a holder that cannot
//! renew (the index unreachable, or another replica took the lease after it expired) abandons
//! a pass under way when its lease runs out, so two replicas never run a duty at once for
//! longer than the clocks between them disagree.

use crate::index::Index;
use futures::future::BoxFuture;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// One duty: its lease's name, how often it runs, how long a lease lasts, and who asks.
pub struct Singleton {
    pub name: &'static str,
    pub every: Duration,
    pub lease: Duration,
    pub holder: String,
    pub index: Arc<dyn Index>,
}

/// This process's default name as a lease holder: host, process id and a random part, so
/// that two processes never share one, even restarted with the same process id.
pub fn default_holder() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_owned());
    format!("{host}:{}:{}", std::process::id(), crate::domain::random_hex(4))
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

impl Singleton {
    fn lease_ms(&self) -> i64 {
        self.lease.as_millis().min(i64::MAX as u128) as i64
    }

    /// A third of the lease: how often the lease is asked for, and renewed while held.
    fn tick(&self) -> Duration {
        (self.lease / 3).max(Duration::from_millis(50))
    }

    /// Runs until `stopping` turns true: `pass` every `every` while this process holds the
    /// lease, the first one `every` after the last pass any replica made (`last_run`, Unix
    /// milliseconds, when the index keeps it) or else `every` after the lease was taken.
    /// The lease is released on the way out so that another replica takes over at once.
    pub async fn run<P, L>(self, mut stopping: watch::Receiver<bool>, mut last_run: L, mut pass: P)
    where
        P: FnMut() -> BoxFuture<'static, ()> + Send,
        L: FnMut() -> BoxFuture<'static, Option<i64>> + Send,
    {
        let tick = self.tick();
        // Until when this process may count on the lease (its own clock), while it holds it.
        let mut held_until: Option<Instant> = None;
        let mut next_due = Instant::now();
        while !*stopping.borrow() {
            let was_held = held_until.is_some();
            held_until = self.keep(held_until).await;
            crate::metrics::set_duty_held(self.name, held_until.is_some());
            let Some(until) = held_until else {
                tokio::select! {
                    _ = tokio::time::sleep(tick) => continue,
                    _ = stopping.changed() => break,
                }
            };
            if !was_held {
                // Newly taken: the schedule goes on from the last pass any replica made.
                let since =
                    last_run().await.map_or(Duration::ZERO, |at_ms| Duration::from_millis(now_ms().saturating_sub(at_ms).max(0) as u64));
                next_due = Instant::now() + self.every.saturating_sub(since);
            }
            if Instant::now() >= next_due {
                let started = Instant::now();
                match self.while_held(until, &mut stopping, pass()).await {
                    Held::Done(until) => {
                        held_until = Some(until);
                        next_due = started + self.every;
                    }
                    Held::Lost => {
                        tracing::warn!(duty = self.name, holder = %self.holder, "lost the duty's lease during a pass: the pass is abandoned");
                        held_until = None;
                        crate::metrics::set_duty_held(self.name, false);
                        continue;
                    }
                    Held::Stopping => break,
                }
            }
            let wait = tick.min(next_due.saturating_duration_since(Instant::now())).max(Duration::from_millis(10));
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = stopping.changed() => break,
            }
        }
        if held_until.is_some() {
            crate::metrics::set_duty_held(self.name, false);
            if let Err(e) = self.index.release_lease(self.name, &self.holder).await {
                tracing::warn!(duty = self.name, error = %e, "cannot release the duty's lease: another replica takes it when it expires");
            }
        }
    }

    /// Takes the lease, or renews it when held: until when it is held now, `None` when another
    /// replica holds it. An index error keeps what was held until it runs out.
    async fn keep(&self, held_until: Option<Instant>) -> Option<Instant> {
        let asked = Instant::now();
        let answer = match held_until {
            Some(_) => self.index.renew_lease(self.name, &self.holder, now_ms(), self.lease_ms()).await,
            None => self.index.acquire_lease(self.name, &self.holder, now_ms(), self.lease_ms()).await,
        };
        match answer {
            Ok(true) => {
                if held_until.is_none() {
                    tracing::info!(duty = self.name, holder = %self.holder, "took the duty's lease");
                }
                Some(asked + self.lease)
            }
            Ok(false) => {
                if held_until.is_some() {
                    tracing::warn!(duty = self.name, holder = %self.holder, "lost the duty's lease");
                }
                None
            }
            Err(e) => {
                tracing::warn!(duty = self.name, code = "index_unavailable", error = %e, "cannot renew or take the duty's lease");
                held_until.filter(|until| Instant::now() < *until)
            }
        }
    }

    /// Runs `pass` while renewing the lease every tick.
    async fn while_held(&self, mut until: Instant, stopping: &mut watch::Receiver<bool>, pass: BoxFuture<'static, ()>) -> Held {
        tokio::pin!(pass);
        loop {
            let renew_at = tokio::time::Instant::from_std((Instant::now() + self.tick()).min(until));
            tokio::select! {
                _ = &mut pass => return Held::Done(until),
                _ = stopping.changed() => return Held::Stopping,
                _ = tokio::time::sleep_until(renew_at) => {
                    match self.keep(Some(until)).await {
                        Some(next) => until = next,
                        None => return Held::Lost,
                    }
                }
            }
        }
    }
}

enum Held {
    Done(Instant),
    Lost,
    Stopping,
}
