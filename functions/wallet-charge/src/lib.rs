//! POST /wallet/charge: adds points to the caller's own wallet. Requires an
//! `Idempotency-Key`: the same key and body answer the first response again
//! (`idempotent-replayed: true`); another body with that key is a 422. The
//! balance, a ledger entry and `WalletCharged` are one transaction.

use lambda_http::{Body, Request, Response};
use shared::AppError;
use shared::clock::Clock;
use shared::http::{
    caller, correlation_id, error_response, idempotency_key, json_response, parse_json, replayed,
};
use shared::kernel::fingerprint;
use shared::payment::ports::{TopUpOrder, ToppedUp, WalletStore};
use shared::payment::{TopUp, TopUpRequest};

pub async fn handle(
    wallets: &impl WalletStore,
    clock: &impl Clock,
    req: Request,
) -> Result<Response<Body>, lambda_http::Error> {
    let correlation_id = correlation_id(&req);
    let result = async {
        let caller = caller(&req)?;
        let key = idempotency_key(&req)?;
        let body: TopUpRequest = parse_json(&req)?;
        let points = TopUp::parse(body.points)?;
        let canonical =
            serde_json::to_vec(&body).map_err(|e| AppError::internal("encoding the request", e))?;
        let fingerprint = fingerprint(&canonical);
        let order = TopUpOrder {
            user: &caller.user_id,
            key: &key,
            fingerprint: &fingerprint,
            points,
            correlation_id: &correlation_id,
            now: clock.now(),
        };
        wallets.top_up(&order).await
    }
    .await;
    Ok(match result {
        Ok(ToppedUp::New(entry)) => {
            tracing::info!(entry_id = %entry.entry_id, points = entry.points, "wallet charged");
            json_response(201, &entry, &correlation_id)
        }
        Ok(ToppedUp::Replayed(first)) => replayed(&first, &correlation_id),
        Err(err) => error_response(&err, &correlation_id),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::adapters::memory::MemoryWallets;
    use shared::clock::FixedClock;
    use shared::identity::UserId;
    use shared::payment::events::WalletCharged;
    use shared::testing::booking::OWNER;
    use shared::testing::{body, edit, refusal, request, with_body, with_header};

    const FIXTURE: &str = include_str!("../../../events/wallet-charge/post-charge.json");

    fn clock() -> FixedClock {
        FixedClock::at_rfc3339("2027-01-10T09:30:00Z")
    }

    async fn balance(wallets: &MemoryWallets) -> u64 {
        wallets
            .wallet(&UserId::parse(OWNER).unwrap(), 10, None)
            .await
            .unwrap()
            .balance
    }

    #[tokio::test]
    async fn a_top_up_adds_its_points_once_however_often_it_is_sent() {
        let wallets = MemoryWallets::default();
        let first = handle(&wallets, &clock(), request(FIXTURE)).await.unwrap();
        assert_eq!(first.status(), 201);
        assert_eq!(
            (
                &body(&first)["points"],
                &body(&first)["balance_after"],
                &body(&first)["at"]
            ),
            (&2500.into(), &2500.into(), &"2027-01-10T09:30:00Z".into())
        );
        let again = handle(&wallets, &clock(), request(FIXTURE)).await.unwrap();
        assert_eq!(again.status(), 201);
        assert_eq!(again.headers()["idempotent-replayed"], "true");
        assert_eq!(body(&again), body(&first));
        assert_eq!(balance(&wallets).await, 2500);
        let charged: Vec<WalletCharged> = wallets
            .events()
            .iter()
            .map(|e| e.decode().unwrap())
            .collect();
        assert_eq!(charged.len(), 1);
        assert_eq!(charged[0].balance, 2500);
    }

    #[tokio::test]
    async fn a_key_reused_for_another_amount_is_a_422_and_adds_nothing() {
        let wallets = MemoryWallets::default();
        handle(&wallets, &clock(), request(FIXTURE)).await.unwrap();
        let res = handle(&wallets, &clock(), with_body(FIXTURE, r#"{"points":9999}"#))
            .await
            .unwrap();
        assert_eq!(refusal(&res), (422, "IDEMPOTENCY_KEY_REUSED".into()));
        assert_eq!(balance(&wallets).await, 2500);
    }

    #[tokio::test]
    async fn bad_amounts_missing_keys_and_a_full_wallet_are_refused() {
        let wallets = MemoryWallets::default();
        for (body, expected) in [
            (r#"{"points":0}"#, "INVALID_POINTS"),
            (r#"{"points":1000001}"#, "INVALID_POINTS"),
            (r#"{"points":-5}"#, "INVALID_POINTS"),
            (r#"{"points":"lots"}"#, "INVALID_BODY"),
        ] {
            let res = handle(&wallets, &clock(), with_body(FIXTURE, body))
                .await
                .unwrap();
            assert_eq!(refusal(&res), (400, expected.into()), "{body}");
        }
        let res = handle(
            &wallets,
            &clock(),
            with_header(FIXTURE, "idempotency-key", None),
        )
        .await
        .unwrap();
        assert_eq!(refusal(&res), (400, "MISSING_IDEMPOTENCY_KEY".into()));
        for n in 0..10 {
            let million = edit(FIXTURE, |json| {
                json["body"] = r#"{"points":1000000}"#.into();
                json["headers"]["idempotency-key"] = format!("fill-the-wallet-{n}").into();
            });
            let res = handle(&wallets, &clock(), request(&million)).await.unwrap();
            assert_eq!(res.status(), 201);
        }
        let res = handle(
            &wallets,
            &clock(),
            with_header(FIXTURE, "idempotency-key", Some("one-point-too-many")),
        )
        .await
        .unwrap();
        assert_eq!(refusal(&res), (409, "BALANCE_LIMIT".into()));
        assert_eq!(balance(&wallets).await, 10_000_000);
    }
}
