//! Requests still waiting for their answer, by polling ticket: the engine's answer arrives on a
//! watch channel, the caller collects it with `GET /v1/pending/<ticket>`, and a request whose
//! caller stopped polling is withdrawn (its engine task aborted).

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use lit_companion_wire::Response;
use rand_core::{OsRng, RngCore};
use tokio::sync::watch;

use crate::caller::Caller;

/// Where a request's answer will be.
pub(super) type Answer = watch::Receiver<Option<Response>>;

struct Ticket {
    caller: Caller,
    rx: Answer,
    last_seen: Instant,
    task: tokio::task::AbortHandle,
}

/// The tickets of requests in flight.
#[derive(Default)]
pub(super) struct Tickets(Mutex<HashMap<String, Ticket>>);

impl Tickets {
    /// A new ticket (128 random bits, hex) for the request of `caller` run by `task`.
    pub(super) fn issue(
        &self,
        caller: Caller,
        rx: Answer,
        task: tokio::task::AbortHandle,
    ) -> String {
        let mut bytes = [0u8; 16];
        OsRng.fill_bytes(&mut bytes);
        let ticket = hex::encode(bytes);
        if let Ok(mut map) = self.0.lock() {
            map.insert(
                ticket.clone(),
                Ticket {
                    caller,
                    rx,
                    last_seen: Instant::now(),
                    task,
                },
            );
        }
        ticket
    }

    /// The answer channel of `ticket`, when it is `caller`'s; its caller is seen polling.
    pub(super) fn poll(&self, ticket: &str, caller: &Caller) -> Option<Answer> {
        let mut map = self.0.lock().ok()?;
        match map.get_mut(ticket) {
            Some(t) if t.caller == *caller => {
                t.last_seen = Instant::now();
                Some(t.rx.clone())
            }
            _ => None,
        }
    }

    /// The caller of `ticket` is still waiting.
    pub(super) fn touch(&self, ticket: &str) {
        if let Ok(mut map) = self.0.lock() {
            if let Some(t) = map.get_mut(ticket) {
                t.last_seen = Instant::now();
            }
        }
    }

    /// The answer was handed out.
    pub(super) fn remove(&self, ticket: &str) {
        if let Ok(mut map) = self.0.lock() {
            map.remove(ticket);
        }
    }

    /// Withdraws requests nobody polled for `abandon` (aborting their work) and forgets answers
    /// nobody collected for twice that.
    pub(super) fn reap(&self, abandon: Duration) {
        let Ok(mut map) = self.0.lock() else {
            return;
        };
        map.retain(|_, t| {
            let idle = t.last_seen.elapsed();
            let done = t.rx.borrow().is_some();
            if !done && idle > abandon {
                t.task.abort();
                return false;
            }
            !(done && idle > abandon * 2)
        });
    }
}
