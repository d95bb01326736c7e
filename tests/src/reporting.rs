//! The harness's reporting helpers: a venue with two courses, and GETs as
//! an admin reads the reporting routes.

use serde_json::{Value, json};

use crate::Cloud;
use crate::dates::VENUE_ZONE;

/// A fresh company's venue in the test zone with two courses.
pub struct Venue {
    pub company: String,
    pub id: String,
    pub resources: [String; 2],
}

/// Creates a [`Venue`] through the admin API.
pub async fn venue(cloud: &Cloud, admin: &str) -> Venue {
    let company = cloud.new_company(admin).await;
    let res = cloud
        .post(
            "/admin/venues",
            &json!({ "company_id": company, "name": "Seoul Links", "kind": "GOLF_CLUB",
                     "city": "Seoul", "time_zone": VENUE_ZONE.name() }),
            Some(admin),
        )
        .await;
    assert_eq!(res.status(), 201);
    let id = res.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut resources = Vec::new();
    for name in ["East", "West"] {
        let res = cloud
            .post(
                &format!("/admin/venues/{id}/resources"),
                &json!({ "name": name, "kind": "COURSE" }),
                Some(admin),
            )
            .await;
        assert_eq!(res.status(), 201);
        resources.push(
            res.json::<Value>().await.unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    Venue {
        company,
        id,
        resources: [resources[0].clone(), resources[1].clone()],
    }
}

/// GETs `path` with `token`.
pub async fn get(cloud: &Cloud, path: &str, token: &str) -> reqwest::Response {
    cloud
        .http
        .get(cloud.url(path))
        .bearer_auth(token)
        .send()
        .await
        .expect("the API answers")
}

/// GETs `path` with `token` and answers the JSON of its 200.
pub async fn stats(cloud: &Cloud, admin: &str, path: &str) -> Value {
    let res = get(cloud, path, admin).await;
    assert_eq!(res.status(), 200, "{path}");
    res.json().await.unwrap()
}
