//! Companies and their staff, through the running local cloud: who may
//! write which company's catalog, what others see (the same 404 as for
//! what does not exist), and that removing a member ends their sessions.

use serde_json::{Value, json};
use system_tests::{Account, Cloud, access_token, dates::VENUE_ZONE};

async fn put_staff(cloud: &Cloud, by: &str, company: &str, who: &Account, role: &str) -> u16 {
    cloud
        .http
        .put(cloud.url(&format!("/admin/companies/{company}/staff")))
        .bearer_auth(by)
        .json(&json!({ "email": who.email, "role": role }))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
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
