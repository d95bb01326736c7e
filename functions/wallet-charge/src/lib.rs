//! POST /wallet/charge: buys points for the caller's own wallet with a card.
//! Requires an `Idempotency-Key`: the same key and body answer the first
//! response again (`idempotent-replayed: true`) without a second charge;
//! another body with that key is a 422. Points are credited only after the
//! gateway confirmed the charge; a declined card is a 402 and credits
//! nothing; a gateway that cannot tell is a 503 (send the same request
//! again: the result converges). See [`shared::payment::topup`].

use lambda_http::{Body, Request, Response};
use shared::clock::Clock;
use shared::http::{caller, correlation_id, idempotency_key, parse_json};
use shared::payment::TopUpRequest;
use shared::payment::ports::{CardPayments, WalletStore};
use shared::payment::topup::{self, TopUpAttempt};

pub async fn handle(
    wallets: &impl WalletStore,
    cards: &impl CardPayments,
    clock: &impl Clock,
    req: Request,
) -> Result<Response<Body>, lambda_http::Error> {
    let correlation_id = correlation_id(&req);
    let result = async {
        let caller = caller(&req)?;
        let key = idempotency_key(&req)?;
        let body: TopUpRequest = parse_json(&req)?;
        let attempt = TopUpAttempt {
            user: &caller.user_id,
            key: &key,
            correlation_id: &correlation_id,
            now: clock.now(),
        };
        topup::top_up(wallets, cards, &attempt, &body).await
    }
    .await;
    Ok(topup::answer(result, &correlation_id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::adapters::memory::{MemoryCards, MemoryWallets};
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

    async fn post(wallets: &MemoryWallets, cards: &MemoryCards, fixture: &str) -> Response<Body> {
        handle(wallets, cards, &clock(), request(fixture))
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_paid_top_up_adds_its_points_once_however_often_it_is_sent() {
        let (wallets, cards) = (MemoryWallets::default(), MemoryCards::default());
        let first = post(&wallets, &cards, FIXTURE).await;
        assert_eq!(first.status(), 201);
        let charges = cards.charges();
        assert_eq!(charges.len(), 1);
        let charge = charges.values().next().unwrap();
        assert_eq!(charge.amount_cents, 2500);
        assert_eq!(
            (
                &body(&first)["points"],
                &body(&first)["balance_after"],
                &body(&first)["charge_id"],
                &body(&first)["at"]
            ),
            (
                &2500.into(),
                &2500.into(),
                &charge.charge_id.clone().into(),
                &"2027-01-10T09:30:00Z".into()
            )
        );
        let again = post(&wallets, &cards, FIXTURE).await;
        assert_eq!(again.status(), 201);
        assert_eq!(again.headers()["idempotent-replayed"], "true");
        assert_eq!(body(&again), body(&first));
        assert_eq!(balance(&wallets).await, 2500);
        assert_eq!(cards.charges().len(), 1, "charged once");
        let charged: Vec<WalletCharged> = wallets
            .events()
            .iter()
            .map(|e| e.decode().unwrap())
            .collect();
        assert_eq!(charged.len(), 1);
        assert_eq!(
            (charged[0].balance, charged[0].charge_id.as_str()),
            (2500, charge.charge_id.as_str())
        );
    }

    #[tokio::test]
    async fn a_declined_card_credits_nothing() {
        let (wallets, cards) = (MemoryWallets::default(), MemoryCards::default());
        cards.decline("tok_visa");
        let res = post(&wallets, &cards, FIXTURE).await;
        assert_eq!(refusal(&res), (402, "CARD_DECLINED".into()));
        assert_eq!(balance(&wallets).await, 0);
        assert!(wallets.events().is_empty());
    }

    #[tokio::test]
    async fn an_unknown_outcome_credits_nothing_until_a_retry_finds_the_charge() {
        let (wallets, cards) = (MemoryWallets::default(), MemoryCards::default());
        cards.lose_answers(true);
        let res = post(&wallets, &cards, FIXTURE).await;
        assert_eq!(refusal(&res), (503, "GATEWAY_UNAVAILABLE".into()));
        assert!(res.headers().contains_key("retry-after"));
        assert_eq!(balance(&wallets).await, 0, "never guessed");
        assert_eq!(cards.charges().len(), 1, "the card was charged");
        cards.lose_answers(false);
        let res = post(&wallets, &cards, FIXTURE).await;
        assert_eq!(res.status(), 201);
        assert_eq!(balance(&wallets).await, 2500);
        assert_eq!(cards.charges().len(), 1, "the retry found the first charge");
        cards.set_unavailable(true);
        let res = post(&wallets, &cards, FIXTURE).await;
        assert_eq!(
            res.status(),
            201,
            "a completed top-up replays without the gateway"
        );
    }

    #[tokio::test]
    async fn a_key_reused_for_another_amount_is_a_422_and_charges_nothing() {
        let (wallets, cards) = (MemoryWallets::default(), MemoryCards::default());
        post(&wallets, &cards, FIXTURE).await;
        let other = with_body(FIXTURE, r#"{"points":9999,"card_token":"tok_visa"}"#);
        let res = handle(&wallets, &cards, &clock(), other).await.unwrap();
        assert_eq!(refusal(&res), (422, "IDEMPOTENCY_KEY_REUSED".into()));
        assert_eq!(balance(&wallets).await, 2500);
        assert_eq!(cards.calls(), 1);
    }

    #[tokio::test]
    async fn bad_amounts_cards_missing_keys_and_a_full_wallet_are_refused_uncharged() {
        let (wallets, cards) = (MemoryWallets::default(), MemoryCards::default());
        for (body, expected) in [
            (r#"{"points":0,"card_token":"tok_visa"}"#, "INVALID_POINTS"),
            (
                r#"{"points":1000001,"card_token":"tok_visa"}"#,
                "INVALID_POINTS",
            ),
            (r#"{"points":-5,"card_token":"tok_visa"}"#, "INVALID_POINTS"),
            (
                r#"{"points":"lots","card_token":"tok_visa"}"#,
                "INVALID_BODY",
            ),
            (r#"{"points":2500}"#, "INVALID_BODY"),
            (
                r#"{"points":2500,"card_token":"4242424242424242"}"#,
                "INVALID_CARD_TOKEN",
            ),
        ] {
            let res = handle(&wallets, &cards, &clock(), with_body(FIXTURE, body))
                .await
                .unwrap();
            assert_eq!(refusal(&res), (400, expected.into()), "{body}");
        }
        let res = handle(
            &wallets,
            &cards,
            &clock(),
            with_header(FIXTURE, "idempotency-key", None),
        )
        .await
        .unwrap();
        assert_eq!(refusal(&res), (400, "MISSING_IDEMPOTENCY_KEY".into()));
        assert_eq!(cards.calls(), 0);
        for n in 0..10 {
            let million = edit(FIXTURE, |json| {
                json["body"] = r#"{"points":1000000,"card_token":"tok_visa"}"#.into();
                json["headers"]["idempotency-key"] = format!("fill-the-wallet-{n}").into();
            });
            assert_eq!(post(&wallets, &cards, &million).await.status(), 201);
        }
        let full = with_header(FIXTURE, "idempotency-key", Some("one-point-too-many"));
        let res = handle(&wallets, &cards, &clock(), full).await.unwrap();
        assert_eq!(refusal(&res), (409, "BALANCE_LIMIT".into()));
        assert_eq!(balance(&wallets).await, 10_000_000);
        assert_eq!(
            cards.calls(),
            10,
            "a full wallet is refused before the charge"
        );
    }
}
