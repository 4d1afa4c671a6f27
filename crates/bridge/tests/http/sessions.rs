//! Reuse and escalation, what the prompt shows against what is signed, policies and prices.

use super::*;

#[tokio::test]
async fn first_request_prompts_then_reuses_then_escalates_only_for_what_is_new() {
    let b = start("flow", None, |_| {}).await;
    let (pub1, id1) = pkp(1);
    let (pub2, id2) = pkp(2);

    let (status, v) = b
        .post_from(ORIGIN, &b.body(vec![pkp_request(&id1)], json!({})))
        .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["id"], "req-1");
    assert_eq!(v["result"]["reused"], false);
    assert_eq!(b.asked().await, 1);
    {
        let asked = b.approver.asked.lock().unwrap();
        assert_eq!(asked[0].who, "app.example.com — verified by your browser");
        assert_eq!(asked[0].new.len(), 1);
        assert!(asked[0].new[0]
            .sentence
            .starts_with("Sign messages and transactions with your PKP 0x"));
        assert!(asked[0].already_granted.is_empty());
        // The prompt's disclosure holds the message to be signed, ReCap and all.
        let preview = &asked[0].siwe_preview;
        assert!(
            preview.starts_with("app.example.com wants you to sign in"),
            "{preview}"
        );
        assert!(preview.contains("urn:recap:"), "{preview}");
        // The nonce comes from the nodes once the user said yes.
        assert!(
            preview.contains("\nNonce: latestBlockHashFromTheNodes\n"),
            "{preview}"
        );
    }
    let stored = &b.vault.sessions().unwrap()[0];
    assert!(stored.auth_sig.signed_message.contains(&format!(
        "\nNonce: {}\n",
        lit_companion_node_sim::DEFAULT_BLOCKHASH
    )));
    let sigs = v["result"]["sessionSigs"].clone();
    assert_eq!(sigs.as_object().unwrap().len(), 3);
    // Every simulated node accepts its entry for the granted PKP, and refuses another PKP.
    for node in &b.nodes {
        let (status, answer) = b.node_accepts(node, &sigs, &pub1).await;
        assert_eq!(status, 200, "{answer}");
        let (status, answer) = b.node_accepts(node, &sigs, &pub2).await;
        assert_eq!(status, 401, "{answer}");
    }
    // The SIWE domain is the verified origin's host.
    let signed: Value =
        serde_json::from_str(sigs[&b.nodes[0]]["signedMessage"].as_str().unwrap()).unwrap();
    let siwe = signed["capabilities"][0]["signedMessage"].as_str().unwrap();
    assert!(
        siwe.starts_with("app.example.com wants you to sign in"),
        "{siwe}"
    );
    assert!(
        siwe.contains(&format!(
            "Nonce: {}",
            lit_companion_node_sim::DEFAULT_BLOCKHASH
        )),
        "the nonce is the nodes' block hash"
    );

    // Inside the grant: no prompt, the same session key.
    let (status, again) = b
        .post_from(ORIGIN, &b.body(vec![pkp_request(&id1)], json!({})))
        .await;
    assert_eq!(status, 200);
    assert_eq!(again["result"]["reused"], true);
    assert_eq!(again["result"]["sessionKey"], v["result"]["sessionKey"]);
    assert_eq!(b.asked().await, 1);

    // Escalation: only the new PKP is asked about; the old one is shown as already granted.
    let (status, more) = b
        .post_from(
            ORIGIN,
            &b.body(vec![pkp_request(&id1), pkp_request(&id2)], json!({})),
        )
        .await;
    assert_eq!(status, 200, "{more}");
    assert_eq!(more["result"]["reused"], false);
    {
        let asked = b.approver.asked.lock().unwrap();
        assert_eq!(asked.len(), 2);
        assert_eq!(asked[1].new.len(), 1);
        assert!(asked[1].new[0].resource.ends_with(&id2));
        assert_eq!(asked[1].already_granted.len(), 1);
        assert!(asked[1].already_granted[0].resource.ends_with(&id1));
    }
    let sigs = &more["result"]["sessionSigs"];
    for pubkey in [&pub1, &pub2] {
        assert_eq!(b.node_accepts(&b.nodes[1], sigs, pubkey).await.0, 200);
    }

    // listGrants shows this origin's grant in plain words; another origin sees nothing.
    let list = json!({"v": 1, "id": 2, "method": "listGrants"});
    let (_, grants) = b.post_from(ORIGIN, &list).await;
    assert_eq!(grants["result"]["grants"].as_array().unwrap().len(), 1);
    assert_eq!(
        grants["result"]["grants"][0]["mayDo"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let (_, other) = b.post_from("https://other.example", &list).await;
    assert!(other["result"]["grants"].as_array().unwrap().is_empty());

    // disconnect revokes: the key leaves the keychain.
    let (_, bye) = b
        .post_from(ORIGIN, &json!({"v": 1, "id": 3, "method": "disconnect"}))
        .await;
    assert_eq!(bye["result"]["revoked"], 1);
    b.nothing_stored();
}

/// What the prompt shows is what the wallet signs: for the lifetime the user picks, the
/// message offered with it, byte for byte, but for the session key and the nonce (made and
/// fetched on approval). A pick between two offers signs the shorter one, never more.
#[tokio::test]
async fn the_message_shown_for_the_lifetime_chosen_is_the_message_signed() {
    let b = start("preview", None, |_| {}).await;
    *b.approver.choose.lock().unwrap() = Some(Duration::from_secs(5000));
    let (_, id) = pkp(1);
    let (status, v) = b
        .post_from(ORIGIN, &b.body(vec![pkp_request(&id)], json!({})))
        .await;
    assert_eq!(status, 200, "{v}");
    let asked = b.approver.asked.lock().unwrap()[0].clone();
    let offered: Vec<u64> = asked.lifetime_choices.iter().map(|c| c.secs).collect();
    assert_eq!(
        offered.last(),
        Some(&asked.lifetime.as_secs()),
        "{offered:?}"
    );
    assert_eq!(
        asked.siwe_preview,
        asked.lifetime_choices.last().unwrap().siwe
    );
    let shown = &asked
        .lifetime_choices
        .iter()
        .find(|c| c.secs == 3600)
        .expect("an hour is offered")
        .siwe;
    let sessions = b.vault.sessions().unwrap();
    assert_eq!(sessions.len(), 1);
    let signed = &sessions[0].auth_sig.signed_message;
    let nonce = signed
        .lines()
        .find_map(|l| l.strip_prefix("Nonce: "))
        .unwrap();
    let expected = shown
        .replace("new-session-key", &sessions[0].public_key)
        .replace("latestBlockHashFromTheNodes", nonce);
    assert_eq!(signed, &expected);
    assert_ne!(
        signed,
        &asked
            .siwe_preview
            .replace("new-session-key", &sessions[0].public_key)
            .replace("latestBlockHashFromTheNodes", nonce)
    );
}

#[tokio::test]
async fn the_policy_refuses_wildcards_escalations_and_strangers() {
    let b = start("policy", Some(STRICT_POLICY), |_| {}).await;
    let (_, id) = pkp(1);
    // A wildcard under a policy that forbids wildcards.
    let (status, v) = b
        .post_from(ORIGIN, &b.body(vec![pkp_request("*")], json!({})))
        .await;
    assert_eq!((status, code(&v)), (403, 4001), "{v}");
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .contains("wildcards"));
    b.nothing_stored();
    // An origin the policy does not know.
    let (_, v) = b
        .post_from(
            "https://stranger.example",
            &b.body(vec![pkp_request(&id)], json!({})),
        )
        .await;
    assert_eq!(code(&v), 4001);
    b.nothing_stored();
    // Allowed; then an escalation to a Lit Action the policy rejects: the grant stays as it was.
    let (status, first) = b
        .post_from(ORIGIN, &b.body(vec![pkp_request(&id)], json!({})))
        .await;
    assert_eq!(status, 200, "{first}");
    let action = json!({"resource": {"resource": "QmYwAPJzv5CZsnAzt8auVZRn9pfbGkY8ZtZ7j1234PbdG", "resourcePrefix": "lit-litaction"}, "ability": "lit-action-execution"});
    let (_, v) = b
        .post_from(ORIGIN, &b.body(vec![pkp_request(&id), action], json!({})))
        .await;
    assert_eq!(code(&v), 4001);
    let sessions = b.vault.sessions().unwrap();
    assert_eq!(sessions.len(), 1);
    assert_eq!(
        sessions[0].public_key,
        first["result"]["sessionKey"].as_str().unwrap()
    );
    // Longer than the policy allows.
    let long = b.body(
        vec![pkp_request(&pkp(3).1)],
        expiring_in(time::Duration::days(3)),
    );
    let (_, v) = b.post_from(ORIGIN, &long).await;
    assert_eq!(code(&v), 4001);
}

#[tokio::test]
async fn naga_prices_are_capped_shown_and_never_raised_without_asking() {
    let b = start_naga("price", None).await;
    let (_, id) = pkp(6);
    let ask = |price: &str| b.body(vec![pkp_request(&id)], json!({ "maxPrice": price }));
    for too_much in [u128::MAX.to_string(), "1000000000000000001".to_owned()] {
        let (status, v) = b.post_from(ORIGIN, &ask(&too_much)).await;
        assert_eq!((status, code(&v)), (400, 4400), "{v}");
        let message = v["error"]["message"].as_str().unwrap();
        assert!(
            message.contains("above the cap of 1000000000000000000 wei"),
            "{message}"
        );
    }
    for malformed in ["-1", "1e18", "0x10", ""] {
        let (_, v) = b.post_from(ORIGIN, &ask(malformed)).await;
        assert_eq!(code(&v), 4400, "{malformed}: {v}");
    }
    assert_eq!(b.asked().await, 0);
    b.nothing_stored();

    // Approved at 0.005 per request: the prompt said so.
    let (status, v) = b.post_from(ORIGIN, &ask("5000000000000000")).await;
    assert_eq!(status, 200, "{v}");
    {
        let asked = b.approver.asked.lock().unwrap();
        assert_eq!(
            asked[0].price_text.as_deref(),
            Some("May spend up to 0.005 of your Lit balance per request")
        );
        assert!(!asked[0]
            .flags
            .contains(&lit_companion_session::explain::RiskFlag::HighPrice));
    }
    // The same price or less: reused without a prompt.
    let (_, v) = b.post_from(ORIGIN, &ask("4000000000000000")).await;
    assert_eq!(v["result"]["reused"], true, "{v}");
    assert_eq!(b.asked().await, 1);
    // More: a new question, about the price alone.
    let (status, v) = b.post_from(ORIGIN, &ask("600000000000000000")).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["result"]["reused"], false, "{v}");
    {
        let asked = b.approver.asked.lock().unwrap();
        assert_eq!(asked.len(), 2);
        assert!(
            asked[1].new.is_empty(),
            "no new capability, only a higher price"
        );
        assert!(asked[1]
            .flags
            .contains(&lit_companion_session::explain::RiskFlag::HighPrice));
        assert_eq!(
            asked[1].max_price_wei.as_deref(),
            Some("600000000000000000")
        );
    }
    // No price given means the cap (1.0), more than was approved: asked again.
    let (_, v) = b
        .post_from(ORIGIN, &b.body(vec![pkp_request(&id)], json!({})))
        .await;
    assert_eq!(
        v["result"]["reused"], false,
        "the cap (1.0) is above what was approved: {v}"
    );
    assert_eq!(b.asked().await, 3);
}

#[tokio::test]
async fn a_policy_caps_the_price() {
    let policy = r#"{"version":1,"rules":[{"origin":"https://app.example.com","resources":["lit-pkp://*"],"maxPrice":"1000000000000000"}]}"#;
    let b = start_naga("policy-price", Some(policy)).await;
    let (_, id) = pkp(7);
    let body = |price: &str| b.body(vec![pkp_request(&id)], json!({ "maxPrice": price }));
    let (_, v) = b.post_from(ORIGIN, &body("2000000000000000")).await;
    assert_eq!(code(&v), 4001, "{v}");
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .contains("the policy allows at most 1000000000000000"));
    let (status, v) = b.post_from(ORIGIN, &body("1000000000000000")).await;
    assert_eq!(status, 200, "{v}");
}

/// Issue 24: a dapp approved for every PKP for ten minutes asks for one Lit Action for 29
/// days. Approving would re-sign the wildcard with the new lifetime, so the prompt lists it as
/// extended, in red, and Reject is the default; and a policy that allows the wildcard for
/// 600 s holds every session carrying it to 600 s, whichever rule allowed the new line.
#[tokio::test]
async fn an_escalation_shows_every_line_it_extends_and_the_policy_bounds_every_line_it_covers() {
    use lit_companion_session::explain::{Risk, RiskFlag};
    let policy = r#"{"version":1,"rules":[
        {"origin":"https://app.example.com","resources":["lit-pkp://*"],"allowWildcards":true,"maxLifetimeSeconds":600},
        {"origin":"https://app.example.com","resources":["lit-litaction://*"],"abilities":["lit-action-execution"],"maxLifetimeSeconds":2592000}]}"#;
    let b = start("extended", Some(policy), |_| {}).await;
    let action = json!({"resource": {"resource": "QmYwAPJzv5CZsnAzt8auVZRn9pfbGkY8ZtZ7j1234PbdG", "resourcePrefix": "lit-litaction"}, "ability": "lit-action-execution"});

    // Every PKP, for ten minutes: the policy allows it.
    let (status, first) = b
        .post_from(
            ORIGIN,
            &b.body(
                vec![pkp_request("*")],
                expiring_in(time::Duration::minutes(10)),
            ),
        )
        .await;
    assert_eq!(status, 200, "{first}");

    // One Lit Action for 29 days: the wildcard would last 29 days too.
    let (_, v) = b
        .post_from(
            ORIGIN,
            &b.body(vec![action.clone()], expiring_in(time::Duration::days(29))),
        )
        .await;
    {
        let asked = b.approver.asked.lock().unwrap();
        let q = &asked[1];
        assert_eq!(q.new.len(), 1, "only the Lit Action is new");
        assert_eq!(q.extended.len(), 1, "the wildcard's expiry changes");
        assert!(
            q.extended[0].resource.ends_with("lit-pkp://*"),
            "{:?}",
            q.extended
        );
        assert_eq!(q.extended[0].risk, Risk::Danger);
        assert!(q.extended[0].flags.contains(&RiskFlag::WildcardResource));
        assert!(q.already_granted[0]
            .flags
            .contains(&RiskFlag::WildcardResource));
        assert!(q.granted_until.is_some());
        assert!(q.is_dangerous(), "Reject is the default");
        let text = q.to_text();
        assert!(
            text.contains("— approving extends this to")
                && text.contains("✓ [DANGER] Sign messages and transactions with any of your PKPs"),
            "{text}"
        );
    }
    assert_eq!(code(&v), 4001, "held to the wildcard's 600 s: {v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("exceeds the policy's 600 s for pkp-signing on lit-pkp://*"),
        "{v}"
    );
    let sessions = b.vault.sessions().unwrap();
    assert_eq!(sessions.len(), 1, "the grant stays as it was");
    assert_eq!(
        sessions[0].public_key,
        first["result"]["sessionKey"].as_str().unwrap()
    );

    // Within the wildcard's bound: approved, and the merged session never outlives 600 s.
    let (status, v) = b
        .post_from(
            ORIGIN,
            &b.body(vec![action], expiring_in(time::Duration::minutes(5))),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    let live = b.live_sessions();
    assert_eq!(live.len(), 1);
    assert_eq!(live[0].granted.len(), 2, "the wildcard and the Lit Action");
    let lasts = live[0].expires_at.at() - live[0].created_at.at();
    assert!(lasts <= time::Duration::seconds(600), "{lasts}");
}

#[tokio::test]
async fn a_policy_never_lengthens_a_line_no_rule_of_it_allows() {
    // At the screen, the user grants every PKP for ten minutes.
    let b = start("unruled", None, |_| {}).await;
    let (status, first) = b
        .post_from(
            ORIGIN,
            &b.body(
                vec![pkp_request("*")],
                expiring_in(time::Duration::minutes(10)),
            ),
        )
        .await;
    assert_eq!(status, 200, "{first}");
    // Then `serve` answers by a policy that allows Lit Actions only: one for a day would re-sign
    // the wildcard for a day too, which no rule allows.
    *b.approver.policy.lock().unwrap() = Some(
        Policy::parse(r#"{"version":1,"rules":[{"origin":"https://app.example.com","resources":["lit-litaction://*"],"abilities":["lit-action-execution"],"maxLifetimeSeconds":2592000}]}"#)
            .unwrap(),
    );
    let action = json!({"resource": {"resource": "QmYwAPJzv5CZsnAzt8auVZRn9pfbGkY8ZtZ7j1234PbdG", "resourcePrefix": "lit-litaction"}, "ability": "lit-action-execution"});
    let (_, v) = b
        .post_from(
            ORIGIN,
            &b.body(vec![action], expiring_in(time::Duration::days(1))),
        )
        .await;
    assert_eq!(code(&v), 4001, "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("would lengthen pkp-signing on lit-pkp://*"),
        "{v}"
    );
    // The wildcard still ends when it did.
    let live = b.live_sessions();
    assert_eq!(live.len(), 1);
    assert_eq!(
        live[0].public_key,
        first["result"]["sessionKey"].as_str().unwrap()
    );
}
