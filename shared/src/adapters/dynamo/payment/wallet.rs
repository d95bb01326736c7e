//! Wallets and their ledgers: every balance change one transaction with
//! its ledger entry, retried on the new balance when it loses a race.

use super::*;

/// A balance change: which wallet, by how much, why.
pub(super) struct Movement<'a> {
    pub user: &'a UserId,
    pub points: i64,
    pub kind: LedgerKind,
    pub booking: Option<&'a BookingId>,
    /// Where credited points come from.
    pub credit: Option<Credit<'a>>,
    pub now: DateTime<Utc>,
}

impl Movement<'_> {
    /// Only credits are held to [`MAX_BALANCE`]: a refund always goes back.
    pub(super) fn capped(&self) -> bool {
        self.credit.is_some()
    }
}

/// The transaction items of one balance change besides the wallet's own,
/// given the entry it writes.
pub(super) type Extra<'a> =
    dyn Fn(&LedgerEntry) -> Result<Vec<TransactWriteItem>, AppError> + Send + Sync + 'a;

/// What a balance change led to.
pub(super) enum Moved {
    Done(LedgerEntry),
    /// The balance does not cover the change.
    Short,
    /// One of the extra items' conditions failed.
    Refused,
}

impl DynamoPayments {
    /// The wallet's balance: 0 for a wallet never charged.
    async fn balance(&self, user: &UserId) -> Result<Option<u64>, AppError> {
        let Some(item) =
            get_consistent(&self.client, &self.table, wallet_pk(user), "WALLET").await?
        else {
            return Ok(None);
        };
        item.get("balance")
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse().ok())
            .map(Some)
            .ok_or_else(|| AppError::internal("reading a wallet", "the balance is not a number"))
    }

    /// Moves `movement.points` in or out of a wallet with a ledger entry and
    /// `extra` items, in one transaction conditional on the balance read.
    /// A change that lost a race with another change of the same wallet is
    /// tried again on the new balance.
    pub(super) async fn move_points(
        &self,
        movement: &Movement<'_>,
        extra: &Extra<'_>,
    ) -> Result<Moved, AppError> {
        for attempt in 0..BALANCE_ATTEMPTS {
            let old = self.balance(movement.user).await?;
            let current = old.unwrap_or(0);
            let Some(after) = current
                .checked_add_signed(movement.points)
                .filter(|after| !movement.capped() || *after <= MAX_BALANCE)
            else {
                return Ok(Moved::Short);
            };
            let entry = LedgerEntry {
                entry_id: uuid::Uuid::now_v7().to_string(),
                kind: movement.kind,
                points: movement.points,
                balance_after: after,
                booking_id: movement.booking.cloned(),
                charge_id: match movement.credit {
                    Some(Credit::Card { charge_id }) => Some(charge_id.to_owned()),
                    _ => None,
                },
                reason: match movement.credit {
                    Some(Credit::Grant { reason, .. }) => Some(reason.to_owned()),
                    _ => None,
                },
                granted_by: match movement.credit {
                    Some(Credit::Grant { by, .. }) => Some(by.clone()),
                    _ => None,
                },
                at: movement.now,
            };
            let mut wallet = Update::builder()
                .table_name(&self.table)
                .key(keys::PK, s(wallet_pk(movement.user)))
                .key(keys::SK, s("WALLET"))
                .update_expression(
                    "SET balance = :after, user_id = :user, entity = :entity, updated_at = :now",
                )
                .expression_attribute_values(":after", n(after))
                .expression_attribute_values(":user", s(movement.user.to_string()))
                .expression_attribute_values(":entity", s("WALLET"))
                .expression_attribute_values(":now", s(movement.now.to_rfc3339()));
            wallet = match old {
                Some(balance) => wallet
                    .condition_expression("balance = :before")
                    .expression_attribute_values(":before", n(balance)),
                None => wallet.condition_expression("attribute_not_exists(PK)"),
            };
            let wallet = wallet
                .build()
                .map_err(|e| AppError::internal("building the wallet update", e))?;
            let ledger = LedgerItem::of(movement.user, &entry);
            let mut items = vec![
                TransactWriteItem::builder().update(wallet).build(),
                put_write(&self.table, ledger, Some("attribute_not_exists(PK)"))?,
            ];
            items.extend(extra(&entry)?);
            let err = match transact_write(&self.client, items).await {
                Ok(()) => return Ok(Moved::Done(entry)),
                Err(e) => e,
            };
            let Some(codes) = cancellation_codes(&err) else {
                return Err(transaction_error("moving points", err));
            };
            let failed = |i: usize| codes.get(i).is_some_and(|c| c == "ConditionalCheckFailed");
            if (2..codes.len()).any(failed) {
                return Ok(Moved::Refused);
            }
            if !failed(0) {
                return Err(transaction_error("moving points", err));
            }
            tracing::debug!(attempt, "the wallet changed meanwhile; trying again");
            tokio::time::sleep(crate::retry::backoff_with_jitter(
                attempt,
                std::time::Duration::from_millis(10),
                std::time::Duration::from_millis(200),
            ))
            .await;
        }
        Err(AppError::Unavailable {
            code: "CONTENTION",
            message: "this wallet is busy right now; try again".into(),
        })
    }

    /// Credits a wallet (a paid top-up or a grant), once per idempotency
    /// key, with its event.
    async fn add_points(&self, order: &CreditOrder<'_>) -> Result<ToppedUp, AppError> {
        let record_pk = order.record_key();
        if let Some(replay) = self.replay(&record_pk, order.fingerprint).await? {
            return Ok(replay);
        }
        let movement = Movement {
            user: order.user,
            points: i64::try_from(order.points.get()).unwrap_or(i64::MAX),
            kind: match order.credit {
                Credit::Card { .. } => LedgerKind::TopUp,
                Credit::Grant { .. } => LedgerKind::Grant,
            },
            booking: None,
            credit: Some(order.credit),
            now: order.now,
        };
        let extra = |entry: &LedgerEntry| {
            let record = TopUpRecord {
                pk: record_pk.clone(),
                sk: "IDEMPOTENCY".into(),
                entity: "IDEMPOTENCY".into(),
                fingerprint: order.fingerprint.to_owned(),
                response: serde_json::to_string(entry)
                    .map_err(|e| AppError::internal("encoding a ledger entry", e))?,
                expires_at: (order.now + Duration::hours(IDEMPOTENCY_HOURS)).timestamp(),
            };
            Ok(vec![
                put_write(&self.table, record, Some("attribute_not_exists(PK)"))?,
                self.outbox(&credit_event(order, entry)?)?,
            ])
        };
        match self.move_points(&movement, &extra).await? {
            Moved::Done(entry) => Ok(ToppedUp::New(entry)),
            Moved::Short => Err(AppError::conflict(
                "BALANCE_LIMIT",
                format!("a wallet holds at most {MAX_BALANCE} points"),
            )),
            Moved::Refused => self
                .replay(&record_pk, order.fingerprint)
                .await?
                .ok_or_else(|| {
                    AppError::internal("replaying a top-up", "idempotency record vanished")
                }),
        }
    }

    async fn replay(&self, pk: &str, fingerprint: &str) -> Result<Option<ToppedUp>, AppError> {
        Ok(stored_answer(&self.client, &self.table, pk, fingerprint)
            .await?
            .map(ToppedUp::Replayed))
    }

    /// The caller's balance and one page of the ledger, newest first.
    async fn wallet_page(
        &self,
        user: &UserId,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<WalletView, AppError> {
        let start = cursor
            .map(|c| {
                uuid::Uuid::parse_str(c).map_err(|_| {
                    AppError::validation("INVALID_CURSOR", "cursor is not one this API returned")
                })
            })
            .transpose()?
            .map(|id| {
                HashMap::from([
                    (keys::PK.to_owned(), s(wallet_pk(user))),
                    (keys::SK.to_owned(), s(format!("LEDGER#{id}"))),
                ])
            });
        let page = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("PK = :pk AND begins_with(SK, :ledger)")
            .expression_attribute_values(":pk", s(wallet_pk(user)))
            .expression_attribute_values(":ledger", s("LEDGER#"))
            .scan_index_forward(false)
            .limit(i32::try_from(limit).unwrap_or(100))
            .set_exclusive_start_key(start)
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| AppError::internal("reading a ledger", e))?;
        let ledger = page
            .items()
            .iter()
            .map(|i| {
                serde_dynamo::from_item::<_, LedgerItem>(i.clone())
                    .map(|l| l.entry)
                    .map_err(|e| AppError::internal("decoding a ledger entry", e))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let next_cursor = page
            .last_evaluated_key()
            .and(ledger.last())
            .map(|last| last.entry_id.clone());
        // On the first page the balance is the newest entry's balance_after:
        // every balance change writes its entry in the same transaction, so
        // the balance and the page come from one read and always agree (a
        // second read of the wallet could already see a later change).
        let balance = match (cursor, ledger.first()) {
            (None, Some(newest)) => newest.balance_after,
            _ => self.balance(user).await?.unwrap_or(0),
        };
        Ok(WalletView {
            user_id: user.clone(),
            balance,
            ledger,
            next_cursor,
        })
    }
}

impl WalletStore for DynamoPayments {
    async fn answer(&self, order: &CreditOrder<'_>) -> Result<Option<String>, AppError> {
        stored_answer(
            &self.client,
            &self.table,
            &order.record_key(),
            order.fingerprint,
        )
        .await
    }

    async fn credit(&self, order: &CreditOrder<'_>) -> Result<ToppedUp, AppError> {
        self.add_points(order).await
    }

    async fn wallet(
        &self,
        user: &UserId,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<WalletView, AppError> {
        self.wallet_page(user, limit, cursor).await
    }
}
