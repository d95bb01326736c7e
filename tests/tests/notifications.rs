//! Notifications through the running local cloud: what a customer is sent
//! (email through SES, SMS through SNS, both read back from moto; the
//! inbox through the API), once per event and channel however often the
//! event is delivered, with the booking's number, local time, price,
//! refund and failure reason, in the account's language.

use chrono::NaiveDateTime;
use serde_json::{Value, json};
use system_tests::dates::{Today, VENUE_ZONE};
use system_tests::saga::Customer;
use system_tests::{Cloud, PATIENCE, bus_event, eventually};

/// What moto kept of the sends to `to` (an email address or a phone).
async fn sent(cloud: &Cloud, to: &str) -> Value {
    let res = cloud
        .http
        .get(format!(
            "{}/sent?to={}",
            cloud.admin,
            to.replace('+', "%2B")
        ))
        .send()
        .await
        .expect("the admin API answers");
    assert_eq!(res.status(), 200, "GET /sent");
    res.json().await.expect("json")
}

/// The emails to `to` whose body mentions `needle`. moto keeps the HTML
/// part, so the body's escapes are undone here, to compare with text.
async fn emails(cloud: &Cloud, to: &str, needle: &str) -> Vec<Value> {
    let all = sent(cloud, to).await;
    all["emails"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|m| {
            let mut m = m.clone();
            let body = m["body"].as_str().unwrap_or_default();
            m["body"] = json!(unescape(body));
            m
        })
        .filter(|m| m["body"].as_str().is_some_and(|b| b.contains(needle)))
        .collect()
}

fn unescape(html: &str) -> String {
    [
        ("&#x27;", "'"),
        ("&#x2f;", "/"),
        ("&quot;", "\""),
        ("&lt;", "<"),
        ("&gt;", ">"),
        ("&amp;", "&"),
    ]
    .iter()
    .fold(html.to_owned(), |text, (escape, raw)| {
        text.replace(escape, raw)
    })
}

/// The SMS whose text mentions `needle` (every test account has the same
/// phone number, so the booking number tells them apart).
async fn texts(cloud: &Cloud, needle: &str) -> Vec<String> {
    let all = sent(cloud, "+15555550100").await;
    all["sms"]
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|m| m["message"].as_str())
        .filter(|m| m.contains(needle))
        .map(str::to_owned)
        .collect()
}

/// The caller's inbox entries about `number`.
async fn inbox(cloud: &Cloud, token: &str, number: &str) -> Vec<Value> {
    let res = cloud
        .http
        .get(cloud.url("/me/notifications?limit=100"))
        .bearer_auth(token)
        .send()
        .await
        .expect("the API answers");
    assert_eq!(res.status(), 200, "GET /me/notifications");
    let page: Value = res.json().await.expect("json");
    page["notifications"]
        .as_array()
        .expect("a list")
        .iter()
        .filter(|n| n["booking_number"] == number)
        .cloned()
        .collect()
}

/// The local date and time the templates show for `slot` (its id holds
/// its wall-clock start at the venue), in English.
fn local_start(slot: &str) -> (String, String) {
    let local = slot.split_once('@').expect("a slot id").1;
    let at = NaiveDateTime::parse_from_str(local, "%Y-%m-%dT%H:%M").expect("a local start");
    (
        at.format("%A %-d %B %Y").to_string(),
        at.format("%H:%M").to_string(),
    )
}

fn price(booking: &Value, cents: u64) -> String {
    shared::notification::Money {
        cents,
        currency: booking["currency"].as_str().expect("a currency").to_owned(),
    }
    .to_string()
}

/// Delivers the logged envelope of `event_type` about `booking` to the
/// notification sender `times` more, in one batch, straight through its
/// runtime (as SQS would after a lost acknowledgement); asserts every
/// delivery was taken.
async fn deliver_again(cloud: &Cloud, event_type: &str, booking: &str, times: usize) {
    let (source, envelope) = cloud
        .logged_envelopes_mentioning(booking)
        .await
        .into_iter()
        .find(|(_, e)| e.event_type.as_str() == event_type)
        .unwrap_or_else(|| panic!("no logged {event_type} of {booking}"));
    let records: Vec<Value> = (0..times)
        .map(|n| {
            json!({
                "messageId": format!("again-{n}-{}", uuid::Uuid::new_v4()),
                "receiptHandle": format!("rh-{n}"),
                "body": bus_event(&source, &envelope),
                "attributes": { "ApproximateReceiveCount": "2", "SentTimestamp": "1", "SenderId": "local",
                                "ApproximateFirstReceiveTimestamp": "1" },
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:again",
                "awsRegion": "us-east-1",
            })
        })
        .collect();
    let res = cloud
        .http
        .post(format!(
            "{}/functions/notification-sender/invoke",
            cloud.admin
        ))
        .json(&json!({ "Records": records }))
        .send()
        .await
        .expect("the admin API answers");
    assert_eq!(res.status(), 200);
    let answer: Value = res.json().await.expect("json");
    assert_eq!(answer["outcome"], "ok", "{answer}");
    assert_eq!(
        answer["payload"]["batchItemFailures"],
        json!([]),
        "every redelivery taken: {answer}"
    );
}

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

/// Each reminder the customer of `number` got, by channel: emails, SMS,
/// inbox entries.
async fn reminders(cloud: &Cloud, customer: &Customer, number: &str) -> (usize, usize, usize) {
    let mails = emails(cloud, &customer.account.email, number)
        .await
        .into_iter()
        .filter(|m| {
            m["subject"]
                .as_str()
                .is_some_and(|s| s.starts_with("Reminder:"))
        })
        .count();
    let sms = texts(cloud, &format!("Reminder: booking {number}"))
        .await
        .len();
    let entries = inbox(cloud, &customer.token, number)
        .await
        .into_iter()
        .filter(|e| e["kind"] == "REMINDER")
        .count();
    (mails, sms, entries)
}

#[tokio::test]
async fn reminders_come_before_the_start_by_the_chosen_channels_and_not_for_a_cancelled_booking() {
    let cloud = Cloud::connect().await;
    let admin = cloud.admin_token().await;
    let start = Today::at_venue().start_in(30);
    let slot = cloud
        .new_slot_at(&admin, 4, &start.date_str(), &start.time_str())
        .await;
    let keen = cloud.customer_in("en", 20_000).await;
    let quiet = cloud.customer_in("en", 20_000).await;
    let gone = cloud.customer_in("en", 20_000).await;
    let res = cloud
        .http
        .put(cloud.url("/me/notification-preferences"))
        .bearer_auth(&quiet.token)
        .json(&json!({ "reminders": { "email": false, "sms": false, "inbox": true } }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);

    let mut numbers = Vec::new();
    for customer in [&keen, &quiet, &gone] {
        let booking = cloud
            .book_paid(customer, &slot, 1, &json!({ "method": "wallet" }))
            .await;
        let id = booking["id"].as_str().unwrap().to_owned();
        let number = booking["number"].as_str().unwrap().to_owned();
        assert_eq!(
            cloud.wait_terminal(&customer.token, &id).await["status"],
            "CONFIRMED"
        );
        // The receipt comes whatever the preferences; its reminders were
        // scheduled before it was sent.
        let subject = format!("Booking {number} is confirmed");
        eventually("the confirmation email", PATIENCE, || async {
            emails(&cloud, &customer.account.email, &number)
                .await
                .into_iter()
                .find(|m| m["subject"] == subject)
        })
        .await;
        numbers.push((id, number));
    }
    let res = cloud
        .post(
            &format!("/bookings/{}/cancel", numbers[2].0),
            &json!({}),
            Some(&gone.token),
        )
        .await;
    assert_eq!(res.status(), 200);
    eventually("the cancellation", PATIENCE, || async {
        (cloud.booking(&gone.token, &numbers[2].0).await["status"] == "CANCELLED").then_some(())
    })
    .await;

    let starts_at = start.instant(VENUE_ZONE);
    let day_before = starts_at - chrono::Duration::hours(24) + chrono::Duration::minutes(1);
    cloud.run_as_of("notification-reminders", day_before).await;
    // Swept again: nothing more.
    cloud.run_as_of("notification-reminders", day_before).await;
    assert_eq!(reminders(&cloud, &keen, &numbers[0].1).await, (1, 1, 1));
    assert_eq!(reminders(&cloud, &quiet, &numbers[1].1).await, (0, 0, 1));
    assert_eq!(reminders(&cloud, &gone, &numbers[2].1).await, (0, 0, 0));
    let keen_mail = emails(&cloud, &keen.account.email, &numbers[0].1)
        .await
        .into_iter()
        .find(|m| {
            m["subject"]
                .as_str()
                .is_some_and(|s| s.starts_with("Reminder:"))
        })
        .unwrap();
    let (_, time) = local_start(&slot);
    assert!(
        keen_mail["body"].as_str().unwrap().contains(&time),
        "{keen_mail}"
    );

    let two_hours_before = starts_at - chrono::Duration::hours(2) + chrono::Duration::minutes(1);
    cloud
        .run_as_of("notification-reminders", two_hours_before)
        .await;
    assert_eq!(reminders(&cloud, &keen, &numbers[0].1).await, (2, 2, 2));
    assert_eq!(reminders(&cloud, &quiet, &numbers[1].1).await, (0, 0, 2));
    assert_eq!(reminders(&cloud, &gone, &numbers[2].1).await, (0, 0, 0));
}

#[tokio::test]
async fn a_message_in_a_dead_letter_queue_is_an_email_to_the_admins() {
    let cloud = Cloud::connect().await;
    let dlq = cloud.reference("NotificationSenderDeadLetterQueue");
    let needle = uuid::Uuid::new_v4().to_string();
    cloud
        .sqs
        .send_message()
        .queue_url(&dlq)
        .message_body(json!({ "poison": needle }).to_string())
        .send()
        .await
        .expect("a dead letter");

    let answer = cloud.run_as_of("admin-alerts", chrono::Utc::now()).await;
    assert_eq!(answer["outcome"], "ok", "{answer}");
    let waiting = answer["payload"]["waiting"].as_array().unwrap();
    assert!(
        waiting
            .iter()
            .any(|w| w[0] == "notification-sender" && w[1].as_u64() >= Some(1)),
        "{answer}"
    );
    // This hour's alert about the queue, from this run or an earlier one.
    let admins = cloud.parameter("AdminAlertEmail");
    let alert = eventually("the admin alert", PATIENCE, || async {
        sent(&cloud, &admins).await["emails"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| {
                m["subject"]
                    .as_str()
                    .is_some_and(|s| s.contains("in the notification-sender dead-letter queue"))
            })
            .cloned()
    })
    .await;
    assert!(
        alert["body"]
            .as_str()
            .unwrap()
            .contains("/admin/dead-letters/notification-sender/redrive"),
        "{alert}"
    );

    // Leave the queue as it was.
    let out = cloud
        .sqs
        .receive_message()
        .queue_url(&dlq)
        .max_number_of_messages(10)
        .send()
        .await
        .unwrap();
    for m in out.messages() {
        if m.body().is_some_and(|b| b.contains(&needle)) {
            cloud
                .sqs
                .delete_message()
                .queue_url(&dlq)
                .receipt_handle(m.receipt_handle().unwrap())
                .send()
                .await
                .unwrap();
        }
    }
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
