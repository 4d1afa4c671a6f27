//! Prompts waiting for a person, one queue for the desktop app's window.

use std::{future::Future, pin::Pin};

use crate::approver::{ApprovalRequest, Approver, Decision};

/// A question in the queue: its id, the request, and where the answer goes.
type Waiting = (u64, ApprovalRequest, tokio::sync::oneshot::Sender<Decision>);

/// Prompts waiting for a person: the desktop app's approver. Each question waits in the queue
/// until [`PromptQueue::answer`] is called; when the caller goes away (the future is dropped)
/// the question leaves the queue on its own. `on_change` runs whenever the queue changes, so a
/// UI can show or close its prompt.
pub struct PromptQueue {
    inner: std::sync::Mutex<(u64, Vec<Waiting>)>,
    on_change: Box<dyn Fn() + Send + Sync>,
}

impl std::fmt::Debug for PromptQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PromptQueue")
            .field("pending", &self.pending().len())
            .finish_non_exhaustive()
    }
}

impl PromptQueue {
    /// An empty queue calling `on_change` on every change.
    pub fn new(on_change: impl Fn() + Send + Sync + 'static) -> Self {
        Self {
            inner: std::sync::Mutex::new((1, Vec::new())),
            on_change: Box::new(on_change),
        }
    }

    /// The questions waiting, oldest first, with their ids.
    pub fn pending(&self) -> Vec<(u64, ApprovalRequest)> {
        self.inner
            .lock()
            .map(|g| g.1.iter().map(|(id, r, _)| (*id, r.clone())).collect())
            .unwrap_or_default()
    }

    /// Answers a question; false when it is gone (answered, or its caller left). An approval
    /// never gets more time than was asked.
    pub fn answer(&self, id: u64, decision: Decision) -> bool {
        let entry = self.inner.lock().ok().and_then(|mut g| {
            let at = g.1.iter().position(|(i, _, _)| *i == id)?;
            Some(g.1.remove(at))
        });
        let Some((_, request, tx)) = entry else {
            return false;
        };
        let decision = match decision {
            Decision::Approve { lifetime } => Decision::Approve {
                lifetime: lifetime.min(request.lifetime),
            },
            other => other,
        };
        let sent = tx.send(decision).is_ok();
        (self.on_change)();
        sent
    }

    fn withdraw(&self, id: u64) {
        let removed = self.inner.lock().map(|mut g| {
            let before = g.1.len();
            g.1.retain(|(i, _, _)| *i != id);
            before != g.1.len()
        });
        if removed.unwrap_or(false) {
            (self.on_change)();
        }
    }
}

struct Withdraw<'a>(&'a PromptQueue, u64);

impl Drop for Withdraw<'_> {
    fn drop(&mut self) {
        self.0.withdraw(self.1);
    }
}

impl Approver for PromptQueue {
    fn approve(
        &self,
        request: ApprovalRequest,
    ) -> Pin<Box<dyn Future<Output = Decision> + Send + '_>> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let id = match self.inner.lock() {
            Ok(mut g) => {
                let id = g.0;
                g.0 += 1;
                g.1.push((id, request, tx));
                Some(id)
            }
            Err(_) => None,
        };
        (self.on_change)();
        // The guard exists from now on, so that dropping the future even before its first poll
        // takes the question out of the queue.
        let withdraw = id.map(|id| Withdraw(self, id));
        Box::pin(async move {
            if withdraw.is_none() {
                return Decision::Reject {
                    reason: "internal error".into(),
                };
            }
            let decision = rx.await.unwrap_or(Decision::Reject {
                reason: "the prompt was closed".into(),
            });
            drop(withdraw);
            decision
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        approver::LifetimeChoice,
        caller::{Caller, Road},
    };
    use std::{
        sync::{
            atomic::{AtomicUsize, Ordering},
            Arc,
        },
        time::Duration,
    };

    fn request(lifetime: Duration) -> ApprovalRequest {
        let caller = Caller::verified(
            lit_companion_session::Origin::parse("https://app.example.com").unwrap(),
            Road::Http,
        );
        ApprovalRequest {
            who: caller.describe(),
            origin: caller.grant_key().to_string(),
            verified: true,
            road: caller.road.to_string(),
            caller,
            network: "datil-dev".into(),
            network_label: "Datil dev (test network)".into(),
            wallet: "0x0".into(),
            wallet_label: None,
            browser_wallet: None,
            pkp: None,
            unavailable: None,
            already_granted: vec![],
            extended: vec![],
            granted_until: None,
            new: vec![],
            not_granted: vec![],
            new_requests: vec![],
            grant_requests: vec![],
            lifetime,
            max_lifetime: lifetime,
            duration_text: String::new(),
            flags: vec![],
            supplied_delegations: vec![],
            statement: String::new(),
            siwe_preview: String::new(),
            lifetime_choices: vec![LifetimeChoice {
                secs: lifetime.as_secs(),
                siwe: String::new(),
            }],
            max_price_wei: None,
            price_text: None,
            price_before: None,
            deadline: None,
        }
    }

    #[tokio::test]
    async fn the_queue_answers_caps_the_lifetime_and_withdraws_when_the_caller_leaves() {
        let changes = Arc::new(AtomicUsize::new(0));
        let seen = changes.clone();
        let queue = Arc::new(PromptQueue::new(move || {
            seen.fetch_add(1, Ordering::SeqCst);
        }));
        let asking = queue.approve(request(Duration::from_secs(3600)));
        let (id, _) = queue.pending()[0].clone();
        assert!(queue.answer(
            id,
            Decision::Approve {
                lifetime: Duration::from_secs(u64::MAX / 2)
            }
        ));
        assert_eq!(
            asking.await,
            Decision::Approve {
                lifetime: Duration::from_secs(3600)
            },
            "never more than asked"
        );
        assert!(queue.pending().is_empty());
        assert!(
            !queue.answer(
                id,
                Decision::Reject {
                    reason: "late".into()
                }
            ),
            "an answered prompt is gone"
        );

        let abandoned = queue.approve(request(Duration::from_secs(60)));
        assert_eq!(queue.pending().len(), 1);
        drop(abandoned);
        assert!(
            queue.pending().is_empty(),
            "a caller that goes away takes its prompt with it"
        );
        assert!(changes.load(Ordering::SeqCst) >= 4);
    }
}
