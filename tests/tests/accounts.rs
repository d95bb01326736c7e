//! An account holder's own account, through the running local cloud:
//! `PATCH /me` (profile, email, password) and `DELETE /me`.

use std::collections::BTreeSet;

use serde_json::{Value, json};
use system_tests::saga::Touched;
use system_tests::{Account, Cloud, PATIENCE, TEST_PASSWORD, access_token, eventually};

/// Signs up an account whose email, name and phone are its own alone, so a
/// scan of the table can tell where they are.
async fn distinct_account(cloud: &Cloud) -> (Account, String, String) {
    let tag = uuid::Uuid::new_v4().simple().to_string();
    let email = format!("leaver-{tag}@example.com");
    let name = format!("Leaver {tag}");
    let digits: String = tag.chars().filter(char::is_ascii_digit).take(7).collect();
    let phone = format!("+4477{digits:0<7}");
    let res = cloud
        .post(
            "/auth/signup",
            &json!({ "email": email, "password": TEST_PASSWORD, "name": name, "phone": phone }),
            None,
        )
        .await;
    assert_eq!(res.status(), 201);
    let profile: Value = res.json().await.unwrap();
    let account = Account {
        email,
        password: TEST_PASSWORD.to_owned(),
        id: profile["id"].as_str().unwrap().to_owned(),
    };
    (account, name, phone)
}

async fn me(cloud: &Cloud, token: &str) -> reqwest::Response {
    cloud
        .http
        .get(cloud.url("/me"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

async fn delete_me(cloud: &Cloud, token: &str, body: &Value) -> reqwest::Response {
    cloud
        .http
        .delete(cloud.url("/me"))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn code(res: reqwest::Response) -> (u16, String) {
    let status = res.status().as_u16();
    let body: Value = res.json().await.unwrap_or_default();
    (status, body["code"].as_str().unwrap_or_default().to_owned())
}

async fn refresh(cloud: &Cloud, login: &Value) -> u16 {
    cloud
        .post(
            "/auth/refresh",
            &json!({ "refresh_token": login["refresh_token"] }),
            None,
        )
        .await
        .status()
        .as_u16()
}

#[tokio::test]
async fn profile_changes_emit_one_user_updated_each_and_a_wrong_password_changes_nothing() {
    let cloud = Cloud::connect().await;
    let account = cloud.new_account().await;
    let first = cloud.login(&account).await;
    let second = cloud.login(&account).await;
    let token = access_token(&first);

    let res = cloud
        .patch(
            "/me",
            &json!({ "name": "Grace Brewster", "phone": "+1 (555) 555-0199", "language": "FR" }),
            &token,
        )
        .await;
    assert_eq!(res.status(), 200);
    let profile: Value = me(&cloud, &token).await.json().await.unwrap();
    assert_eq!(profile["name"], "Grace Brewster");
    assert_eq!(profile["phone"], "+15555550199");
    assert_eq!(profile["language"], "fr");

    let wrong = cloud
        .patch(
            "/me",
            &json!({ "password": "a brand new 9 phrase", "email": "other@example.com",
                     "current_password": "not the password 1" }),
            &token,
        )
        .await;
    assert_eq!(code(wrong).await, (403, "WRONG_PASSWORD".to_owned()));
    let unchanged: Value = me(&cloud, &token).await.json().await.unwrap();
    assert_eq!(
        unchanged, profile,
        "a wrong current password changes nothing"
    );
    for bad in [
        json!({}),
        json!({ "phone": "555 0199" }),
        json!({ "language": "tlh" }),
        json!({ "password": "a brand new 9 phrase" }),
    ] {
        let res = cloud.patch("/me", &bad, &token).await;
        assert_eq!(res.status(), 400, "{bad}");
    }

    let res = cloud
        .patch(
            "/me",
            &json!({ "password": "a brand new 9 phrase", "current_password": TEST_PASSWORD }),
            &token,
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        refresh(&cloud, &second).await,
        401,
        "the other session ended"
    );
    assert_eq!(
        refresh(&cloud, &first).await,
        200,
        "the caller's session stays"
    );
    let old = cloud
        .post(
            "/auth/login",
            &json!({ "email": account.email, "password": TEST_PASSWORD }),
            None,
        )
        .await;
    assert_eq!(old.status(), 401);
    let new = cloud
        .post(
            "/auth/login",
            &json!({ "email": account.email, "password": "a brand new 9 phrase" }),
            None,
        )
        .await;
    assert_eq!(new.status(), 200);

    let updates = eventually("two UserUpdated in the event log", PATIENCE, || async {
        let updates = cloud.logged_envelopes_mentioning(&account.id).await;
        let updates: Vec<_> = updates
            .into_iter()
            .filter(|(_, e)| e.event_type.as_str() == "UserUpdated")
            .collect();
        (updates.len() >= 2).then_some(updates)
    })
    .await;
    let mut fields: Vec<Value> = updates
        .iter()
        .map(|(_, e)| e.data["fields"].clone())
        .collect();
    fields.sort_by_key(|f| f.to_string());
    assert_eq!(
        fields,
        [json!(["language", "name", "phone"]), json!(["password"])]
    );
    for (_, event) in &updates {
        assert!(
            !event.data.to_string().contains("Grace"),
            "no personal data in events"
        );
    }
}

#[tokio::test]
async fn a_deleted_account_is_gone_its_bookings_stay_and_its_email_signs_up_again() {
    let cloud = Cloud::connect().await;
    let admin = cloud.admin_token().await;
    let slot = cloud.new_slot(&admin, 4).await;
    let (account, name, phone) = distinct_account(&cloud).await;
    let login = cloud.login(&account).await;
    let token = access_token(&login);
    let res = cloud
        .top_up(&token, 10_000, &uuid::Uuid::new_v4().to_string())
        .await;
    assert_eq!(res.status(), 201);
    let customer = system_tests::saga::Customer {
        account: account.clone(),
        token: token.clone(),
    };
    let booking = cloud
        .book_paid(&customer, &slot, 1, &json!({ "method": "wallet" }))
        .await;
    let booking_id = booking["id"].as_str().unwrap().to_owned();
    cloud
        .wait_for_status(&token, &booking_id, &["CONFIRMED"], PATIENCE)
        .await;
    let password = json!({ "password": TEST_PASSWORD, "forfeit_points": true });

    // Upcoming: the account stays.
    let res = delete_me(&cloud, &token, &password).await;
    assert_eq!(
        code(res).await,
        (409, "ACCOUNT_HAS_LIVE_BOOKINGS".to_owned())
    );
    let res = cloud
        .post(
            &format!("/bookings/{booking_id}/cancel"),
            &json!({}),
            Some(&token),
        )
        .await;
    assert_eq!(res.status(), 200);
    let price = booking["price_cents"].as_u64().unwrap();
    eventually("the refund in the wallet", PATIENCE, || async {
        let wallet = cloud.wallet(&token).await;
        (wallet["balance"] == 10_000 - price + price).then_some(())
    })
    .await;

    let wrong = delete_me(&cloud, &token, &json!({ "password": "not the password 1" })).await;
    assert_eq!(code(wrong).await, (403, "WRONG_PASSWORD".to_owned()));
    let keep = delete_me(&cloud, &token, &json!({ "password": TEST_PASSWORD })).await;
    assert_eq!(code(keep).await, (409, "WALLET_NOT_EMPTY".to_owned()));
    assert_eq!(me(&cloud, &token).await.status(), 200, "still here");

    let res = delete_me(&cloud, &token, &password).await;
    assert_eq!(res.status(), 200);
    let deleted: Value = res.json().await.unwrap();
    assert_eq!(deleted["points_forfeited"], 10_000);

    // It cannot log in, refresh, or (once the authorizer's answer is
    // stale) use its access token.
    let login_again = cloud
        .post(
            "/auth/login",
            &json!({ "email": account.email, "password": TEST_PASSWORD }),
            None,
        )
        .await;
    assert_eq!(login_again.status(), 401);
    assert_eq!(refresh(&cloud, &login).await, 401);
    eventually("the old access token refused", PATIENCE, || async {
        let status = me(&cloud, &token).await.status().as_u16();
        matches!(status, 401 | 403 | 404).then_some(())
    })
    .await;

    // Its booking still counts: the resource's list shows it, without a
    // contact, and the money reconciles (the write-off is in the ledger).
    let resource = slot.split('@').next().unwrap().to_owned();
    let listed: Value = cloud
        .http
        .get(cloud.url(&format!("/admin/resources/{resource}/bookings")))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let row = listed["bookings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["id"] == booking_id.as_str())
        .expect("the deleted account's booking is still listed")
        .clone();
    assert_eq!(row["status"], "CANCELLED");
    assert!(
        row["customer"].is_null(),
        "no contact of a deleted account: {row}"
    );
    let touched = Touched {
        bookings: BTreeSet::from([booking_id.clone()]),
        users: BTreeSet::from([account.id.clone()]),
        slots: BTreeSet::from([slot.clone()]),
    };
    cloud.reconcile(&touched).await;
    eventually("UserDeleted in the event log", PATIENCE, || async {
        (cloud
            .logged_events_mentioning("UserDeleted", &account.id)
            .await
            == 1)
            .then_some(())
    })
    .await;

    // Its email, name and phone are nowhere in the table.
    let left = cloud
        .items_mentioning(&[&account.email, &name, &phone])
        .await;
    assert!(left.is_empty(), "personal data left in: {left:?}");

    // The email signs up again, as a new account.
    let again = cloud
        .post(
            "/auth/signup",
            &json!({ "email": account.email, "password": TEST_PASSWORD,
                     "name": "Someone Else", "phone": "+15555550100" }),
            None,
        )
        .await;
    assert_eq!(again.status(), 201);
    let profile: Value = again.json().await.unwrap();
    assert_ne!(profile["id"], account.id.as_str());
}
