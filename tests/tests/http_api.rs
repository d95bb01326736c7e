//! The local HTTP API: routing, payloads, error shapes, re-provisioning.

use serde_json::Value;
use system_tests::Cloud;

#[tokio::test]
async fn health_through_the_http_api_reports_table_and_bus_reachable() {
    let cloud = Cloud::connect().await;
    let res = cloud.http.get(cloud.url("/health")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers().contains_key("x-correlation-id"));
    let report: Value = res.json().await.unwrap();
    assert_eq!(report["status"], "ok");
    let names: Vec<&str> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["table", "bus"]);
    assert!(
        report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["reachable"] == true)
    );
}

#[tokio::test]
async fn an_unknown_route_is_a_json_404() {
    let cloud = Cloud::connect().await;
    for (method, path) in [
        ("GET", "/no/such/route"),
        ("POST", "/health"),
        ("DELETE", "/diagnostics/ping"),
    ] {
        let res = cloud
            .http
            .request(method.parse().unwrap(), cloud.url(path))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404, "{method} {path}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["message"], "Not Found");
    }
}

#[tokio::test]
async fn malformed_request_bodies_are_4xx_json_errors_never_5xx() {
    let cloud = Cloud::connect().await;
    let admin = cloud.admin_token().await;
    let long_note = format!("{{\"note\":\"{}\"}}", "x".repeat(201));
    let bodies: Vec<(&str, &str)> = vec![
        ("", "MISSING_BODY"),
        ("{", "MALFORMED_JSON"),
        ("not json at all", "MALFORMED_JSON"),
        ("{\"note\": 42}", "INVALID_BODY"),
        ("{\"note\": \"ok\", \"admin\": true}", "INVALID_BODY"),
        ("{\"note\": \"\"}", "INVALID_NOTE"),
        (&long_note, "INVALID_NOTE"),
    ];
    for (body, code) in bodies {
        let res = cloud
            .http
            .post(cloud.url("/diagnostics/ping"))
            .bearer_auth(&admin)
            .header("content-type", "application/json")
            .body(body.to_owned())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400, "body {body:?}");
        let error: Value = res.json().await.unwrap();
        assert_eq!(error["code"], code, "body {body:?}");
        assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    let res = cloud
        .http
        .post(cloud.url("/diagnostics/ping"))
        .bearer_auth(&admin)
        .header("content-type", "text/plain")
        .body("note=hi")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let error: Value = res.json().await.unwrap();
    assert_eq!(error["code"], "UNSUPPORTED_MEDIA_TYPE");
}

#[tokio::test]
async fn reprovisioning_the_running_cloud_is_safe() {
    let cloud = Cloud::connect().await;
    let res = cloud
        .http
        .post(format!("{}/provision", cloud.admin))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["unchanged"], true, "{body}");
    let health = cloud.http.get(cloud.url("/health")).send().await.unwrap();
    assert_eq!(health.status(), 200);
}

#[tokio::test]
async fn several_instances_of_one_function_serve_invocations_at_once() {
    let cloud = Cloud::connect().await;
    let health = cloud.function("health").await;
    let ready = health["instances"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["ready_ms"].is_u64())
        .count();
    assert!(ready >= 4, "{health}");
    let before = cloud.function("health").await["invocations"]
        .as_u64()
        .unwrap();
    let requests = (0..32).map(|_| cloud.http.get(cloud.url("/health")).send());
    let responses = futures::future::join_all(requests).await;
    assert!(
        responses
            .iter()
            .all(|r| r.as_ref().is_ok_and(|r| r.status() == 200))
    );
    let after = cloud.function("health").await["invocations"]
        .as_u64()
        .unwrap();
    assert!(after >= before + 32);
}
