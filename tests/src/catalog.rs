//! The harness's catalog and booking helpers: companies, venues, slots and
//! holds made through the API, as a test needs them.

use serde_json::Value;

use crate::{Account, Cloud, dates};

impl Cloud {
    /// A fresh company, created through the admin API by the platform
    /// administrator `admin`; returns its id.
    pub async fn new_company(&self, admin: &str) -> String {
        let res = self
            .post(
                "/admin/companies",
                &serde_json::json!({ "name": "Test Company", "contact_email": "office@test-company.example" }),
                Some(admin),
            )
            .await;
        assert_eq!(res.status(), 201, "creating a company");
        let company: Value = res.json().await.expect("company");
        company["id"].as_str().expect("company id").to_owned()
    }

    /// Creates a venue of a fresh company with one resource through the
    /// admin API; returns the resource id.
    pub async fn new_resource(&self, admin: &str, kind: &str) -> String {
        let venue = self
            .post(
                "/admin/venues",
                &serde_json::json!({ "company_id": self.new_company(admin).await, "name": "Test Venue", "kind": "GOLF_CLUB", "city": "Testville", "time_zone": dates::VENUE_ZONE.name() }),
                Some(admin),
            )
            .await;
        assert_eq!(venue.status(), 201, "creating a venue");
        let venue: Value = venue.json().await.expect("venue");
        let path = format!(
            "/admin/venues/{}/resources",
            venue["id"].as_str().expect("venue id")
        );
        let resource = self
            .post(
                &path,
                &serde_json::json!({ "name": "Test Resource", "kind": kind }),
                Some(admin),
            )
            .await;
        assert_eq!(resource.status(), 201, "creating a resource");
        let resource: Value = resource.json().await.expect("resource");
        resource["id"].as_str().expect("resource id").to_owned()
    }

    /// A waiting room in front of a new resource of `venue`; returns its id.
    pub async fn new_room_in(&self, admin: &str, venue: &str) -> String {
        let resource = self
            .post(
                &format!("/admin/venues/{venue}/resources"),
                &serde_json::json!({ "name": "Sale", "kind": "PERFORMANCE" }),
                Some(admin),
            )
            .await;
        assert_eq!(resource.status(), 201, "creating a resource");
        let resource: Value = resource.json().await.expect("resource");
        let room = self
            .post(
                "/admin/waiting-rooms",
                &serde_json::json!({
                    "name": "Sale", "resource_ids": [resource["id"]],
                    "rate_per_minute": 60, "max_active": 10
                }),
                Some(admin),
            )
            .await;
        assert_eq!(room.status(), 201, "creating a waiting room");
        let room: Value = room.json().await.expect("room");
        room["id"].as_str().expect("room id").to_owned()
    }

    /// A fresh slot of `capacity` at 08:00 on the first Friday at least ten
    /// days from today (a weekday, refunded in full when cancelled), priced
    /// 5000 cents; returns its id.
    pub async fn new_slot(&self, admin: &str, capacity: u32) -> String {
        let friday = dates::Today::at_venue().far_friday();
        self.new_slot_on(admin, capacity, &dates::iso(friday)).await
    }

    /// A fresh slot of `capacity` on `date` (YYYY-MM-DD) at 08:00, priced
    /// 5000 cents on weekdays, 7000 at weekends; returns its id.
    pub async fn new_slot_on(&self, admin: &str, capacity: u32, date: &str) -> String {
        self.new_slot_at(admin, capacity, date, "08:00").await
    }

    /// A fresh slot of `capacity` on `date` (YYYY-MM-DD) at `start` (HH:MM),
    /// ten minutes long, priced as [`Cloud::new_slot_on`]; returns its id.
    pub async fn new_slot_at(&self, admin: &str, capacity: u32, date: &str, start: &str) -> String {
        let resource = self.new_resource(admin, "COURSE").await;
        self.slot_of(admin, &resource, capacity, date, start).await
    }

    /// A fresh slot of `resource`, as [`Cloud::new_slot_at`]; returns its id.
    pub async fn slot_of(
        &self,
        admin: &str,
        resource: &str,
        capacity: u32,
        date: &str,
        start: &str,
    ) -> String {
        let res = self
            .post(
                &format!("/admin/resources/{resource}/slots/generate"),
                &serde_json::json!({
                    "from": date, "to": date, "start_times": [start],
                    "duration_minutes": 10, "capacity": capacity,
                    "prices": { "weekday": 5000, "weekend": 7000, "holiday": 9000 }
                }),
                Some(admin),
            )
            .await;
        assert_eq!(res.status(), 200, "generating a slot");
        format!("{resource}@{date}T{start}")
    }

    /// POSTs a counted booking with an idempotency key.
    pub async fn book(
        &self,
        token: &str,
        slot: &str,
        quantity: u32,
        key: &str,
    ) -> reqwest::Response {
        self.http
            .post(self.url("/bookings"))
            .bearer_auth(token)
            .header("idempotency-key", key)
            .json(&serde_json::json!({ "kind": "counted", "slot_id": slot, "quantity": quantity }))
            .send()
            .await
            .expect("the API answers")
    }

    /// A slot as the public availability route shows it.
    pub async fn slot_view(&self, slot: &str) -> Value {
        let (resource, when) = slot.split_once('@').expect("a slot id");
        let date = &when[..10];
        let res = self
            .http
            .get(self.url(&format!("/resources/{resource}/availability?date={date}")))
            .send()
            .await
            .expect("the API answers");
        assert_eq!(res.status(), 200);
        let day: Value = res.json().await.expect("availability");
        day["slots"]
            .as_array()
            .expect("slots")
            .iter()
            .find(|s| s["slot_id"] == slot)
            .cloned()
            .expect("the slot in its day")
    }

    /// Makes `account` staff of `company` with `role`, as `by`; the status.
    pub async fn put_staff(&self, by: &str, company: &str, account: &Account, role: &str) -> u16 {
        self.http
            .put(self.url(&format!("/admin/companies/{company}/staff")))
            .bearer_auth(by)
            .json(&serde_json::json!({ "email": account.email, "role": role }))
            .send()
            .await
            .expect("the API")
            .status()
            .as_u16()
    }

    /// A fresh company with an owner, a manager and a viewer (logged in
    /// after they joined, so their tokens carry the membership), and one
    /// venue with a course and a slot of 4 places, made by the manager.
    pub async fn staffed_company(&self, admin: &str) -> StaffedCompany {
        let id = self.new_company(admin).await;
        let (owner, manager, viewer) = (
            self.new_account().await,
            self.new_account().await,
            self.new_account().await,
        );
        for (account, role) in [
            (&owner, "OWNER"),
            (&manager, "MANAGER"),
            (&viewer, "VIEWER"),
        ] {
            assert_eq!(
                self.put_staff(admin, &id, account, role).await,
                200,
                "{role}"
            );
        }
        let owner_token = crate::access_token(&self.login(&owner).await);
        let manager_token = crate::access_token(&self.login(&manager).await);
        let viewer_token = crate::access_token(&self.login(&viewer).await);
        let body = serde_json::json!({ "company_id": id, "name": "Club", "kind": "GOLF_CLUB", "city": "Seoul", "time_zone": dates::VENUE_ZONE.name() });
        let res = self
            .post("/admin/venues", &body, Some(&manager_token))
            .await;
        assert_eq!(res.status(), 201, "creating the venue");
        let venue: Value = res.json().await.expect("venue");
        let venue = venue["id"].as_str().expect("venue id").to_owned();
        let res = self
            .post(
                &format!("/admin/venues/{venue}/resources"),
                &serde_json::json!({ "name": "Course", "kind": "COURSE" }),
                Some(&manager_token),
            )
            .await;
        assert_eq!(res.status(), 201, "creating the resource");
        let resource: Value = res.json().await.expect("resource");
        let resource = resource["id"].as_str().expect("resource id").to_owned();
        let date = dates::iso(dates::Today::at_venue().far_friday());
        let slot = self
            .slot_of(&manager_token, &resource, 4, &date, "08:00")
            .await;
        StaffedCompany {
            id,
            owner,
            owner_token,
            manager,
            manager_token,
            viewer,
            viewer_token,
            venue,
            resource,
            slot,
        }
    }
}

/// A company made by [`Cloud::staffed_company`]: its staff (accounts and
/// their access tokens) and its catalog.
pub struct StaffedCompany {
    pub id: String,
    pub owner: Account,
    pub owner_token: String,
    pub manager: Account,
    pub manager_token: String,
    pub viewer: Account,
    pub viewer_token: String,
    pub venue: String,
    pub resource: String,
    pub slot: String,
}
