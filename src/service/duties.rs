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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::Mutex;

    async fn sqlite() -> (Arc<dyn Index>, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let index = crate::index::open(&format!("sqlite://{}", dir.path().join("index.db").display())).await.unwrap();
        (index, dir)
    }

    fn duty(name: &'static str, index: &Arc<dyn Index>, holder: &str, every_ms: u64, lease_ms: u64) -> Singleton {
        Singleton {
            name,
            every: Duration::from_millis(every_ms),
            lease: Duration::from_millis(lease_ms),
            holder: holder.into(),
            index: index.clone(),
        }
    }

    fn never_ran() -> impl FnMut() -> BoxFuture<'static, Option<i64>> + Send {
        || Box::pin(async { None })
    }

    /// Counts each pass under the holder's name.
    fn counting(who: &'static str, log: Arc<Mutex<Vec<&'static str>>>) -> impl FnMut() -> BoxFuture<'static, ()> + Send {
        move || {
            let log = log.clone();
            Box::pin(async move { log.lock().unwrap().push(who) })
        }
    }

    #[tokio::test]
    async fn one_of_two_replicas_runs_the_duty_and_the_other_takes_over_when_it_stops() {
        let (index, _dir) = sqlite().await;
        let log = Arc::new(Mutex::new(Vec::new()));
        let (stop_a, stopping_a) = watch::channel(false);
        let (stop_b, stopping_b) = watch::channel(false);
        let a = tokio::spawn(duty("shared-duty", &index, "a", 50, 600).run(stopping_a, never_ran(), counting("a", log.clone())));
        let b = tokio::spawn(duty("shared-duty", &index, "b", 50, 600).run(stopping_b, never_ran(), counting("b", log.clone())));
        tokio::time::sleep(Duration::from_millis(700)).await;
        let first = log.lock().unwrap().clone();
        let by: std::collections::BTreeSet<_> = first.iter().copied().collect();
        assert_eq!(by.len(), 1, "one replica ran every pass: {first:?}");
        assert!(first.len() >= 5, "passes every 50 ms: {first:?}");
        let holder = first[0];
        let holder_lease = index.lease("shared-duty").await.unwrap().unwrap();
        assert_eq!(holder_lease.holder, holder);
        // The holder stops and releases: the other takes over at its next ask, not at expiry.
        let (stopped, other) = if holder == "a" { (stop_a, "b") } else { (stop_b, "a") };
        stopped.send(true).unwrap();
        let asked = Instant::now();
        loop {
            if index.lease("shared-duty").await.unwrap().is_some_and(|l| l.holder == other) {
                break;
            }
            assert!(asked.elapsed() < Duration::from_millis(500), "the other replica did not take the released duty");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(log.lock().unwrap()[first.len()..].contains(&other), "the new holder runs the duty");
        a.abort();
        b.abort();
    }

    #[tokio::test]
    async fn a_holder_that_loses_its_lease_abandons_the_pass_under_way() {
        let (index, _dir) = sqlite().await;
        let started = Arc::new(AtomicUsize::new(0));
        let finished = Arc::new(AtomicBool::new(false));
        let dropped = Arc::new(AtomicBool::new(false));
        /// Marks the pass dropped, finished or not.
        struct Guard(Arc<AtomicBool>);
        impl Drop for Guard {
            fn drop(&mut self) {
                self.0.store(true, Ordering::SeqCst);
            }
        }
        let (_stop, stopping) = watch::channel(false);
        let pass = {
            let (started, finished, dropped) = (started.clone(), finished.clone(), dropped.clone());
            move || -> BoxFuture<'static, ()> {
                let (started, finished, dropped) = (started.clone(), finished.clone(), dropped.clone());
                Box::pin(async move {
                    let _guard = Guard(dropped);
                    started.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_secs(30)).await;
                    finished.store(true, Ordering::SeqCst);
                })
            }
        };
        let running = tokio::spawn(duty("lost-duty", &index, "a", 10, 300).run(stopping, never_ran(), pass));
        while started.load(Ordering::SeqCst) == 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        // Another holder, whose clock is ahead, finds the lease expired and takes it.
        assert!(index.acquire_lease("lost-duty", "b", now_ms() + 10_000, 60_000).await.unwrap());
        // The pass is dropped at the next renewal (a third of the lease); the duty asks again and is refused.
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert_eq!(started.load(Ordering::SeqCst), 1, "no new pass while another holds the lease");
        assert!(dropped.load(Ordering::SeqCst) && !finished.load(Ordering::SeqCst), "the pass was abandoned");
        assert!(!running.is_finished(), "the duty keeps asking");
        assert_eq!(crate::metrics::duties_held().iter().find(|(n, _)| *n == "lost-duty").map(|(_, h)| *h), Some(false));
        assert_eq!(index.lease("lost-duty").await.unwrap().unwrap().holder, "b");
        running.abort();
    }

    #[test]
    fn the_default_holder_names_the_host_and_process() {
        let holder = default_holder();
        let parts: Vec<&str> = holder.split(':').collect();
        assert_eq!(parts.len(), 3, "{holder}");
        assert_eq!(parts[1], std::process::id().to_string());
        assert_ne!(default_holder(), holder, "two names never match");
    }
}
