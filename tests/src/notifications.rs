//! Helpers of the notification tests: what moto kept of the emails and
//! SMS sent (the local cloud's `GET /sent`), a customer's inbox, and the
//! text the templates show for a booking.

use chrono::NaiveDateTime;
use serde_json::{Value, json};

use crate::Cloud;
use crate::saga::Customer;

/// What moto kept of the sends to `to` (an email address or a phone).
pub async fn sent(cloud: &Cloud, to: &str) -> Value {
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
pub async fn emails(cloud: &Cloud, to: &str, needle: &str) -> Vec<Value> {
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

pub fn unescape(html: &str) -> String {
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
pub async fn texts(cloud: &Cloud, needle: &str) -> Vec<String> {
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
pub async fn inbox(cloud: &Cloud, token: &str, number: &str) -> Vec<Value> {
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
pub fn local_start(slot: &str) -> (String, String) {
    let local = slot.split_once('@').expect("a slot id").1;
    let at = NaiveDateTime::parse_from_str(local, "%Y-%m-%dT%H:%M").expect("a local start");
    (
        at.format("%A %-d %B %Y").to_string(),
        at.format("%H:%M").to_string(),
    )
}

pub fn price(booking: &Value, cents: u64) -> String {
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
pub async fn deliver_again(cloud: &Cloud, event_type: &str, booking: &str, times: usize) {
    let logged = cloud
        .logged_envelopes_mentioning(booking)
        .await
        .into_iter()
        .find(|(_, e)| e.event_type.as_str() == event_type)
        .unwrap_or_else(|| panic!("no logged {event_type} of {booking}"));
    let batch = vec![logged; times];
    crate::deliver(cloud, "notification-sender", &batch).await;
}

/// Each reminder the customer of `number` got, by channel: emails, SMS,
/// inbox entries.
pub async fn reminders(cloud: &Cloud, customer: &Customer, number: &str) -> (usize, usize, usize) {
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
