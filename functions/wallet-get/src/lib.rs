//! GET /wallet?limit=&cursor=: the caller's own balance and ledger, newest
//! first. The route has no user id: no one reads another's wallet.

use lambda_http::{Body, Request, Response};
use shared::http::{caller, correlation_id, limit_param, query_param, respond};
use shared::payment::ports::WalletStore;

pub async fn handle(
    wallets: &impl WalletStore,
    req: Request,
) -> Result<Response<Body>, lambda_http::Error> {
    let correlation_id = correlation_id(&req);
    let result = async {
        let caller = caller(&req)?;
        let limit = limit_param(&req, 20, 100)?;
        let cursor = query_param(&req, "cursor");
        wallets
            .wallet(&caller.user_id, limit, cursor.as_deref())
            .await
    }
    .await;
    Ok(respond(200, result, &correlation_id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::adapters::memory::MemoryWallets;
    use shared::identity::UserId;
    use shared::testing::booking::OWNER;
    use shared::testing::{body, refusal, with_queries, with_query, with_user};

    const FIXTURE: &str = include_str!("../../../events/wallet-get/get-wallet.json");

    /// Three top-ups (100, 200, 300) of the fixtures' caller, and one of
    /// someone else's.
    async fn wallets() -> MemoryWallets {
        let wallets = MemoryWallets::default();
        let owner = UserId::parse(OWNER).unwrap();
        let other = UserId::generate();
        for (user, points) in [(&owner, 100), (&owner, 200), (&owner, 300), (&other, 999)] {
            shared::testing::payment::fund(&wallets, user, points).await;
        }
        wallets
    }

    #[tokio::test]
    async fn the_caller_sees_their_balance_and_ledger_newest_first_in_pages() {
        let wallets = wallets().await;
        let first = body(
            &handle(&wallets, with_query(FIXTURE, "limit", Some("2")))
                .await
                .unwrap(),
        );
        assert_eq!(
            (&first["user_id"], &first["balance"]),
            (&OWNER.into(), &600.into())
        );
        let points: Vec<i64> = first["ledger"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["points"].as_i64().unwrap())
            .collect();
        assert_eq!(points, [300, 200]);
        let cursor = first["next_cursor"].as_str().unwrap().to_owned();
        let second = body(
            &handle(
                &wallets,
                with_queries(FIXTURE, &[("limit", "2"), ("cursor", &cursor)]),
            )
            .await
            .unwrap(),
        );
        assert_eq!(second["ledger"][0]["points"], 100);
        assert!(
            second
                .get("next_cursor")
                .is_none_or(serde_json::Value::is_null)
        );
    }

    #[tokio::test]
    async fn a_new_customer_has_an_empty_wallet_and_bad_queries_are_400s() {
        let wallets = wallets().await;
        let stranger = UserId::generate().to_string();
        let empty = body(
            &handle(&wallets, with_user(FIXTURE, &stranger, "USER"))
                .await
                .unwrap(),
        );
        assert_eq!(
            (&empty["balance"], &empty["ledger"]),
            (&0.into(), &serde_json::json!([]))
        );
        for (name, value, expected) in [
            ("limit", "0", "INVALID_LIMIT"),
            ("limit", "500", "INVALID_LIMIT"),
            ("cursor", "not-an-entry", "INVALID_CURSOR"),
        ] {
            let res = handle(&wallets, with_query(FIXTURE, name, Some(value)))
                .await
                .unwrap();
            assert_eq!(refusal(&res), (400, expected.into()), "{name}={value}");
        }
    }
}
