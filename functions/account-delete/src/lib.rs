//! DELETE /me: the caller deletes their own account, with their current
//! password. Refused (409, a stable code each) while the account has
//! unpaid or upcoming bookings, a refund on its way, staff memberships, or
//! points in its wallet without `forfeit_points: true`. Then the account,
//! its email claim and login counter go in one transaction with the
//! wallet's write-off and `UserDeleted`, and every session ends; bookings
//! and the ledger keep the user id alone. See `shared::account`.

use lambda_http::{Body, Request, Response};
use shared::account::{AccountPorts, delete_account};
use shared::booking::ports::BookingReader;
use shared::clock::Clock;
use shared::company::ports::CompanyReader;
use shared::http::{caller, correlation_id, parse_json, respond};
use shared::identity::profile::DeleteAccountRequest;
use shared::payment::ports::{PaymentStore, WalletStore};
use shared::ports::{AccountCloser, LoginAttempts, SessionStore, UserStore};

pub async fn handle<I, B, P, C, X>(
    ports: &AccountPorts<'_, I, B, P, C, X>,
    clock: &impl Clock,
    req: Request,
) -> Result<Response<Body>, lambda_http::Error>
where
    I: UserStore + SessionStore + LoginAttempts,
    B: BookingReader,
    P: PaymentStore + WalletStore,
    C: CompanyReader,
    X: AccountCloser,
{
    let correlation_id = correlation_id(&req);
    let result = async {
        let caller = caller(&req)?;
        let request: DeleteAccountRequest = parse_json(&req)?;
        delete_account(ports, &caller, request, &correlation_id, clock.now()).await
    }
    .await;
    Ok(respond(200, result, &correlation_id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::adapters::memory::{
        MemoryAccounts, MemoryBookings, MemoryCompanies, MemoryIdentity, MemoryWallets,
    };
    use shared::booking::BookingStatus;
    use shared::booking::ports::BookingReader;
    use shared::clock::FixedClock;
    use shared::company::ports::CompanyStore;
    use shared::identity::service::{LoginPolicy, SignupRequest, signup};
    use shared::identity::{Email, UserId};
    use shared::payment::RefundPolicy;
    use shared::payment::ports::WalletStore;
    use shared::testing::{body, booking, edit, payment, refusal, with_body};
    use shared::{CorrelationId, EventType};

    const FIXTURE: &str = include_str!("../../../events/account-delete/delete-me.json");
    const PASSWORD: &str = "correct horse 7 battery";

    struct World {
        identity: MemoryIdentity,
        bookings: MemoryBookings,
        wallets: MemoryWallets,
        companies: MemoryCompanies,
        login: LoginPolicy,
        refunds: RefundPolicy,
    }

    impl World {
        fn new() -> Self {
            Self {
                identity: MemoryIdentity::default(),
                bookings: MemoryBookings::default(),
                wallets: MemoryWallets::default(),
                companies: MemoryCompanies::default(),
                login: LoginPolicy::default(),
                refunds: RefundPolicy::default(),
            }
        }

        async fn account(&self) -> UserId {
            let profile = signup(
                &self.identity,
                SignupRequest {
                    email: "ada@example.com".into(),
                    password: PASSWORD.into(),
                    name: "Ada Lovelace".into(),
                    phone: "+44 20 7946 0958".into(),
                    language: None,
                },
                &CorrelationId::generate(),
                payment::now(),
            )
            .await
            .unwrap();
            UserId::parse(&profile.id).unwrap()
        }

        async fn delete(&self, user: &UserId, body: &str) -> Response<Body> {
            let accounts = MemoryAccounts {
                identity: &self.identity,
                wallets: &self.wallets,
            };
            let ports = AccountPorts {
                identity: &self.identity,
                bookings: &self.bookings,
                payments: &self.wallets,
                companies: &self.companies,
                closer: &accounts,
                login: &self.login,
                refunds: &self.refunds,
            };
            let fixture = edit(FIXTURE, |json| {
                json["requestContext"]["authorizer"]["lambda"]["user_id"] = user.as_str().into();
            });
            handle(
                &ports,
                &FixedClock::at(payment::now()),
                with_body(&fixture, body),
            )
            .await
            .unwrap()
        }

        fn deleted_events(&self) -> usize {
            self.identity
                .events()
                .iter()
                .filter(|e| e.event_type == EventType::UserDeleted)
                .count()
        }
    }

    fn with_password(password: &str) -> String {
        format!(r#"{{"password":"{password}"}}"#)
    }

    #[tokio::test]
    async fn a_deleted_account_is_gone_and_its_email_free() {
        let world = World::new();
        let user = world.account().await;
        let res = world.delete(&user, &with_password(PASSWORD)).await;
        assert_eq!(res.status(), 200);
        assert_eq!(body(&res)["points_forfeited"], 0);
        assert!(world.identity.get(&user).await.unwrap().is_none());
        let email = Email::parse("ada@example.com").unwrap();
        assert!(
            world
                .identity
                .find_by_email(&email)
                .await
                .unwrap()
                .is_none()
        );
        assert_eq!(world.deleted_events(), 1);
    }

    #[tokio::test]
    async fn a_wrong_password_deletes_nothing() {
        let world = World::new();
        let user = world.account().await;
        let res = world
            .delete(&user, &with_password("wrong horse 7 battery"))
            .await;
        assert_eq!(refusal(&res), (403, "WRONG_PASSWORD".to_owned()));
        assert!(world.identity.get(&user).await.unwrap().is_some());
        assert_eq!(world.deleted_events(), 0);
    }

    #[tokio::test]
    async fn points_go_only_with_consent_and_leave_a_forfeit_entry() {
        let world = World::new();
        let user = world.account().await;
        payment::fund(&world.wallets, &user, 300).await;
        let res = world.delete(&user, &with_password(PASSWORD)).await;
        assert_eq!(refusal(&res), (409, "WALLET_NOT_EMPTY".to_owned()));
        assert_eq!(world.wallets.balance(&user), 300);
        let consent = format!(r#"{{"password":"{PASSWORD}","forfeit_points":true}}"#);
        let res = world.delete(&user, &consent).await;
        assert_eq!(res.status(), 200);
        assert_eq!(body(&res)["points_forfeited"], 300);
        assert_eq!(world.wallets.balance(&user), 0);
        let ledger = world.wallets.wallet(&user, 10, None).await.unwrap().ledger;
        assert_eq!(ledger[0].kind, shared::payment::LedgerKind::Forfeit);
        assert_eq!(ledger[0].points, -300);
    }

    #[tokio::test]
    async fn an_unpaid_or_upcoming_booking_keeps_the_account() {
        for status in [BookingStatus::Pending, BookingStatus::Confirmed] {
            let world = World::new();
            let user = world.account().await;
            let mut booking = booking::booking_of(shared::kernel::BookingId::generate(), &user, 0);
            booking.status = status;
            booking.starts_at = (payment::now() + chrono::Duration::days(3)).fixed_offset();
            world.bookings.insert(booking, Vec::new());
            let res = world.delete(&user, &with_password(PASSWORD)).await;
            assert_eq!(refusal(&res), (409, "ACCOUNT_HAS_LIVE_BOOKINGS".to_owned()));
            assert!(world.identity.get(&user).await.unwrap().is_some());
        }
    }

    #[tokio::test]
    async fn a_past_booking_does_not_keep_the_account() {
        let world = World::new();
        let user = world.account().await;
        let mut booking = booking::booking_of(shared::kernel::BookingId::generate(), &user, 0);
        booking.status = BookingStatus::Confirmed;
        booking.starts_at = (payment::now() - chrono::Duration::days(3)).fixed_offset();
        world.bookings.insert(booking.clone(), Vec::new());
        let res = world.delete(&user, &with_password(PASSWORD)).await;
        assert_eq!(res.status(), 200);
        let kept = world.bookings.get(&booking.id).await.unwrap().unwrap();
        assert_eq!(
            kept.user_id, user,
            "the booking keeps its anonymous reference"
        );
    }

    #[tokio::test]
    async fn a_refund_still_owed_keeps_the_account_until_it_arrives() {
        use shared::payment::ports::PaymentStore;
        let world = World::new();
        let user = world.account().await;
        payment::fund(&world.wallets, &user, 5000).await;
        let mut booking = booking::booking_of(shared::kernel::BookingId::generate(), &user, 0);
        booking.status = BookingStatus::Cancelled;
        booking.payment = Some(shared::payment::PaymentMethod::Wallet);
        booking.starts_at = (payment::now() + chrono::Duration::days(20)).fixed_offset();
        booking.updated_at = payment::now();
        world.bookings.insert(booking.clone(), Vec::new());
        let paid = shared::payment::new_payment(
            &booking.id,
            &user,
            shared::payment::PaymentMethod::Wallet,
            2000,
            payment::now(),
        );
        let paid = world
            .wallets
            .pay_from_wallet(&paid, &CorrelationId::generate())
            .await
            .unwrap();
        let consent = format!(r#"{{"password":"{PASSWORD}","forfeit_points":true}}"#);
        let res = world.delete(&user, &consent).await;
        assert_eq!(
            refusal(&res),
            (409, "ACCOUNT_HAS_PENDING_REFUND".to_owned())
        );
        world
            .wallets
            .refund_to_wallet(
                &paid,
                2000,
                "cancelled",
                &CorrelationId::generate(),
                payment::now(),
            )
            .await
            .unwrap();
        let res = world.delete(&user, &consent).await;
        assert_eq!(res.status(), 200);
        assert_eq!(body(&res)["points_forfeited"], 5000);
    }

    #[tokio::test]
    async fn staff_must_leave_their_companies_first() {
        let world = World::new();
        let user = world.account().await;
        let member = shared::company::Member {
            company_id: shared::testing::catalog::company_id(),
            user_id: user.clone(),
            role: shared::identity::StaffRole::Viewer,
            added_at: payment::now(),
        };
        let activity = shared::EventEnvelope::of(
            &shared::events::Ping::Diagnostic {
                note: "staff".into(),
            },
            CorrelationId::generate(),
        )
        .unwrap();
        world
            .companies
            .put_member(&member, None, &activity)
            .await
            .unwrap();
        let res = world.delete(&user, &with_password(PASSWORD)).await;
        assert_eq!(refusal(&res), (409, "ACCOUNT_IS_STAFF".to_owned()));
    }

    #[tokio::test]
    async fn without_a_password_nothing_is_read() {
        let world = World::new();
        let user = world.account().await;
        let res = world.delete(&user, "{}").await;
        assert_eq!(refusal(&res).0, 400);
    }
}
