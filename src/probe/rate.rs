//! A queries-per-second cap: a token bucket on tokio time, shared by every task of a prober.
//!
//! Owns: the bucket's arithmetic (GCRA: the "theoretical arrival time" of the next query) and
//! the order in which waiters get their turn (first come, first served). Must not touch: DNS
//! itself (`probe::dns` decides what a query is and where the wait goes), the settings.
//!
//! The bucket holds [`QueryRate::burst`] tokens (a tenth of a second's worth, at least one) and
//! refills one every `1 s / qps`, so `n` queries take at least `(n - burst) / qps` and, when
//! nothing else waits, no more. A waiter holds the bucket's lock while it sleeps, so only one
//! task at a time has a timer running and the rest queue without waking; a waiter that is
//! dropped (its lookup given up) takes no token.

use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

/// The burst is this fraction of a second's queries: a cap of 500 qps lets 50 go at once.
const BURST_PER_SECOND_DIVISOR: u32 = 10;

/// A token bucket of `qps` tokens a second.
#[derive(Debug)]
pub struct QueryRate {
    /// Time between two tokens: `1 s / qps`, rounded up so the rate never exceeds `qps`.
    interval: Duration,
    /// Tokens a full bucket holds.
    burst: u32,
    /// `interval * (burst - 1)`: how far ahead of now the next token's time may be while a
    /// query still goes at once.
    tolerance: Duration,
    /// When the bucket will be full again if nothing more is taken (None: full now).
    full_at: Mutex<Option<Instant>>,
}

impl QueryRate {
    /// A bucket of `qps` queries a second; None for 0 (no cap).
    pub fn new(qps: u32) -> Option<Self> {
        if qps == 0 {
            return None;
        }
        let interval = Duration::from_nanos(1_000_000_000_u64.div_ceil(u64::from(qps)));
        let burst = (qps / BURST_PER_SECOND_DIVISOR).max(1);
        Some(Self {
            interval,
            burst,
            tolerance: interval * (burst - 1),
            full_at: Mutex::new(None),
        })
    }

    /// How many queries may go at once after a quiet time.
    pub fn burst(&self) -> u32 {
        self.burst
    }

    /// Time between two tokens once the burst is spent.
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// Waits for a token and takes it. Waiters are served in the order they came.
    pub async fn acquire(&self) {
        let mut full_at = self.full_at.lock().await;
        let now = Instant::now();
        let next = full_at.map_or(now, |at| at.max(now));
        // The token is there once `next` is at most `tolerance` ahead of now.
        if let Some(ready) = next.checked_sub(self.tolerance)
            && ready > now
        {
            tokio::time::sleep_until(ready).await;
        }
        *full_at = Some(next + self.interval);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    /// What `n` acquisitions at `qps` must take at least: `(n - burst) / qps`.
    fn lower_bound(n: u32, qps: u32, burst: u32) -> Duration {
        Duration::from_secs_f64(f64::from(n.saturating_sub(burst)) / f64::from(qps))
    }

    #[test]
    fn zero_is_no_cap_and_the_burst_is_a_tenth_of_a_second() {
        assert!(QueryRate::new(0).is_none());
        assert_eq!(QueryRate::new(500).map(|rate| rate.burst()), Some(50));
        assert_eq!(QueryRate::new(5).map(|rate| rate.burst()), Some(1));
        let rate = QueryRate::new(3).unwrap();
        // Rounded up: three tokens never come in less than a second.
        assert!(rate.interval() * 3 >= Duration::from_secs(1));
    }

    #[tokio::test(start_paused = true)]
    async fn tasks_sharing_a_bucket_take_what_the_cap_allows_and_no_more() {
        let (qps, n) = (100, 60);
        let rate = Arc::new(QueryRate::new(qps).unwrap());
        let burst = rate.burst();
        let start = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..n {
            let rate = rate.clone();
            tasks.spawn(async move {
                rate.acquire().await;
                Instant::now()
            });
        }
        let mut times = tasks.join_all().await;
        times.sort();
        let elapsed = times[times.len() - 1] - start;
        assert!(elapsed >= lower_bound(n, qps, burst), "{elapsed:?}");
        // Paused time is exact: not one interval more than the cap needs.
        assert_eq!(elapsed, rate.interval() * (n - burst));
        // The burst went at once, then one token per interval.
        assert!(times[..burst as usize].iter().all(|time| *time == start));
        for (index, time) in times.iter().enumerate().skip(burst as usize) {
            let due = rate.interval() * (index as u32 + 1 - burst);
            assert_eq!(*time - start, due, "token {index}");
        }
        // In no second did more than burst + qps go.
        for time in &times {
            let window = times
                .iter()
                .filter(|other| **other >= *time && **other < *time + Duration::from_secs(1))
                .count();
            assert!(window <= (burst + qps) as usize, "{window} in one second");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_quiet_time_refills_the_burst_but_not_more() {
        let rate = QueryRate::new(50).unwrap();
        let burst = rate.burst();
        for _ in 0..burst * 3 {
            rate.acquire().await;
        }
        tokio::time::sleep(Duration::from_secs(10)).await;
        let start = Instant::now();
        for _ in 0..burst {
            rate.acquire().await;
        }
        assert_eq!(Instant::now(), start, "a full bucket after a quiet time");
        rate.acquire().await;
        assert_eq!(Instant::now() - start, rate.interval(), "one more waits");
    }

    #[tokio::test(start_paused = true)]
    async fn a_waiter_given_up_takes_no_token() {
        let rate = QueryRate::new(10).unwrap();
        rate.acquire().await; // the burst of one
        let start = Instant::now();
        // Gives up before its token comes (100 ms away).
        let gave_up = tokio::time::timeout(Duration::from_millis(40), rate.acquire()).await;
        assert!(gave_up.is_err());
        // The next one gets the token the first would have had.
        rate.acquire().await;
        assert_eq!(Instant::now() - start, rate.interval());
    }

    #[tokio::test(start_paused = true)]
    async fn many_acquisitions_at_a_high_cap_keep_the_bound() {
        let (qps, n) = (1_000, 2_500);
        let rate = QueryRate::new(qps).unwrap();
        let start = Instant::now();
        for _ in 0..n {
            rate.acquire().await;
        }
        let elapsed = Instant::now() - start;
        assert!(elapsed >= lower_bound(n, qps, rate.burst()), "{elapsed:?}");
        assert_eq!(elapsed, rate.interval() * (n - rate.burst()));
    }
}
