//! The authorizer's answer is cached per token for `ReauthorizeEvery`, as
//! API Gateway does. Alone in its test binary, so no other test's requests
//! move the authorizer's invocation count while it measures.

use system_tests::Cloud;

async fn authorizer_invocations(cloud: &Cloud) -> u64 {
    cloud.function("authorizer").await["invocations"]
        .as_u64()
        .expect("an invocation count")
}

#[tokio::test]
async fn one_token_is_checked_by_the_authorizer_once_per_cache_period() {
    let cloud = Cloud::connect().await;
    let token = cloud.user_token().await;
    let before = authorizer_invocations(&cloud).await;
    for _ in 0..5 {
        let res = cloud
            .http
            .get(cloud.url("/auth/me"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
    }
    assert_eq!(authorizer_invocations(&cloud).await - before, 1);

    // A refused token is not cached: each try runs the authorizer again.
    let before = authorizer_invocations(&cloud).await;
    for _ in 0..3 {
        let res = cloud
            .http
            .get(cloud.url("/auth/me"))
            .bearer_auth("not-a-token")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401);
    }
    assert_eq!(authorizer_invocations(&cloud).await - before, 3);
}
