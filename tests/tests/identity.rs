//! Identity through the running local cloud: accounts, tokens, the
//! authorizer, roles and abuse limits.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use system_tests::{Account, Cloud, PATIENCE, TEST_PASSWORD, access_token, eventually};

async fn me(cloud: &Cloud, authorization: Option<&str>) -> reqwest::Response {
    let mut req = cloud.http.get(cloud.url("/auth/me"));
    if let Some(value) = authorization {
        req = req.header("authorization", value);
    }
    req.send().await.unwrap()
}

/// Items whose partition key is exactly `pk`.
async fn items(cloud: &Cloud, pk: &str) -> usize {
    cloud
        .dynamodb
        .query()
        .table_name(cloud.table())
        .key_condition_expression("PK = :pk")
        .expression_attribute_values(":pk", aws_sdk_dynamodb::types::AttributeValue::S(pk.into()))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .count() as usize
}

/// Accounts stored with `email`, found without the email claim's help.
async fn accounts_with_email(cloud: &Cloud, email: &str) -> usize {
    use aws_sdk_dynamodb::types::AttributeValue;
    let mut count = 0;
    let mut start = None;
    loop {
        let page = cloud
            .dynamodb
            .scan()
            .table_name(cloud.table())
            .filter_expression("entity = :user AND email = :email")
            .expression_attribute_values(":user", AttributeValue::S("USER".into()))
            .expression_attribute_values(":email", AttributeValue::S(email.into()))
            .set_exclusive_start_key(start)
            .consistent_read(true)
            .send()
            .await
            .unwrap();
        count += page.count() as usize;
        start = page.last_evaluated_key().cloned();
        if start.is_none() {
            return count;
        }
    }
}

fn signup_body(email: &str) -> Value {
    json!({ "email": email, "password": TEST_PASSWORD, "name": "Grace Hopper", "phone": "+1 555 555 0100" })
}

#[tokio::test]
async fn a_new_account_reads_its_own_profile_through_the_authorizers_context() {
    let cloud = Cloud::connect().await;
    let account = cloud.new_account().await;
    let login = cloud.login(&account).await;
    assert_eq!(login["token_type"], "Bearer");
    assert_eq!(
        login["expires_in"].as_i64().unwrap().to_string(),
        cloud.parameter("AccessTokenTtlSeconds")
    );
    assert_eq!(
        login["refresh_expires_in"].as_i64().unwrap().to_string(),
        cloud.parameter("RefreshTokenTtlSeconds")
    );

    let res = me(&cloud, Some(&format!("Bearer {}", access_token(&login)))).await;
    assert_eq!(res.status(), 200);
    let text = res.text().await.unwrap();
    assert!(
        !text.contains("argon2") && !text.contains("password"),
        "{text}"
    );
    let profile: Value = serde_json::from_str(&text).unwrap();
    // auth-me knows the caller only from the context the authorizer set.
    assert_eq!(profile["id"], account.id.as_str());
    assert_eq!(profile["email"], account.email.as_str());
    assert_eq!(profile["role"], "USER");

    let stored = cloud
        .dynamodb
        .get_item()
        .table_name(cloud.table())
        .key(
            "PK",
            aws_sdk_dynamodb::types::AttributeValue::S(format!("USER#{}", account.id)),
        )
        .key(
            "SK",
            aws_sdk_dynamodb::types::AttributeValue::S("PROFILE".into()),
        )
        .send()
        .await
        .unwrap();
    let hash = stored.item().unwrap()["password_hash"].as_s().unwrap();
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert!(!hash.contains(TEST_PASSWORD));
}

#[tokio::test]
async fn signing_up_emits_user_registered_through_the_outbox() {
    let cloud = Cloud::connect().await;
    let account = cloud.new_account().await;
    eventually("UserRegistered in the event log", PATIENCE, || async {
        (cloud
            .logged_events_mentioning("UserRegistered", &account.id)
            .await
            == 1)
            .then_some(())
    })
    .await;
}

#[tokio::test]
async fn concurrent_signups_with_one_email_create_exactly_one_account() {
    let cloud = Cloud::connect().await;
    let email = format!("race-{}@example.com", uuid::Uuid::new_v4());
    let attempts = 8;
    let statuses: Vec<u16> = futures::future::join_all((0..attempts).map(|i| {
        // Same mailbox, different spellings: normalization makes them one.
        let spelled = if i % 2 == 0 {
            email.clone()
        } else {
            email.to_uppercase()
        };
        let cloud = &cloud;
        async move {
            cloud
                .post("/auth/signup", &signup_body(&spelled), None)
                .await
                .status()
                .as_u16()
        }
    }))
    .await;
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        attempts - 1,
        "{statuses:?}"
    );
    assert_eq!(accounts_with_email(&cloud, &email).await, 1);
    assert_eq!(items(&cloud, &format!("EMAIL#{email}")).await, 1);
}

#[tokio::test]
async fn bad_signups_are_400s_with_stable_codes_and_write_nothing() {
    let cloud = Cloud::connect().await;
    let email = format!("bad-{}@example.com", uuid::Uuid::new_v4());
    let with = |key: &str, value: Value| {
        let mut body = signup_body(&email);
        body[key] = value;
        body
    };
    let mut missing = signup_body(&email);
    missing.as_object_mut().unwrap().remove("password");
    let cases: Vec<(String, &str)> = vec![
        ("{\"email\":".into(), "MALFORMED_JSON"),
        ("[]".into(), "INVALID_BODY"),
        (missing.to_string(), "INVALID_BODY"),
        (with("role", json!("ADMIN")).to_string(), "INVALID_BODY"),
        (
            with("email", json!("not-an-email")).to_string(),
            "INVALID_EMAIL",
        ),
        (
            with("email", json!(format!("{}@example.com", "a".repeat(300)))).to_string(),
            "INVALID_EMAIL",
        ),
        (
            with("password", json!("short7!")).to_string(),
            "WEAK_PASSWORD",
        ),
        (
            with("password", json!("password1234")).to_string(),
            "WEAK_PASSWORD",
        ),
        (
            with("password", json!("x1".repeat(100))).to_string(),
            "WEAK_PASSWORD",
        ),
        (
            with("name", json!("n".repeat(101))).to_string(),
            "INVALID_NAME",
        ),
        (with("phone", json!("call me")).to_string(), "INVALID_PHONE"),
        (
            format!("{{\"email\":\"{}\"}}", "x".repeat(70_000)),
            "BODY_TOO_LARGE",
        ),
    ];
    for (body, code) in cases {
        let res = cloud
            .http
            .post(cloud.url("/auth/signup"))
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400, "{}", &body[..body.len().min(80)]);
        let error: Value = res.json().await.unwrap();
        assert_eq!(error["code"], code, "{}", &body[..body.len().min(80)]);
        assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    assert_eq!(accounts_with_email(&cloud, &email).await, 0);
    assert_eq!(items(&cloud, &format!("EMAIL#{email}")).await, 0);
}

#[tokio::test]
async fn an_unknown_email_and_a_wrong_password_get_the_same_answer() {
    let cloud = Cloud::connect().await;
    let account = cloud.new_account().await;
    let wrong = cloud
        .post(
            "/auth/login",
            &json!({ "email": account.email, "password": "not the password 1" }),
            None,
        )
        .await;
    let unknown = cloud
        .post(
            "/auth/login",
            &json!({ "email": format!("nobody-{}@example.com", uuid::Uuid::new_v4()), "password": TEST_PASSWORD }),
            None,
        )
        .await;
    assert_eq!(wrong.status(), 401);
    assert_eq!(unknown.status(), 401);
    let (wrong, unknown): (Value, Value) =
        (wrong.json().await.unwrap(), unknown.json().await.unwrap());
    assert_eq!(wrong, unknown);
    assert_eq!(wrong["code"], "INVALID_CREDENTIALS");
}

#[tokio::test]
async fn repeated_failed_logins_lock_the_account_for_a_while() {
    let cloud = Cloud::connect().await;
    let account = cloud.new_account().await;
    let bystander = cloud.new_account().await;
    let wrong = json!({ "email": account.email, "password": "not the password 1" });
    for attempt in 1..=4 {
        let res = cloud.post("/auth/login", &wrong, None).await;
        assert_eq!(res.status(), 401, "attempt {attempt}");
    }
    let fifth = cloud.post("/auth/login", &wrong, None).await;
    assert_eq!(fifth.status(), 429);
    // Locked: even the right password is refused, with a time to wait.
    let right = json!({ "email": account.email, "password": account.password });
    let res = cloud.post("/auth/login", &right, None).await;
    assert_eq!(res.status(), 429);
    let wait: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(wait > 0);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], "TOO_MANY_ATTEMPTS");
    // Other accounts are not affected.
    cloud.login(&bystander).await;
}

#[tokio::test]
async fn a_refresh_token_rotates_and_reusing_a_spent_one_revokes_the_whole_family() {
    let cloud = Cloud::connect().await;
    let account = cloud.new_account().await;
    let login = cloud.login(&account).await;
    let first = login["refresh_token"].as_str().unwrap().to_owned();

    let res = cloud
        .post("/auth/refresh", &json!({ "refresh_token": first }), None)
        .await;
    assert_eq!(res.status(), 200);
    let rotated: Value = res.json().await.unwrap();
    let second = rotated["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(first, second);
    assert_eq!(
        me(&cloud, Some(&format!("Bearer {}", access_token(&rotated))))
            .await
            .status(),
        200
    );

    let replay = cloud
        .post("/auth/refresh", &json!({ "refresh_token": first }), None)
        .await;
    assert_eq!(replay.status(), 401);
    assert_eq!(
        replay.json::<Value>().await.unwrap()["code"],
        "REFRESH_TOKEN_REUSED"
    );
    // The legitimate successor dies with its family.
    let successor = cloud
        .post("/auth/refresh", &json!({ "refresh_token": second }), None)
        .await;
    assert_eq!(successor.status(), 401);
    assert_eq!(
        successor.json::<Value>().await.unwrap()["code"],
        "INVALID_REFRESH_TOKEN"
    );
    // A new login opens a new, working session.
    let again = cloud.login(&account).await;
    let res = cloud
        .post(
            "/auth/refresh",
            &json!({ "refresh_token": again["refresh_token"] }),
            None,
        )
        .await;
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn one_refresh_token_presented_concurrently_is_honoured_at_most_once() {
    let cloud = Cloud::connect().await;
    let account = cloud.new_account().await;
    let token = cloud.login(&account).await["refresh_token"].clone();
    let statuses: Vec<u16> = futures::future::join_all((0..6).map(|_| {
        let cloud = &cloud;
        let body = json!({ "refresh_token": token });
        async move {
            cloud
                .post("/auth/refresh", &body, None)
                .await
                .status()
                .as_u16()
        }
    }))
    .await;
    assert!(
        statuses.iter().filter(|s| **s == 200).count() <= 1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 401),
        "{statuses:?}"
    );
}

#[tokio::test]
async fn logout_revokes_the_refresh_token() {
    let cloud = Cloud::connect().await;
    let account = cloud.new_account().await;
    let token = cloud.login(&account).await["refresh_token"].clone();
    let body = json!({ "refresh_token": token });
    assert_eq!(cloud.post("/auth/logout", &body, None).await.status(), 204);
    let res = cloud.post("/auth/refresh", &body, None).await;
    assert_eq!(res.status(), 401);
    assert_eq!(
        res.json::<Value>().await.unwrap()["code"],
        "INVALID_REFRESH_TOKEN"
    );
    assert_eq!(
        cloud.post("/auth/logout", &body, None).await.status(),
        204,
        "idempotent"
    );
    let malformed = cloud
        .post("/auth/logout", &json!({ "refresh_token": "abc" }), None)
        .await;
    assert_eq!(malformed.status(), 400);
}

/// Signs `claims` with `key` (HS256).
fn sign(claims: &Value, key: &[u8]) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(key),
    )
    .unwrap()
}

#[tokio::test]
async fn forged_expired_tampered_misaddressed_and_unsigned_tokens_are_401() {
    let cloud = Cloud::connect().await;
    let account: Account = cloud.new_account().await;
    // A real session, so the forgeries below differ from a valid token
    // only in what each case changes.
    let issued = access_token(&cloud.login(&account).await);
    let payload = issued.split('.').nth(1).unwrap();
    let real: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    let sid = real["sid"].as_str().unwrap().to_owned();
    let key = cloud.signing_key().await;
    let now = chrono::Utc::now().timestamp();
    let claims = json!({
        "sub": account.id, "role": "ADMIN", "sid": sid,
        "iss": cloud.parameter("JwtIssuer"), "aud": cloud.parameter("JwtAudience"),
        "iat": now, "nbf": now, "exp": now + 600, "jti": "j",
    });
    let with = |key: &str, value: Value| {
        let mut c = claims.clone();
        c[key] = value;
        c
    };
    // The control: correctly signed claims pass, so each refusal below is
    // about the one thing changed.
    let valid = sign(&claims, &key);
    assert_eq!(
        me(&cloud, Some(&format!("Bearer {valid}"))).await.status(),
        200
    );

    let mut parts: Vec<String> = valid.split('.').map(str::to_owned).collect();
    parts[1] =
        URL_SAFE_NO_PAD.encode(with("sub", json!(uuid::Uuid::now_v7().to_string())).to_string());
    let tampered = parts.join(".");
    let none_header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
    let unsigned = format!(
        "{none_header}.{}.",
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );

    let cases: Vec<(&str, String)> = vec![
        (
            "forged with another key",
            format!("Bearer {}", sign(&claims, &[7u8; 48])),
        ),
        (
            "expired",
            format!("Bearer {}", sign(&with("exp", json!(now - 3600)), &key)),
        ),
        (
            "not yet valid",
            format!("Bearer {}", sign(&with("nbf", json!(now + 3600)), &key)),
        ),
        (
            "wrong audience",
            format!("Bearer {}", sign(&with("aud", json!("another-api")), &key)),
        ),
        (
            "wrong issuer",
            format!("Bearer {}", sign(&with("iss", json!("evil")), &key)),
        ),
        ("tampered payload", format!("Bearer {tampered}")),
        ("alg none", format!("Bearer {unsigned}")),
        (
            "a session that never existed",
            format!(
                "Bearer {}",
                sign(&with("sid", json!("no-such-session")), &key)
            ),
        ),
        ("garbage", "Bearer not-a-token".to_owned()),
        ("empty bearer", "Bearer ".to_owned()),
        ("basic scheme", format!("Basic {valid}")),
        ("token without scheme", valid.clone()),
    ];
    for (what, header) in &cases {
        let res = me(&cloud, Some(header)).await;
        assert_eq!(res.status(), 401, "{what}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["message"], "Unauthorized", "{what}");
    }
    assert_eq!(me(&cloud, None).await.status(), 401, "no header");
}

#[tokio::test]
async fn a_user_on_an_admin_route_is_403_and_a_promoted_admin_gets_through() {
    let cloud = Cloud::connect().await;
    let account = cloud.new_account().await;
    let login = cloud.login(&account).await;
    let user_token = access_token(&login);
    let ping = json!({ "note": "admin check" });
    let res = cloud
        .post("/diagnostics/ping", &ping, Some(&user_token))
        .await;
    assert_eq!(res.status(), 403);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], "FORBIDDEN");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("diagnostics:run")
    );

    cloud.promote(&account);
    // The old token still carries USER (and its answer is cached as such).
    let res = cloud
        .post("/diagnostics/ping", &ping, Some(&user_token))
        .await;
    assert_eq!(res.status(), 403);
    // A role change ends the account's sessions: the old refresh token is dead...
    let res = cloud
        .post(
            "/auth/refresh",
            &json!({ "refresh_token": login["refresh_token"] }),
            None,
        )
        .await;
    assert_eq!(res.status(), 401);
    // ...and the next login carries ADMIN.
    let admin_token = access_token(&cloud.login(&account).await);
    let res = cloud
        .post("/diagnostics/ping", &ping, Some(&admin_token))
        .await;
    assert_eq!(res.status(), 202);
    let res = me(&cloud, Some(&format!("Bearer {admin_token}"))).await;
    assert_eq!(res.json::<Value>().await.unwrap()["role"], "ADMIN");
}

#[tokio::test]
async fn after_logout_the_sessions_access_tokens_are_refused_too() {
    let cloud = Cloud::connect().await;
    let account = cloud.new_account().await;
    let kept = cloud.login(&account).await;
    let ended = cloud.login(&account).await;
    let body = json!({ "refresh_token": ended["refresh_token"] });
    assert_eq!(cloud.post("/auth/logout", &body, None).await.status(), 204);
    let res = me(&cloud, Some(&format!("Bearer {}", access_token(&ended)))).await;
    assert_eq!(res.status(), 401);
    // Only that session ended: the other login still works.
    let res = me(&cloud, Some(&format!("Bearer {}", access_token(&kept)))).await;
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn a_burst_of_parallel_guesses_gets_no_more_tries_than_the_limit() {
    let cloud = Cloud::connect().await;
    let account = cloud.new_account().await;
    let wrong = json!({ "email": account.email, "password": "not the password 1" });
    let statuses: Vec<u16> = futures::future::join_all((0..20).map(|_| {
        let (cloud, wrong) = (&cloud, &wrong);
        async move {
            cloud
                .post("/auth/login", wrong, None)
                .await
                .status()
                .as_u16()
        }
    }))
    .await;
    let checked = statuses.iter().filter(|s| **s == 401).count();
    assert!(checked <= 5, "{checked} guesses were checked: {statuses:?}");
    assert!(
        statuses.iter().all(|s| *s == 401 || *s == 429),
        "{statuses:?}"
    );
    assert!(statuses.contains(&429), "{statuses:?}");
}
