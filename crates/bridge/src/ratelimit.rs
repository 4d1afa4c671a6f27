//! A token bucket per caller: a burst, then a steady rate.

use std::{collections::HashMap, sync::Mutex, time::Instant};

/// How fast one caller may go.
#[derive(Debug, Clone, Copy)]
pub struct RateLimit {
    /// Sustained requests per second.
    pub per_second: f64,
    /// Requests allowed at once.
    pub burst: f64,
}

impl Default for RateLimit {
    fn default() -> Self {
        Self {
            per_second: 20.0,
            burst: 40.0,
        }
    }
}

/// Buckets by caller key.
#[derive(Debug, Default)]
pub struct RateLimiter {
    limit: RateLimit,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

impl RateLimiter {
    /// A limiter.
    pub fn new(limit: RateLimit) -> Self {
        Self {
            limit,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token for `key`; false when the bucket is empty.
    pub fn allow(&self, key: &str) -> bool {
        let Ok(mut buckets) = self.buckets.lock() else {
            return false;
        };
        let now = Instant::now();
        if buckets.len() > 10_000 {
            // Forget full buckets so that many one-off callers cannot grow the map without bound.
            let (rate, burst) = (self.limit.per_second, self.limit.burst);
            buckets.retain(|_, (tokens, at)| {
                *tokens + now.duration_since(*at).as_secs_f64() * rate < burst
            });
        }
        let (tokens, at) = buckets
            .entry(key.to_owned())
            .or_insert((self.limit.burst, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * self.limit.per_second)
            .min(self.limit.burst);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_refusal_per_key() {
        let l = RateLimiter::new(RateLimit {
            per_second: 0.001,
            burst: 3.0,
        });
        assert!((0..3).all(|_| l.allow("a")));
        assert!(!l.allow("a"));
        assert!(l.allow("b"), "another caller is still served");
    }
}
