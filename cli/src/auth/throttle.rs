//! Throttling of client authentication at `/token`: each try costs an Argon2 verification (tens of
//! milliseconds of CPU, by design), so an unthrottled endpoint is both a password-guessing oracle
//! and a cheap way to burn the server's CPU. Two bounds, in memory (one dev server):
//!
//! - per client id, at most `max_failures` failed authentications per window; past it the id is
//!   answered 429 with `Retry-After` until the window ends, without verifying anything;
//! - at most `concurrent` verifications at once; a try beyond that is answered 429 at once
//!   instead of queueing CPU work.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// How many client ids the failure table tracks before it drops expired entries.
const MAX_TRACKED: usize = 10_000;

pub struct Throttle {
    max_failures: u32,
    window: Duration,
    failures: Mutex<HashMap<String, (Instant, u32)>>,
    verifying: Arc<Semaphore>,
}

/// Why a try is not verified.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    /// Too many failures for this client id; retry after this many seconds.
    TooManyFailures(u64),
    /// Too many verifications in progress.
    Busy,
}

impl Throttle {
    pub fn new(max_failures: u32, window: Duration, concurrent: usize) -> Throttle {
        Throttle {
            max_failures,
            window,
            failures: Mutex::new(HashMap::new()),
            verifying: Arc::new(Semaphore::new(concurrent.max(1))),
        }
    }

    /// A permit to verify a secret of `client_id`, or why not.
    pub fn admit(&self, client_id: &str) -> Result<OwnedSemaphorePermit, Refused> {
        {
            let failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
            if let Some((since, count)) = failures.get(client_id)
                && *count >= self.max_failures
                && since.elapsed() < self.window
            {
                let left = self.window.saturating_sub(since.elapsed()).as_secs().max(1);
                return Err(Refused::TooManyFailures(left));
            }
        }
        self.verifying.clone().try_acquire_owned().map_err(|_| Refused::Busy)
    }

    /// Records the outcome of a verification of `client_id`'s secret.
    pub fn record(&self, client_id: &str, succeeded: bool) {
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if succeeded {
            failures.remove(client_id);
            return;
        }
        if failures.len() >= MAX_TRACKED {
            let window = self.window;
            failures.retain(|_, (since, _)| since.elapsed() < window);
        }
        let entry = failures.entry(client_id.to_owned()).or_insert((Instant::now(), 0));
        if entry.0.elapsed() >= self.window {
            *entry = (Instant::now(), 0);
        }
        entry.1 += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn should_refuse_a_client_id_after_its_failures_until_the_window_ends() {
        let throttle = Throttle::new(3, Duration::from_secs(60), 4);
        for _ in 0..3 {
            drop(throttle.admit("portal").expect("admitted"));
            throttle.record("portal", false);
        }
        assert!(matches!(throttle.admit("portal"), Err(Refused::TooManyFailures(s)) if s <= 60));
        assert!(throttle.admit("other").is_ok(), "other clients are not affected");
        let expired = Throttle::new(1, Duration::ZERO, 4);
        expired.record("portal", false);
        assert!(expired.admit("portal").is_ok(), "the window ended");
    }

    #[test]
    fn should_forget_failures_after_a_success_and_bound_concurrent_verifications() {
        let throttle = Throttle::new(2, Duration::from_secs(60), 1);
        throttle.record("portal", false);
        throttle.record("portal", true);
        throttle.record("portal", false);
        let permit = throttle.admit("portal").expect("one failure left");
        assert_eq!(throttle.admit("other").err(), Some(Refused::Busy));
        drop(permit);
        assert!(throttle.admit("other").is_ok());
    }
}
