//! Notifications through the running local cloud: what a customer is sent
//! (email through SES, SMS through SNS, both read back from moto; the
//! inbox through the API), once per event and channel however often the
//! event is delivered, with the booking's number, local time, price,
//! refund and failure reason, in the account's language; and what stays of
//! them when the account is deleted.

use serde_json::{Value, json};
use system_tests::dates::Today;
use system_tests::notifications::{deliver_again, emails, inbox, local_start, price, sent, texts};
use system_tests::{Cloud, PATIENCE, eventually};

#[tokio::test]
async fn a_confirmed_booking_is_told_once_by_email_sms_and_inbox_however_often_delivered() {
    let cloud = Cloud::connect().await;
    let admin = cloud.admin_token().await;
    let slot = cloud.new_slot(&admin, 4).await;
    let customer = cloud.customer_in("en", 20_000).await;
    let booking = cloud
        .book_paid(&customer, &slot, 2, &json!({ "method": "wallet" }))
        .await;
    let id = booking["id"].as_str().unwrap().to_owned();
    let number = booking["number"].as_str().unwrap().to_owned();
    assert_eq!(
        cloud.wait_terminal(&customer.token, &id).await["status"],
        "CONFIRMED"
    );

    let email = eventually("the confirmation email", PATIENCE, || async {
        emails(&cloud, &customer.account.email, &number).await.pop()
    })
    .await;
    let (date, time) = local_start(&slot);
    let total = price(&booking, booking["price_cents"].as_u64().unwrap());
    let subject = email["subject"].as_str().unwrap();
    let body = email["body"].as_str().unwrap();
    assert_eq!(subject, format!("Booking {number} is confirmed"));
    for needle in [&number, &date, &time, &total, "2 places"] {
        assert!(body.contains(needle), "{needle:?} in {body}");
    }
    assert_eq!(email["from"], cloud.parameter("NotificationFromAddress"));

    let confirmation_sms = format!("Booking {number} confirmed");
    let confirmations = || async {
        let subject = format!("Booking {number} is confirmed");
        let mails = emails(&cloud, &customer.account.email, &number).await;
        let entries = inbox(&cloud, &customer.token, &number).await;
        (
            mails.iter().filter(|m| m["subject"] == subject).count(),
            texts(&cloud, &confirmation_sms).await.len(),
            entries
                .into_iter()
                .filter(|e| e["kind"] == "BOOKING_CONFIRMED")
                .collect::<Vec<_>>(),
        )
    };
    eventually("the confirmation SMS and inbox entry", PATIENCE, || async {
        let (_, sms, entries) = confirmations().await;
        (sms == 1 && entries.len() == 1).then_some(())
    })
    .await;
    let entry = &confirmations().await.2[0];
    assert_eq!(entry["kind"], "BOOKING_CONFIRMED");
    assert!(entry["read_at"].is_null());
    assert!(entry["body"].as_str().unwrap().contains(&time));

    deliver_again(&cloud, "BookingConfirmed", &id, 2).await;
    assert_eq!(
        emails(&cloud, &customer.account.email, &number).await.len(),
        1
    );
    assert_eq!(texts(&cloud, &number).await.len(), 1);
    assert_eq!(inbox(&cloud, &customer.token, &number).await.len(), 1);

    // Read, once: a second read keeps the first instant.
    let entry_id = entry["id"].as_str().unwrap();
    let read = |token: String| {
        let url = cloud.url(&format!("/me/notifications/{entry_id}/read"));
        let http = cloud.http.clone();
        async move {
            let res = http.post(url).bearer_auth(token).send().await.unwrap();
            (res.status().as_u16(), res.json::<Value>().await.unwrap())
        }
    };
    let (status, first) = read(customer.token.clone()).await;
    assert_eq!(status, 200, "{first}");
    assert!(first["read_at"].is_string());
    let (_, second) = read(customer.token.clone()).await;
    assert_eq!(second["read_at"], first["read_at"]);
    let (status, stranger) = read(cloud.user_token().await).await;
    assert_eq!(
        (status, stranger["code"].as_str()),
        (404, Some("NOTIFICATION_NOT_FOUND"))
    );
}

#[tokio::test]
async fn the_welcome_and_the_confirmation_come_in_the_accounts_language() {
    let cloud = Cloud::connect().await;
    let admin = cloud.admin_token().await;
    let slot = cloud.new_slot(&admin, 2).await;
    let customer = cloud.customer_in("ko", 20_000).await;
    let welcome = eventually("the welcome email", PATIENCE, || async {
        sent(&cloud, &customer.account.email).await["emails"]
            .as_array()
            .and_then(|all| all.first().cloned())
    })
    .await;
    assert!(
        welcome["subject"].as_str().unwrap().contains("환영"),
        "{welcome}"
    );
    let booking = cloud
        .book_paid(&customer, &slot, 1, &json!({ "method": "wallet" }))
        .await;
    let number = booking["number"].as_str().unwrap().to_owned();
    let email = eventually("the confirmation email", PATIENCE, || async {
        emails(&cloud, &customer.account.email, &number).await.pop()
    })
    .await;
    assert_eq!(
        email["subject"],
        format!("예약 {number}이(가) 확정되었습니다")
    );
    assert!(email["body"].as_str().unwrap().contains("1명"), "{email}");
}

#[tokio::test]
async fn a_cancellation_tells_the_refund_and_a_failed_payment_its_reason() {
    let cloud = Cloud::connect().await;
    let admin = cloud.admin_token().await;
    // 30 hours ahead: the default policy's middle tier (72h=100,24h=50).
    let start = Today::at_venue().start_in(30);
    let slot = cloud
        .new_slot_at(&admin, 2, &start.date_str(), &start.time_str())
        .await;
    let customer = cloud.customer_in("en", 20_000).await;
    let booking = cloud
        .book_paid(&customer, &slot, 1, &json!({ "method": "wallet" }))
        .await;
    let id = booking["id"].as_str().unwrap().to_owned();
    let number = booking["number"].as_str().unwrap().to_owned();
    assert_eq!(
        cloud.wait_terminal(&customer.token, &id).await["status"],
        "CONFIRMED"
    );
    let res = cloud
        .post(
            &format!("/bookings/{id}/cancel"),
            &json!({}),
            Some(&customer.token),
        )
        .await;
    assert_eq!(res.status(), 200);
    let percent = cloud.refund_percent_now(&slot);
    assert_eq!(percent, 50, "the slot is in the 50% tier");
    let paid = booking["price_cents"].as_u64().unwrap();
    let refund = price(&booking, shared::payment::share(paid, percent));
    let cancelled = eventually("the cancellation email", PATIENCE, || async {
        emails(&cloud, &customer.account.email, &number)
            .await
            .into_iter()
            .find(|m| m["subject"] == format!("Booking {number} is cancelled"))
    })
    .await;
    let body = cancelled["body"].as_str().unwrap();
    assert!(
        body.contains(&format!("You get {refund} back (50% of the price)")),
        "{body}"
    );
    eventually("the cancellation SMS", PATIENCE, || async {
        let sms = texts(&cloud, &number).await;
        sms.iter()
            .any(|m| m.contains(&format!("Refund: {refund}.")))
            .then_some(())
    })
    .await;

    // A wallet that cannot cover the price: the payment fails, with why.
    let broke = cloud.customer_in("en", 0).await;
    let other = cloud.new_slot(&admin, 2).await;
    let failed = cloud
        .book_paid(&broke, &other, 1, &json!({ "method": "wallet" }))
        .await;
    let failed_number = failed["number"].as_str().unwrap().to_owned();
    assert_eq!(
        cloud
            .wait_terminal(&broke.token, failed["id"].as_str().unwrap())
            .await["status"],
        "FAILED"
    );
    let (_, event) = eventually("the logged PaymentFailed", PATIENCE, || async {
        cloud
            .logged_envelopes_mentioning(failed["id"].as_str().unwrap())
            .await
            .into_iter()
            .find(|(_, e)| e.event_type.as_str() == "PaymentFailed")
    })
    .await;
    let reason = event.data["message"].as_str().unwrap().to_owned();
    let mail = eventually("the payment-failed email", PATIENCE, || async {
        emails(&cloud, &broke.account.email, &failed_number)
            .await
            .pop()
    })
    .await;
    assert_eq!(
        mail["subject"],
        format!("The payment for booking {failed_number} failed")
    );
    assert!(mail["body"].as_str().unwrap().contains(&reason), "{mail}");
    // Its FAILED cancellation is not a second message.
    assert_eq!(
        emails(&cloud, &broke.account.email, &failed_number)
            .await
            .len(),
        1
    );
}

#[tokio::test]
async fn a_deleted_account_leaves_no_inbox_nor_preferences_behind() {
    use aws_sdk_dynamodb::types::AttributeValue;
    let cloud = Cloud::connect().await;
    let customer = cloud.customer_in("en", 0).await;
    let res = cloud
        .http
        .put(cloud.url("/me/notification-preferences"))
        .bearer_auth(&customer.token)
        .json(&json!({ "reminders": { "email": true, "sms": false, "inbox": true } }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let items = |pk: String| {
        let cloud = &cloud;
        async move {
            cloud
                .dynamodb
                .query()
                .table_name(cloud.table())
                .key_condition_expression("PK = :pk")
                .expression_attribute_values(":pk", AttributeValue::S(pk))
                .consistent_read(true)
                .send()
                .await
                .unwrap()
                .items()
                .iter()
                .filter_map(|i| i["SK"].as_s().ok().cloned())
                .collect::<Vec<_>>()
        }
    };
    let id = customer.account.id.clone();
    eventually("the welcome in the inbox", PATIENCE, || async {
        (items(format!("USER#{id}#INBOX")).await.len() == 1).then_some(())
    })
    .await;
    assert!(
        items(format!("USER#{id}"))
            .await
            .contains(&"NOTIFY_PREFS".to_owned())
    );

    let res = cloud
        .http
        .delete(cloud.url("/me"))
        .bearer_auth(&customer.token)
        .json(&json!({ "password": system_tests::TEST_PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{:?}", res.text().await);
    eventually("the inbox and preferences deleted", PATIENCE, || async {
        let inbox = items(format!("USER#{id}#INBOX")).await;
        let rest = items(format!("USER#{id}")).await;
        (inbox.is_empty() && !rest.contains(&"NOTIFY_PREFS".to_owned())).then_some(())
    })
    .await;
}
