//! Who is calling: callers the transport cannot vouch for, CORS, other OS users, sites, claims.

use super::*;

#[tokio::test]
async fn callers_the_transport_cannot_vouch_for_are_refused() {
    let b = start("auth", None, |_| {}).await;
    let (_, id) = pkp(1);
    let body = b.body(vec![pkp_request(&id)], json!({}));
    let post = || b.http.post(format!("{}/v1/request", b.url)).json(&body);

    // A forged Origin (no Fetch Metadata, as a script would send).
    let r = post().header("Origin", ORIGIN).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 401);
    assert_eq!(code(&r.json().await.unwrap()), 4100);
    // A rebinding attack: our address under another name.
    let r = post()
        .header("Host", format!("evil.example:{}", b.port))
        .header("Origin", "https://evil.example")
        .header("Sec-Fetch-Mode", "cors")
        .header("Sec-Fetch-Site", "same-origin")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    assert!(r.headers().get("access-control-allow-origin").is_none());
    assert_eq!(code(&r.json().await.unwrap()), 4100);
    // Neither an Origin nor a pairing token; then a wrong token.
    let r = post().send().await.unwrap();
    assert_eq!(code(&r.json().await.unwrap()), 4100);
    let r = post().bearer_auth("lcp_0000").send().await.unwrap();
    assert_eq!(code(&r.json().await.unwrap()), 4100);
    // An opaque origin.
    let r = post()
        .header("Origin", "null")
        .header("Sec-Fetch-Mode", "cors")
        .header("Sec-Fetch-Site", "cross-site")
        .send()
        .await
        .unwrap();
    assert_eq!(code(&r.json().await.unwrap()), 4100);
    assert_eq!(b.asked().await, 0);
    b.nothing_stored();

    // A real pairing token works, and the prompt names the program.
    let token = b
        .vault
        .create_pairing("ci-runner", OffsetDateTime::now_utc())
        .unwrap();
    let r = post().bearer_auth(token.as_str()).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(
        b.approver.asked.lock().unwrap()[0].who,
        "local program \"ci-runner\" (pairing token)"
    );
}

#[tokio::test]
async fn cors_answers_exactly_the_caller() {
    let b = start("cors", None, |_| {}).await;
    let r = b
        .http
        .request(reqwest::Method::OPTIONS, format!("{}/v1/request", b.url))
        .header("Origin", ORIGIN)
        .header("Access-Control-Request-Method", "POST")
        .header("Access-Control-Request-Private-Network", "true")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 204);
    assert_eq!(r.headers()["access-control-allow-origin"], ORIGIN);
    assert_eq!(r.headers()["access-control-allow-private-network"], "true");
    let r = b
        .http
        .post(format!("{}/v1/request", b.url))
        .header("Origin", "https://other.example")
        .header("Sec-Fetch-Mode", "cors")
        .header("Sec-Fetch-Site", "cross-site")
        .json(&json!({"v": 1, "id": 1, "method": "listGrants"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers()["access-control-allow-origin"],
        "https://other.example"
    );
    assert_ne!(r.headers()["access-control-allow-origin"], "*");
}

/// Runs curl as the OS user `nobody` (needs root, as CI has): the answer's status and body.
async fn curl_as_nobody(args: Vec<String>, body: Option<String>) -> (u16, Value) {
    tokio::task::spawn_blocking(move || {
        use std::io::Write;
        let mut cmd = std::process::Command::new("runuser");
        cmd.args(["-u", "nobody", "--", "curl", "-s", "-w", "\n%{http_code}"])
            .args(&args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped());
        if body.is_some() {
            cmd.args(["--data-binary", "@-"]);
        }
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("runuser and curl: {e}"));
        let mut stdin = child.stdin.take().unwrap();
        if let Some(b) = body {
            stdin.write_all(b.as_bytes()).unwrap();
        }
        drop(stdin);
        let out = child.wait_with_output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        // The body, then the status code on its own line (curl's `-w`).
        let (body, status) = text.rsplit_once('\n').unwrap();
        let json = body.get(body.find('{').unwrap_or(0)..).unwrap_or_default();
        (
            status.trim().parse().unwrap(),
            serde_json::from_str(json).unwrap_or_else(|_| json!({ "raw": body })),
        )
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn another_os_user_is_refused_whatever_it_sends() {
    if lit_companion_platform::endpoint::current_uid() != 0 {
        eprintln!("skipped: switching to the OS user `nobody` needs root (CI runs as root)");
        return;
    }
    let b = start("other-user", None, |_| {}).await;
    let (_, id) = pkp(9);
    // The user's own browser gets its grant.
    let (status, v) = b
        .post_from(ORIGIN, &b.body(vec![pkp_request(&id)], json!({})))
        .await;
    assert_eq!(status, 200, "{v}");
    let token = b
        .vault
        .create_pairing("mine", OffsetDateTime::now_utc())
        .unwrap();
    let url = format!("{}/v1/request", b.url);
    let forged = |extra: &[&str]| {
        let mut args: Vec<String> = [
            "-H",
            "Origin: https://app.example.com",
            "-H",
            "Sec-Fetch-Mode: cors",
            "-H",
            "Sec-Fetch-Site: cross-site",
            "-H",
            "Content-Type: application/json",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        args.push(url.clone());
        args
    };
    let methods = [
        b.body(vec![pkp_request(&id)], json!({})),
        json!({"v": 1, "id": 2, "method": "listGrants"}),
        json!({"v": 1, "id": 3, "method": "disconnect"}),
    ];
    let bearer = format!("Authorization: Bearer {}", token.as_str());
    for extra in [vec![], vec![bearer.as_str()]] {
        for body in &methods {
            // Closed as it is accepted, before a byte is read: no answer at all (curl: 000).
            let (status, v) = curl_as_nobody(forged(&extra), Some(body.to_string())).await;
            assert_eq!(status, 0, "{body}: {v}");
            assert!(v.get("result").is_none(), "{v}");
        }
    }
    // Nothing was listed, nothing revoked, nothing new asked.
    let live = b.live_sessions();
    assert_eq!(live.len(), 1);
    assert_eq!(b.asked().await, 1);
    // The same forged headers from the user's own process still work: the refusal is the user's.
    let (status, v) = b
        .post_from(ORIGIN, &b.body(vec![pkp_request(&id)], json!({})))
        .await;
    assert_eq!(
        (status, v["result"]["reused"].clone()),
        (200, json!(true)),
        "{v}"
    );
}

#[tokio::test]
async fn one_site_with_many_subdomains_cannot_hold_every_prompt_slot() {
    let hold = Arc::new(tokio::sync::Notify::new());
    let b = start_with(
        "fair",
        None,
        Some(hold.clone()),
        |c| {
            c.wait = Duration::from_millis(300);
            c.rate = RateLimit {
                per_second: 1e9,
                burst: 1e9,
            };
        },
        1,
        NodeConfig::new(Network::DatilDev),
    )
    .await;
    let (_, id) = pkp(10);
    let mut statuses = Vec::new();
    for n in 0..8 {
        let origin = format!("https://a{n}.crowd.example");
        let (status, v) = b
            .post_from(&origin, &b.body(vec![pkp_request(&id)], json!({})))
            .await;
        statuses.push((status, code(&v)));
    }
    let waiting = statuses.iter().filter(|(s, _)| *s == 202).count();
    let refused = statuses.iter().filter(|(_, c)| *c == 4429).count();
    assert_eq!(
        (waiting, refused),
        (2, 6),
        "one site (crowd.example) holds at most two prompts: {statuses:?}"
    );
    // Another site still gets its prompt queued.
    let (status, v) = b
        .post_from(
            "https://other.example",
            &b.body(vec![pkp_request(&id)], json!({})),
        )
        .await;
    assert_eq!(status, 202, "{v}");
    for _ in 0..3 {
        hold.notify_one();
    }
}

#[tokio::test]
async fn a_claimed_origin_never_rides_on_a_verified_grant_and_always_prompts() {
    use lit_companion_bridge::{Caller, Identity};
    let b = start("claims", Some(STRICT_POLICY), |_| {}).await;
    let (_, id) = pkp(11);
    let body = b.body(vec![pkp_request(&id)], json!({}));
    // The verified origin has a grant.
    let (status, v) = b.post_from(ORIGIN, &body).await;
    assert_eq!(status, 200, "{v}");
    // A deep link claiming that origin: asked, and refused by a policy without "unverified".
    let claimed = Caller {
        identity: Identity::Claimed(lit_companion_session::Origin::parse(ORIGIN).unwrap()),
        road: Road::DeepLink,
    };
    let asked = b.asked().await;
    let r =
        serde_json::to_value(b.engine.handle(&claimed, body.to_string().as_bytes()).await).unwrap();
    assert_eq!(code(&r), 4001, "{r}");
    assert!(r.get("result").is_none());
    assert_eq!(
        b.asked().await,
        asked + 1,
        "the claim was put to the approver"
    );
    assert!(r["error"]["message"]
        .as_str()
        .unwrap()
        .contains("not verified"));

    // Under a rule with "unverified": true the claim is served, and asked again every time.
    let policy = r#"{"version":1,"rules":[{"origin":"https://app.example.com","resources":["lit-pkp://*"],"unverified":true}]}"#;
    let b = start("claims-ok", Some(policy), |_| {}).await;
    let body = b.body(vec![pkp_request(&id)], json!({}));
    for round in 0..2 {
        let asked = b.asked().await;
        let r = serde_json::to_value(b.engine.handle(&claimed, body.to_string().as_bytes()).await)
            .unwrap();
        assert_eq!(r["result"]["reused"], false, "round {round}: {r}");
        assert_eq!(
            b.asked().await,
            asked + 1,
            "round {round}: asked every time"
        );
    }
    let sessions = b.vault.sessions().unwrap();
    assert!(sessions
        .iter()
        .all(|s| s.origin == "unverified:https://app.example.com"));
}

#[tokio::test]
async fn two_thousand_idle_sockets_of_another_user_leave_the_user_served() {
    if lit_companion_platform::endpoint::current_uid() != 0 {
        eprintln!("skipped: switching to the OS user `nobody` needs root (CI runs as root)");
        return;
    }
    let b = start("idle-flood", None, |_| {}).await;
    let (_, id) = pkp(10);
    let body = b.body(vec![pkp_request(&id)], json!({}));
    let (status, v) = b.post_from(ORIGIN, &body).await;
    assert_eq!(status, 200, "{v}");
    // The companion's open connections on its port (the kernel's table: ESTABLISHED with our
    // port as the local one); one it closed is not among them, whoever holds the other end.
    let port = b.port;
    let open_here = move || {
        ["/proc/net/tcp", "/proc/net/tcp6"]
            .iter()
            .filter_map(|f| std::fs::read_to_string(f).ok())
            .flat_map(|t| t.lines().skip(1).map(str::to_owned).collect::<Vec<_>>())
            .filter(|l| {
                let cols: Vec<&str> = l.split_whitespace().collect();
                cols.get(3) == Some(&"01")
                    && cols
                        .get(1)
                        .and_then(|a| a.rsplit_once(':'))
                        .and_then(|(_, p)| u16::from_str_radix(p, 16).ok())
                        == Some(port)
            })
            .count()
    };
    let before = open_here();
    // Another OS user opens 2,000 connections and holds them, sending nothing.
    let hold = format!(
        "import resource, socket, sys, time\n\
         soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)\n\
         resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))\n\
         held = [socket.create_connection(('127.0.0.1', {}), timeout=30) for _ in range(2000)]\n\
         print(len(held), flush=True)\n\
         sys.stdin.read()\n",
        b.port
    );
    let (squatter, held) = AsNobody::run(&hold).await;
    assert_eq!(held.trim(), "2000", "the other user holds its connections");
    // The user's own cached request is answered while they are held, and the companion holds
    // none of them: each is closed as it is accepted (the kernel's queue may still hold a few
    // not yet accepted when the other user is done connecting).
    let started = std::time::Instant::now();
    let (status, v) = b.post_from(ORIGIN, &body).await;
    let took = started.elapsed();
    let settled = std::time::Instant::now() + Duration::from_secs(10);
    let mut during = open_here();
    while during >= before + 64 && std::time::Instant::now() < settled {
        tokio::time::sleep(Duration::from_millis(100)).await;
        during = open_here();
    }
    drop(squatter);
    assert_eq!((status, &v["result"]["reused"]), (200, &json!(true)), "{v}");
    assert!(
        during < before + 64,
        "the companion holds another user's connections: {before} → {during} open on its port"
    );
    eprintln!("cached request beside 2,000 idle foreign sockets: {took:?}; open on its port {before} → {during}");
}

#[tokio::test]
async fn a_loopback_origin_is_served_only_while_its_port_is_the_users() {
    let b = start("loopback-owner", None, |_| {}).await;
    let (_, id) = pkp(11);
    let body = b.body(vec![pkp_request(&id)], json!({}));
    // The user's own dev server: its page is served, and granted.
    let mine = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = mine.local_addr().unwrap().port();
    let origin = format!("http://localhost:{port}");
    let (status, v) = b.post_from(&origin, &body).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(b.asked().await, 1);
    // The server stops: nothing of the user's serves that origin, and its grant is not used.
    drop(mine);
    let (status, v) = b.post_from(&origin, &body).await;
    assert_eq!((status, code(&v)), (401, 4100), "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not served"),
        "{v}"
    );
    if lit_companion_platform::endpoint::current_uid() != 0 {
        eprintln!(
            "skipped the other user's listener: switching to `nobody` needs root (CI runs as root)"
        );
        return;
    }
    // Another OS user binds the port: its pages have the same origin, and get nothing.
    let squat = format!(
        "import socket, time\n\
         s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n\
         s.bind(('127.0.0.1', {port})); s.listen(); print('up', flush=True)\n\
         import sys; sys.stdin.read()\n"
    );
    let (squatter, up) = AsNobody::run(&squat).await;
    assert_eq!(up.trim(), "up");
    let (status, v) = b.post_from(&origin, &body).await;
    let grants = b
        .post_from(&origin, &json!({"v": 1, "id": 2, "method": "listGrants"}))
        .await;
    drop(squatter);
    assert_eq!((status, code(&v)), (401, 4100), "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("another user of this computer"),
        "{v}"
    );
    assert_eq!(
        code(&grants.1),
        4100,
        "the grants are not listed to it either: {}",
        grants.1
    );
    assert_eq!(b.asked().await, 1, "nobody was asked");
}

/// A Python script run as the OS user `nobody`, until dropped: its stdin closing ends it
/// (killing `runuser` would leave its child running).
struct AsNobody(std::process::Child);

impl AsNobody {
    /// Starts `script` and waits for the first line it prints.
    async fn run(script: &str) -> (Self, String) {
        let mut child = std::process::Command::new("runuser")
            .args(["-u", "nobody", "--", "python3", "-c", script])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("runuser and python3: {e}"));
        let stdout = child.stdout.take().unwrap();
        let line = tokio::task::spawn_blocking(move || {
            let mut line = String::new();
            std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line).unwrap();
            line
        })
        .await
        .unwrap();
        (Self(child), line)
    }
}

impl Drop for AsNobody {
    fn drop(&mut self) {
        drop(self.0.stdin.take());
        let _ = self.0.wait();
    }
}
