//! POST /admin/wallets/{user_id}/grant (`wallet:grant`): credits goodwill
//! points to an account's wallet, with a reason. Requires an
//! `Idempotency-Key` (the administrator's own): the same key and body
//! answer the first response again; another body is a 422. The credit, its
//! ledger entry (kind `GRANT`, with the reason and the administrator) and
//! `AdminActivity` (`wallet_granted`) are one transaction. This is the one
//! way to add points without a card charge.

use lambda_http::{Body, Request, Response};
use shared::clock::Clock;
use shared::http::{caller, correlation_id, idempotency_key, parse_json, path_param};
use shared::identity::UserId;
use shared::payment::GrantRequest;
use shared::payment::ports::WalletStore;
use shared::payment::topup::{self, TopUpAttempt};
use shared::ports::UserStore;

pub async fn handle(
    wallets: &impl WalletStore,
    users: &impl UserStore,
    clock: &impl Clock,
    req: Request,
) -> Result<Response<Body>, lambda_http::Error> {
    let correlation_id = correlation_id(&req);
    let result = async {
        let caller = caller(&req)?;
        caller.require(shared::identity::Permission::WalletGrant)?;
        let user = UserId::parse(&path_param(&req, "user_id")?)?;
        let key = idempotency_key(&req)?;
        let body: GrantRequest = parse_json(&req)?;
        let attempt = TopUpAttempt {
            user: &caller.user_id,
            key: &key,
            correlation_id: &correlation_id,
            now: clock.now(),
        };
        topup::grant(wallets, users, &caller, &user, &attempt, &body).await
    }
    .await;
    Ok(topup::answer(result, &correlation_id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::adapters::memory::{MemoryIdentity, MemoryWallets};
    use shared::clock::FixedClock;
    use shared::identity::events::AdminActivity;
    use shared::testing::{body, edit, refusal, request, with_body, with_role};

    const FIXTURE: &str = include_str!("../../../events/admin-wallet-grant/post-grant.json");
    /// The account the fixture grants to.
    const CUSTOMER: &str = "0193a5f2-7a00-7000-8000-000000000001";

    fn clock() -> FixedClock {
        FixedClock::at_rfc3339("2027-01-10T09:30:00Z")
    }

    async fn users() -> MemoryIdentity {
        let users = MemoryIdentity::default();
        shared::testing::identity::account(&users, &UserId::parse(CUSTOMER).unwrap()).await;
        users
    }

    fn balance(wallets: &MemoryWallets) -> u64 {
        wallets.balance(&UserId::parse(CUSTOMER).unwrap())
    }

    #[tokio::test]
    async fn an_admin_grants_points_once_with_a_reason_recorded_as_admin_activity() {
        let (wallets, users) = (MemoryWallets::default(), users().await);
        let res = handle(&wallets, &users, &clock(), request(FIXTURE))
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
        let entry = body(&res);
        assert_eq!(
            (&entry["kind"], &entry["points"], &entry["reason"]),
            (
                &"GRANT".into(),
                &500.into(),
                &"rain stopped play on the 14th".into()
            )
        );
        assert_eq!(entry["granted_by"], "0195f0a4-6c1e-7cc3-9a51-3f2d8e1b7a20");
        let again = handle(&wallets, &users, &clock(), request(FIXTURE))
            .await
            .unwrap();
        assert_eq!(again.headers()["idempotent-replayed"], "true");
        assert_eq!(balance(&wallets), 500);
        let activity: Vec<AdminActivity> = wallets
            .events()
            .iter()
            .map(|e| e.decode().unwrap())
            .collect();
        assert!(matches!(
            &activity[..],
            [AdminActivity::WalletGranted { points: 500, balance: 500, reason, actor, .. }]
                if reason == "rain stopped play on the 14th"
                    && actor == "0195f0a4-6c1e-7cc3-9a51-3f2d8e1b7a20"
        ));
    }

    #[tokio::test]
    async fn a_customer_may_not_grant_and_bad_grants_write_nothing() {
        let (wallets, users) = (MemoryWallets::default(), users().await);
        let res = handle(&wallets, &users, &clock(), with_role(FIXTURE, "USER"))
            .await
            .unwrap();
        assert_eq!(refusal(&res), (403, "FORBIDDEN".into()));
        for (body, expected) in [
            (r#"{"points":500}"#, (400, "INVALID_BODY")),
            (r#"{"points":500,"reason":"  "}"#, (400, "INVALID_REASON")),
            (
                r#"{"points":0,"reason":"goodwill"}"#,
                (400, "INVALID_POINTS"),
            ),
        ] {
            let res = handle(&wallets, &users, &clock(), with_body(FIXTURE, body))
                .await
                .unwrap();
            assert_eq!(refusal(&res), (expected.0, expected.1.into()), "{body}");
        }
        let nobody = edit(FIXTURE, |json| {
            json["pathParameters"]["user_id"] = UserId::generate().to_string().into();
        });
        let res = handle(&wallets, &users, &clock(), request(&nobody))
            .await
            .unwrap();
        assert_eq!(refusal(&res), (404, "USER_NOT_FOUND".into()));
        assert_eq!(balance(&wallets), 0);
        assert!(wallets.events().is_empty());
    }
}
