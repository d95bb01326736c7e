//! Companies and their staff, through the running local cloud: who may
//! write which company's catalog, what others see (the same 404 as for
//! what does not exist), and that removing a member ends their sessions.

use serde_json::{Value, json};
use system_tests::{Account, Cloud, access_token, dates::VENUE_ZONE};

async fn put_staff(cloud: &Cloud, by: &str, company: &str, who: &Account, role: &str) -> u16 {
    cloud.put_staff(by, company, who, role).await
}

async fn remove_staff(cloud: &Cloud, by: &str, company: &str, who: &Account) -> (u16, Value) {
    let res = cloud
        .http
        .delete(cloud.url(&format!("/admin/companies/{company}/staff/{}", who.id)))
        .bearer_auth(by)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

fn venue_body(company: &str, name: &str) -> Value {
    json!({ "company_id": company, "name": name, "kind": "GOLF_CLUB", "city": "Seoul", "time_zone": VENUE_ZONE.name() })
}

async fn code(res: reqwest::Response) -> (u16, String) {
    let status = res.status().as_u16();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    (status, body["code"].as_str().unwrap_or_default().to_owned())
}

#[tokio::test]
async fn staff_write_only_their_own_company_and_others_see_nothing_of_it() {
    let cloud = Cloud::connect().await;
    let admin = cloud.admin_token().await;
    let (a, b) = (
        cloud.new_company(&admin).await,
        cloud.new_company(&admin).await,
    );
    let [owner_a, manager_a, viewer_a, owner_b] = [
        cloud.new_account().await,
        cloud.new_account().await,
        cloud.new_account().await,
        cloud.new_account().await,
    ];
    assert_eq!(put_staff(&cloud, &admin, &a, &owner_a, "OWNER").await, 200);
    assert_eq!(put_staff(&cloud, &admin, &b, &owner_b, "OWNER").await, 200);
    // Memberships ride in the authorizer's answer: log in after them.
    let owner_a_token = access_token(&cloud.login(&owner_a).await);
    assert_eq!(
        put_staff(&cloud, &owner_a_token, &a, &manager_a, "MANAGER").await,
        200
    );
    assert_eq!(
        put_staff(&cloud, &owner_a_token, &a, &viewer_a, "VIEWER").await,
        200
    );
    let owner_b_token = access_token(&cloud.login(&owner_b).await);
    // An owner of B cannot staff A: A is hidden from them.
    assert_eq!(
        put_staff(&cloud, &owner_b_token, &a, &owner_b, "OWNER").await,
        404
    );
    let manager_login = cloud.login(&manager_a).await;
    let manager = access_token(&manager_login);
    let viewer = access_token(&cloud.login(&viewer_a).await);
    let customer = cloud.user_token().await;
    // GET /me shows the memberships the token carries.
    let me: Value = cloud
        .http
        .get(cloud.url("/me"))
        .bearer_auth(&manager)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        me["companies"],
        json!([{ "company_id": a, "role": "MANAGER" }])
    );
    // A manager cannot staff their own company (403: they know it exists).
    assert_eq!(
        put_staff(&cloud, &manager, &a, &viewer_a, "OWNER").await,
        403
    );

    // Venues: a manager writes A's; B's company and a viewer's attempt are refused.
    let res = cloud
        .post("/admin/venues", &venue_body(&a, "A Links"), Some(&manager))
        .await;
    assert_eq!(res.status(), 201);
    let venue: Value = res.json().await.unwrap();
    let venue_id = venue["id"].as_str().unwrap().to_owned();
    assert_eq!(venue["company_id"], a.as_str());
    for (who, company, expected) in [
        (&manager, &b, (404, "COMPANY_NOT_FOUND")),
        (&viewer, &a, (403, "FORBIDDEN")),
        (&owner_b_token, &a, (404, "COMPANY_NOT_FOUND")),
        (&customer, &a, (403, "FORBIDDEN")),
    ] {
        let res = cloud
            .post("/admin/venues", &venue_body(company, "Not Mine"), Some(who))
            .await;
        let (status, got) = code(res).await;
        assert_eq!((status, got.as_str()), expected);
    }

    // A's venue: B's owner gets the 404 of a venue that does not exist, and
    // changes nothing; A's manager renames it and adds a resource.
    let path = format!("/admin/venues/{venue_id}");
    let rename = json!({ "name": "Renamed by B" });
    assert_eq!(
        code(cloud.patch(&path, &rename, &owner_b_token).await).await,
        (404, "VENUE_NOT_FOUND".to_owned())
    );
    assert_eq!(
        code(cloud.patch(&path, &rename, &viewer).await).await.0,
        403
    );
    let resources = format!("/admin/venues/{venue_id}/resources");
    let course = json!({ "name": "Course", "kind": "COURSE" });
    assert_eq!(
        code(cloud.post(&resources, &course, Some(&owner_b_token)).await).await,
        (404, "VENUE_NOT_FOUND".to_owned())
    );
    let res = cloud.post(&resources, &course, Some(&manager)).await;
    assert_eq!(res.status(), 201);
    let resource: Value = res.json().await.unwrap();
    let resource_path = format!("/admin/resources/{}", resource["id"].as_str().unwrap());
    assert_eq!(
        code(
            cloud
                .patch(
                    &resource_path,
                    &json!({ "status": "CLOSED" }),
                    &owner_b_token
                )
                .await
        )
        .await,
        (404, "RESOURCE_NOT_FOUND".to_owned())
    );
    let public: Value = cloud
        .http
        .get(cloud.url(&format!("/venues/{venue_id}/resources")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        public["venue"]["name"], "A Links",
        "B's attempt changed nothing"
    );
    assert_eq!(public["resources"][0]["status"], "OPEN");
    let ok = cloud
        .patch(&path, &json!({ "name": "A Links Renamed" }), &manager)
        .await;
    assert_eq!(ok.status(), 200);

    // Removing the manager ends their sessions: the refresh token is
    // refused at once. The last owner stays.
    assert_eq!(
        remove_staff(&cloud, &owner_a_token, &a, &manager_a).await.0,
        204
    );
    let refresh = cloud
        .post(
            "/auth/refresh",
            &json!({ "refresh_token": manager_login["refresh_token"] }),
            None,
        )
        .await;
    assert_eq!(refresh.status(), 401);
    let (status, body) = remove_staff(&cloud, &owner_a_token, &a, &owner_a).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("LAST_OWNER")));
}

#[tokio::test]
async fn staff_read_and_manage_only_their_company_s_bookings_by_role() {
    let cloud = Cloud::connect().await;
    let admin = cloud.admin_token().await;
    let (a, b) = (
        cloud.staffed_company(&admin).await,
        cloud.staffed_company(&admin).await,
    );
    let customer = cloud.user_token().await;
    let res = cloud
        .book(&customer, &a.slot, 2, &uuid::Uuid::new_v4().to_string())
        .await;
    assert_eq!(res.status(), 201);
    let booking: Value = res.json().await.unwrap();
    let path = format!("/bookings/{}", booking["id"].as_str().unwrap());
    let get = |token: String| {
        let req = cloud.http.get(cloud.url(&path)).bearer_auth(token);
        async move { req.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(
        get(a.viewer_token.clone()).await,
        200,
        "A's viewer reads it"
    );
    assert_eq!(get(a.manager_token.clone()).await, 200);
    assert_eq!(
        get(b.manager_token.clone()).await,
        404,
        "B's manager sees nothing"
    );
    // One booking's detail: the customer's contact for A's manager
    // (customers:read), not for A's viewer.
    let detail = |token: String| {
        let req = cloud.http.get(cloud.url(&path)).bearer_auth(token);
        async move { req.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let managed = detail(a.manager_token.clone()).await;
    assert!(
        managed["customer"]["email"]
            .as_str()
            .is_some_and(|e| e.ends_with("@example.com")),
        "{managed}"
    );
    let viewed = detail(a.viewer_token.clone()).await;
    assert!(viewed.get("customer").is_none(), "{viewed}");
    // The operators' list of the resource: A's viewer sees the booking;
    // B's manager the 404 of a resource that does not exist.
    let resource = a.slot.split('@').next().unwrap();
    let list = format!("/admin/resources/{resource}/bookings");
    let listed = |token: String| {
        let req = cloud.http.get(cloud.url(&list)).bearer_auth(token);
        async move { req.send().await.unwrap() }
    };
    let res = listed(a.viewer_token.clone()).await;
    assert_eq!(res.status(), 200);
    let page: Value = res.json().await.unwrap();
    assert!(
        page["bookings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|b| b["id"] == booking["id"]),
        "{page}"
    );
    let mine = |page: &Value| {
        page["bookings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["id"] == booking["id"])
            .cloned()
            .unwrap()
    };
    assert!(
        mine(&page).get("customer").is_none(),
        "a viewer sees no contact"
    );
    let res = listed(a.manager_token.clone()).await;
    let managed: Value = res.json().await.unwrap();
    let contact = &mine(&managed)["customer"];
    assert!(
        contact["email"].as_str().unwrap().ends_with("@example.com"),
        "{managed}"
    );
    assert_eq!(
        code(listed(b.manager_token.clone()).await).await,
        (404, "RESOURCE_NOT_FOUND".to_owned())
    );
    assert_eq!(code(listed(customer.clone()).await).await.0, 403);
    let cancel = format!("{path}/cancel");
    let empty = json!({});
    let res = cloud.post(&cancel, &empty, Some(&b.manager_token)).await;
    assert_eq!(code(res).await, (404, "BOOKING_NOT_FOUND".to_owned()));
    let res = cloud.post(&cancel, &empty, Some(&a.viewer_token)).await;
    assert_eq!(code(res).await, (403, "FORBIDDEN".to_owned()));
    assert_eq!(cloud.slot_view(&a.slot).await["remaining"], 2, "still held");
    let why = json!({ "reason": "the customer phoned the club" });
    let res = cloud.post(&cancel, &why, Some(&a.manager_token)).await;
    assert_eq!(res.status(), 200);
    let cancelled: Value = res.json().await.unwrap();
    assert_eq!(cancelled["status"], "CANCELLED");
    assert_eq!(cloud.slot_view(&a.slot).await["remaining"], 4);
    // The history says staff did it, and why; the customer reads it too.
    let history: Value = cloud
        .http
        .get(cloud.url(&format!("{path}/history")))
        .bearer_auth(&customer)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let last = history["history"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(
        last["reason"],
        "cancelled for the customer by staff: the customer phoned the club"
    );
    assert_eq!(last["by"], a.manager.id.as_str());
}

#[tokio::test]
async fn a_closed_company_s_venues_refuse_bookings_until_it_reopens() {
    let cloud = Cloud::connect().await;
    let admin = cloud.admin_token().await;
    let a = cloud.staffed_company(&admin).await;
    let customer = cloud.user_token().await;
    let path = format!("/admin/companies/{}", a.id);
    let closed = cloud
        .patch(&path, &json!({ "status": "CLOSED" }), &admin)
        .await;
    assert_eq!(closed.status(), 200);
    // Only the platform administrator closes a company.
    let by_manager = cloud
        .patch(&path, &json!({ "status": "ACTIVE" }), &a.manager_token)
        .await;
    assert_eq!(by_manager.status(), 403);
    let res = cloud
        .book(&customer, &a.slot, 1, &uuid::Uuid::new_v4().to_string())
        .await;
    assert_eq!(code(res).await, (409, "VENUE_CLOSED".to_owned()));
    assert_eq!(
        cloud.slot_view(&a.slot).await["remaining"],
        4,
        "nothing taken"
    );
    let reopened = cloud
        .patch(&path, &json!({ "status": "ACTIVE" }), &admin)
        .await;
    assert_eq!(reopened.status(), 200);
    let res = cloud
        .book(&customer, &a.slot, 1, &uuid::Uuid::new_v4().to_string())
        .await;
    assert_eq!(res.status(), 201);
}

/// Runs `platform-admin adopt-venues` against the test cloud; its output.
fn adopt_venues() -> String {
    let bin =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/debug/platform-admin");
    let out = std::process::Command::new(&bin)
        .args(["adopt-venues", "--state-file"])
        .arg(system_tests::state_path())
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", bin.display()));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test]
async fn a_venue_from_before_companies_is_adopted_by_the_default_company_once() {
    use shared::adapters::dynamo::catalog::DynamoCatalog;
    use shared::catalog::ports::VenueStore;
    use shared::catalog::{CatalogStatus, TimeZone, Venue, VenueId, VenueKind};
    let cloud = Cloud::connect().await;
    // Written as the catalog wrote venues before companies: no company.
    let legacy = Venue {
        id: VenueId::generate(),
        company_id: None,
        name: "Old Club".into(),
        kind: VenueKind::GolfClub,
        city: "Seoul".into(),
        time_zone: TimeZone::parse(VENUE_ZONE.name()).unwrap(),
        status: CatalogStatus::Open,
    };
    let activity = shared::EventEnvelope::of(
        &shared::events::Ping::Diagnostic {
            note: "a venue written before companies".into(),
        },
        shared::CorrelationId::generate(),
    )
    .unwrap();
    DynamoCatalog::new(cloud.dynamodb.clone(), cloud.table())
        .create_venue(&legacy, &activity)
        .await
        .unwrap();
    let first = adopt_venues();
    assert!(!first.contains("venues moved to it: 0;"), "{first}");
    let public: Value = cloud
        .http
        .get(cloud.url(&format!("/venues/{}/resources", legacy.id)))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        public["venue"]["company_id"],
        "0190d000-0000-7000-8000-000000000001"
    );
    let second = adopt_venues();
    assert!(second.contains("already there"), "{second}");
    assert!(second.contains("venues moved to it: 0;"), "{second}");
    assert!(second.contains("company: 0"), "{second}");
}

#[tokio::test]
async fn a_removed_manager_loses_the_catalog_within_the_authorizer_cache_bound() {
    let cloud = Cloud::connect().await;
    let admin = cloud.admin_token().await;
    let company = cloud.new_company(&admin).await;
    let (owner, manager) = (cloud.new_account().await, cloud.new_account().await);
    assert_eq!(
        put_staff(&cloud, &admin, &company, &owner, "OWNER").await,
        200
    );
    assert_eq!(
        put_staff(&cloud, &admin, &company, &manager, "MANAGER").await,
        200
    );
    let manager_token = access_token(&cloud.login(&manager).await);
    let res = cloud
        .post(
            "/admin/venues",
            &venue_body(&company, "Club"),
            Some(&manager_token),
        )
        .await;
    assert_eq!(res.status(), 201);
    let venue: Value = res.json().await.unwrap();
    let path = format!("/admin/venues/{}", venue["id"].as_str().unwrap());
    assert_eq!(
        remove_staff(&cloud, &admin, &company, &manager).await.0,
        204
    );
    // The test cloud caches an answer for AuthorizerCacheSeconds (10): until
    // then the cached answer may still let the token through (the stated
    // bound); from its next answer on it is refused.
    let bound: u64 = cloud.parameter("AuthorizerCacheSeconds").parse().unwrap();
    assert!(bound < 60, "the test cloud compresses the bound");
    let refused = system_tests::eventually(
        "the removed manager refused",
        std::time::Duration::from_secs(bound + 30),
        || async {
            let res = cloud
                .patch(&path, &json!({ "name": "After removal" }), &manager_token)
                .await;
            let status = res.status().as_u16();
            (status != 200).then_some(status)
        },
    )
    .await;
    // The session ended with the removal, so the new answer is a 401.
    assert!([401, 404].contains(&refused), "{refused}");
}
