//! The terminal approver of `lit-companion serve`: asks on the controlling terminal, in the
//! words the app's prompt uses ([`ApprovalRequest::to_text`], the one renderer), and prints
//! the outcome.
//!
//! Each prompt opens the terminal afresh, non-blocking, and reads it through the runtime: when
//! the question is withdrawn (the caller went away) or times out, the future is dropped and
//! its reader with it, so the next line typed goes to the next prompt, never to a dead one.
//! Input typed before the prompt appeared is discarded: nothing is approved by a keypress
//! meant for something else.

use std::{future::Future, path::PathBuf, pin::Pin};

use lit_companion_bridge::{ApprovalRequest, Approver, Decision};

/// Asks on a terminal (`/dev/tty` unless told otherwise); rejects when there is none.
#[derive(Debug)]
pub(crate) struct TerminalApprover {
    path: PathBuf,
}

impl TerminalApprover {
    /// Asks on the controlling terminal.
    pub(crate) fn controlling() -> Self {
        Self::on("/dev/tty")
    }

    /// Asks on the terminal at `path`.
    pub(crate) fn on(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }
}

impl Approver for TerminalApprover {
    fn approve(
        &self,
        request: ApprovalRequest,
    ) -> Pin<Box<dyn Future<Output = Decision> + Send + '_>> {
        Box::pin(ask(&self.path, request))
    }
}

/// "Approved for 24 hours." and the other endings, as printed.
#[cfg(unix)]
fn outcome(decision: &Decision) -> String {
    match decision {
        Decision::Approve { lifetime } => {
            let lasts = time::Duration::try_from(*lifetime)
                .map(lit_companion_session::explain::human_duration)
                .unwrap_or_default();
            format!("→ Approved for {lasts}.\n")
        }
        Decision::Reject { reason } => format!("→ Rejected ({reason}): nothing is signed.\n"),
    }
}

#[cfg(unix)]
async fn ask(path: &std::path::Path, r: ApprovalRequest) -> Decision {
    let Ok(tty) = tty::Tty::open(path) else {
        return Decision::Reject {
            reason: "no terminal to ask on (run serve with --approve POLICY)".into(),
        };
    };
    // A request nobody can carry out is shown and refused, as the app offers only Reject.
    if r.unavailable.is_some() {
        let decision = Decision::Reject {
            reason: "the request cannot be carried out".into(),
        };
        let shown = format!("\n{}{}", r.to_text(), outcome(&decision));
        let _ = tty.write_all(shown.as_bytes()).await;
        return decision;
    }
    let lasts = time::Duration::try_from(r.lifetime)
        .map(lit_companion_session::explain::human_duration)
        .unwrap_or_default();
    let default = if r.is_dangerous() {
        " (something here is dangerous: Reject is the default)"
    } else {
        ""
    };
    let question = format!("\n{}Approve for {lasts}?{default} [y/N] ", r.to_text());
    if tty.write_all(question.as_bytes()).await.is_err() {
        return Decision::Reject {
            reason: "the terminal is not writable".into(),
        };
    }
    // From here on the prompt is on screen: however it ends, the ending is printed.
    let mut ending = Ending {
        tty: &tty,
        deadline: r.deadline,
        done: false,
    };
    let decision = match tty.read_line().await {
        Ok(line) if matches!(line.trim(), "y" | "Y" | "yes") => Decision::Approve {
            lifetime: r.lifetime,
        },
        Ok(_) => Decision::Reject {
            reason: "the user said no".into(),
        },
        Err(_) => Decision::Reject {
            reason: "the terminal closed".into(),
        },
    };
    ending.done = true;
    let _ = tty.write_all(outcome(&decision).as_bytes()).await;
    decision
}

#[cfg(not(unix))]
async fn ask(_path: &std::path::Path, _r: ApprovalRequest) -> Decision {
    Decision::Reject {
        reason: "no terminal to ask on here (run serve with --approve POLICY)".into(),
    }
}

/// Prints how a prompt ended when it ends without an answer: withdrawn, or timed out.
#[cfg(unix)]
struct Ending<'a> {
    tty: &'a tty::Tty,
    deadline: Option<std::time::Instant>,
    done: bool,
}

#[cfg(unix)]
impl Drop for Ending<'_> {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let text = if self
            .deadline
            .is_some_and(|d| std::time::Instant::now() >= d)
        {
            "\n→ Timed out: no answer in time; nothing is signed.\n"
        } else {
            "\n→ Withdrawn: the caller went away before an answer; nothing is signed.\n"
        };
        self.tty.try_write(text.as_bytes());
    }
}

#[cfg(unix)]
mod tty {
    //! A terminal opened non-blocking and read through the runtime: dropping it stops reading.
    //!
    //! Tokio's pipe ends serve as the readiness wrappers: they assume nothing of the descriptor
    //! but that it is non-blocking and pollable, which a terminal is, and need no `unsafe`.

    use std::{fs::File, io, path::Path};

    use rustix::{
        fs::{Mode, OFlags},
        termios::{tcflush, QueueSelector},
    };
    use tokio::net::unix::pipe;

    /// The longest answer kept; the rest of a longer line is read and dropped.
    const LONGEST_ANSWER: usize = 64;

    pub(super) struct Tty {
        input: pipe::Receiver,
        output: pipe::Sender,
    }

    impl Tty {
        /// Opens the terminal at `path` (never as a controlling terminal) and discards what
        /// was typed before.
        pub(super) fn open(path: &Path) -> io::Result<Self> {
            let fd = rustix::fs::open(
                path,
                OFlags::RDWR | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC,
                Mode::empty(),
            )?;
            let _ = tcflush(&fd, QueueSelector::IFlush);
            let file = File::from(fd);
            Ok(Self {
                output: pipe::Sender::from_file_unchecked(file.try_clone()?)?,
                input: pipe::Receiver::from_file_unchecked(file)?,
            })
        }

        pub(super) async fn write_all(&self, mut bytes: &[u8]) -> io::Result<()> {
            while !bytes.is_empty() {
                self.output.writable().await?;
                match self.output.try_write(bytes) {
                    Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                    Ok(n) => bytes = bytes.get(n..).unwrap_or_default(),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) => return Err(e),
                }
            }
            Ok(())
        }

        /// Writes what the terminal takes now, without waiting (a prompt's last words).
        pub(super) fn try_write(&self, bytes: &[u8]) {
            let _ = self.output.try_write(bytes);
        }

        /// One line (a terminal in its usual mode hands over one line per read).
        pub(super) async fn read_line(&self) -> io::Result<String> {
            let mut line = Vec::new();
            let mut buf = [0u8; 256];
            loop {
                self.input.readable().await?;
                match self.input.try_read(&mut buf) {
                    Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
                    Ok(n) => {
                        let got = buf.get(..n).unwrap_or_default();
                        let end = got.iter().position(|b| *b == b'\n');
                        let room = LONGEST_ANSWER.saturating_sub(line.len());
                        line.extend(got.iter().take(end.unwrap_or(n).min(room)));
                        if end.is_some() {
                            return Ok(String::from_utf8_lossy(&line).into_owned());
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) => return Err(e),
                }
            }
        }
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    //! The terminal approver over a real pseudo-terminal: the test types on its master side
    //! and reads what the approver printed.
    #![allow(clippy::unwrap_used, reason = "test")]

    use std::{
        ffi::OsStr,
        fs::File,
        io::{Read, Write},
        os::unix::ffi::OsStrExt,
        path::PathBuf,
        sync::{Arc, Mutex},
        time::{Duration, Instant},
    };

    use lit_companion_bridge::{ApprovalRequest, Approver, Caller, Decision, LifetimeChoice, Road};
    use lit_companion_session::{
        explain::{describe_requests, RiskFlag},
        Ability, LitResource, Origin, ResourceAbilityRequest,
    };
    use rustix::{
        fs::{Mode, OFlags},
        pty::{grantpt, openpt, ptsname, unlockpt, OpenptFlags},
    };

    use super::TerminalApprover;

    /// A pseudo-terminal: its slave's path, the keyboard (the master) and the screen (what
    /// the master read so far).
    struct Pty {
        path: PathBuf,
        keyboard: File,
        screen: Arc<Mutex<String>>,
        _slave: File,
    }

    impl Pty {
        fn new() -> Self {
            let master = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY).unwrap();
            grantpt(&master).unwrap();
            unlockpt(&master).unwrap();
            let name = ptsname(&master, Vec::new()).unwrap();
            let path = PathBuf::from(OsStr::from_bytes(name.as_bytes()));
            // Held open so that the terminal stays up between prompts.
            let slave = File::from(
                rustix::fs::open(&path, OFlags::RDWR | OFlags::NOCTTY, Mode::empty()).unwrap(),
            );
            let master = File::from(master);
            let mut reader = master.try_clone().unwrap();
            let screen = Arc::new(Mutex::new(String::new()));
            let shown = screen.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while let Ok(n) = reader.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    let text = String::from_utf8_lossy(&buf[..n]).replace('\r', "");
                    shown.lock().unwrap().push_str(&text);
                }
            });
            Self {
                path,
                keyboard: master,
                screen,
                _slave: slave,
            }
        }

        fn screen(&self) -> String {
            self.screen.lock().unwrap().clone()
        }

        /// Waits until the screen shows `text` `times` times.
        async fn shows(&self, text: &str, times: usize) -> String {
            let until = Instant::now() + Duration::from_secs(10);
            loop {
                let screen = self.screen();
                if screen.matches(text).count() >= times {
                    return screen;
                }
                assert!(Instant::now() < until, "{text:?} never shown:\n{screen}");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }

        fn types(&self, text: &str) {
            (&self.keyboard).write_all(text.as_bytes()).unwrap();
        }
    }

    fn pkp(id: &str) -> ResourceAbilityRequest {
        ResourceAbilityRequest::new(
            LitResource::parse_key(&format!("lit-pkp://{id}")).unwrap(),
            Ability::PkpSigning,
        )
        .unwrap()
    }

    /// A Naga re-ask about the price alone: the PKP was approved at 0.005 per request, the
    /// dapp now may pay 0.6.
    fn price_only() -> ApprovalRequest {
        let caller = Caller::verified(
            Origin::parse("https://app.example.com").unwrap(),
            Road::Http,
        );
        let granted = vec![pkp(&"ab".repeat(32))];
        ApprovalRequest {
            who: caller.describe(),
            origin: caller.grant_key().to_string(),
            verified: true,
            road: caller.road.to_string(),
            caller,
            network: "naga-dev".into(),
            network_label: "Naga dev (test network)".into(),
            wallet: "0x19E7E376E7C213B7E7e7e46cc70A5dD086DAff2A".into(),
            wallet_label: Some("Main".into()),
            browser_wallet: None,
            pkp: None,
            unavailable: None,
            already_granted: describe_requests(&granted),
            extended: Vec::new(),
            granted_until: Some("Until Thu 26 Nov 2026, 21:57 UTC (24 hours)".into()),
            new: Vec::new(),
            not_granted: vec!["Sign with your other PKPs".into()],
            new_requests: Vec::new(),
            grant_requests: granted,
            lifetime: Duration::from_secs(3600),
            max_lifetime: Duration::from_secs(30 * 86_400),
            duration_text: "Until Wed 25 Nov 2026, 22:57 UTC (1 hour)".into(),
            flags: vec![RiskFlag::HighPrice],
            supplied_delegations: Vec::new(),
            statement: String::new(),
            siwe_preview: String::new(),
            lifetime_choices: vec![LifetimeChoice {
                secs: 3600,
                siwe: String::new(),
            }],
            max_price_wei: Some("600000000000000000".into()),
            price_text: Some("May spend up to 0.6 of your Lit balance per request".into()),
            price_before: Some("May spend up to 0.005 of your Lit balance per request".into()),
            deadline: None,
        }
    }

    #[tokio::test]
    async fn a_price_only_re_ask_says_what_changed_and_the_outcome() {
        let pty = Pty::new();
        let approver = TerminalApprover::on(&pty.path);
        let request = price_only();
        let asking = tokio::spawn(async move { approver.approve(request).await });
        pty.shows("[y/N] ", 1).await;
        pty.types("y\n");
        let decision = tokio::time::timeout(Duration::from_secs(10), asking)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            decision,
            Decision::Approve {
                lifetime: Duration::from_secs(3600)
            }
        );
        let screen = pty.shows("→ Approved for 1 hour.", 1).await;
        assert!(
            screen.contains(&price_only().to_text()),
            "the terminal prints the one rendering:\n{screen}"
        );
        for part in [
            "Already may, until Thu 26 Nov 2026, 21:57 UTC (24 hours):\n  ✓ [DANGER] Sign messages and transactions with your PKP",
            "It now asks only to spend more per request:\n  Now: May spend up to 0.6 of your Lit balance per request",
            "Approved before: May spend up to 0.005 of your Lit balance per request",
            "On Naga dev (test network), as 0x19E7…ff2A (Main) · via loopback HTTP",
        ] {
            assert!(screen.contains(part), "missing {part:?}:\n{screen}");
        }
        assert!(!screen.contains("It now also asks to"), "{screen}");
    }

    #[tokio::test]
    async fn a_withdrawn_prompt_stops_reading_and_the_next_answer_goes_to_the_next_prompt() {
        let pty = Pty::new();
        let approver = Arc::new(TerminalApprover::on(&pty.path));
        let first = {
            let approver = approver.clone();
            tokio::spawn(async move { approver.approve(price_only()).await })
        };
        pty.shows("[y/N] ", 1).await;
        // The caller goes away.
        first.abort();
        assert!(first.await.unwrap_err().is_cancelled());
        pty.shows(
            "→ Withdrawn: the caller went away before an answer; nothing is signed.",
            1,
        )
        .await;

        let second = {
            let approver = approver.clone();
            tokio::spawn(async move { approver.approve(price_only()).await })
        };
        pty.shows("[y/N] ", 2).await;
        pty.types("y\n");
        let decision = tokio::time::timeout(Duration::from_secs(10), second)
            .await
            .expect("the answer reached the prompt on screen, not the withdrawn one")
            .unwrap();
        assert!(matches!(decision, Decision::Approve { .. }), "{decision:?}");
        pty.shows("→ Approved for 1 hour.", 1).await;
    }

    #[tokio::test]
    async fn a_prompt_past_its_deadline_says_it_timed_out() {
        let pty = Pty::new();
        let approver = TerminalApprover::on(&pty.path);
        let mut request = price_only();
        request.deadline = Some(Instant::now() + Duration::from_millis(200));
        let answered =
            tokio::time::timeout(Duration::from_millis(400), approver.approve(request)).await;
        assert!(answered.is_err(), "nobody answered");
        pty.shows("→ Timed out: no answer in time; nothing is signed.", 1)
            .await;
        // Typed while no prompt is on screen: the next prompt discards it.
        pty.types("y\n");
        tokio::time::sleep(Duration::from_millis(200)).await;
        let mut request = price_only();
        request.deadline = None;
        let asking = approver.approve(request);
        let answer = async {
            pty.shows("[y/N] ", 2).await;
            pty.types("n\n");
        };
        let (decision, ()) = tokio::join!(asking, answer);
        assert!(matches!(decision, Decision::Reject { .. }), "{decision:?}");
        pty.shows("→ Rejected (the user said no): nothing is signed.", 1)
            .await;
    }
}
