//! Reminders through the running local cloud: the sweeper is run "as of"
//! the day before and two hours before a booking's start (the scheduled
//! event's time), and each customer gets what their preferences allow,
//! once, and nothing for a cancelled booking.

use serde_json::json;
use system_tests::dates::{Today, VENUE_ZONE};
use system_tests::notifications::{emails, local_start, reminders};
use system_tests::{Cloud, PATIENCE, eventually};

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
