//! Twins of the notification adapters: the ledger, inbox and preferences
//! (DynamoDB), and the providers (SES, SNS), which record what they were
//! given and can be told to fail.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::Mutex;

use chrono::{DateTime, Utc};

use crate::AppError;
use crate::identity::{Phone, UserId};
use crate::kernel::{Page, PageRequest};
use crate::notification::ports::{
    Claim, Inbox, Mailer, OutgoingMail, PreferenceStore, ReminderSchedule, SendError, SendLedger,
    Settled, Texter,
};
use crate::notification::reminder::Reminder;
use crate::notification::{Channel, InboxEntry, InboxId, NoticeKey, Preferences};

/// One ledger record, as the twin keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LedgerRecord {
    Sending { lease_until: DateTime<Utc> },
    Settled(Settled),
}

/// The ledger, every inbox and the preferences, in memory.
#[derive(Debug, Default)]
pub struct MemoryNotifications {
    ledger: Mutex<HashMap<(String, Channel), LedgerRecord>>,
    inboxes: Mutex<HashMap<UserId, BTreeMap<InboxId, InboxEntry>>>,
    preferences: Mutex<HashMap<UserId, Preferences>>,
    /// By due time, then the reminder.
    reminders: Mutex<BTreeSet<(DateTime<Utc>, Reminder)>>,
}

impl MemoryNotifications {
    pub fn record(&self, key: &NoticeKey, channel: Channel) -> Option<LedgerRecord> {
        self.ledger
            .lock()
            .expect("lock")
            .get(&(key.as_str().to_owned(), channel))
            .cloned()
    }

    /// Every reminder still scheduled, the earliest first.
    pub fn scheduled(&self) -> Vec<Reminder> {
        let reminders = self.reminders.lock().expect("lock");
        reminders.iter().map(|(_, r)| r.clone()).collect()
    }

    pub fn inbox(&self, user: &UserId) -> Vec<InboxEntry> {
        let inboxes = self.inboxes.lock().expect("lock");
        inboxes
            .get(user)
            .map(|entries| entries.values().rev().cloned().collect())
            .unwrap_or_default()
    }
}

impl SendLedger for MemoryNotifications {
    async fn claim(
        &self,
        key: &NoticeKey,
        channel: Channel,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<Claim, AppError> {
        let mut ledger = self.ledger.lock().expect("lock");
        let slot = ledger.entry((key.as_str().to_owned(), channel));
        match slot {
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(LedgerRecord::Sending { lease_until });
                Ok(Claim::Go)
            }
            std::collections::hash_map::Entry::Occupied(mut o) => match o.get() {
                LedgerRecord::Settled(_) => Ok(Claim::Done),
                LedgerRecord::Sending { lease_until: held } if *held > now => Ok(Claim::Busy),
                LedgerRecord::Sending { .. } => {
                    o.insert(LedgerRecord::Sending { lease_until });
                    Ok(Claim::Go)
                }
            },
        }
    }

    async fn settle(
        &self,
        key: &NoticeKey,
        channel: Channel,
        settled: &Settled,
        _now: DateTime<Utc>,
    ) -> Result<(), AppError> {
        self.ledger.lock().expect("lock").insert(
            (key.as_str().to_owned(), channel),
            LedgerRecord::Settled(settled.clone()),
        );
        Ok(())
    }

    async fn release(&self, key: &NoticeKey, channel: Channel) -> Result<(), AppError> {
        let mut ledger = self.ledger.lock().expect("lock");
        let id = (key.as_str().to_owned(), channel);
        if matches!(ledger.get(&id), Some(LedgerRecord::Sending { .. })) {
            ledger.remove(&id);
        }
        Ok(())
    }
}

impl Inbox for MemoryNotifications {
    async fn deliver(&self, user: &UserId, entry: &InboxEntry) -> Result<bool, AppError> {
        let mut inboxes = self.inboxes.lock().expect("lock");
        let inbox = inboxes.entry(user.clone()).or_default();
        if inbox.contains_key(&entry.id) {
            return Ok(false);
        }
        inbox.insert(entry.id.clone(), entry.clone());
        Ok(true)
    }

    async fn list(
        &self,
        user: &UserId,
        page: PageRequest<'_>,
    ) -> Result<Page<InboxEntry>, AppError> {
        let after = page.cursor.map(InboxId::parse).transpose().map_err(|_| {
            AppError::validation("INVALID_CURSOR", "cursor is not one this API returned")
        })?;
        let all = self.inbox(user);
        let items: Vec<InboxEntry> = all
            .into_iter()
            .filter(|e| after.as_ref().is_none_or(|after| e.id < *after))
            .take(page.limit as usize + 1)
            .collect();
        let more = items.len() > page.limit as usize;
        let items: Vec<InboxEntry> = items.into_iter().take(page.limit as usize).collect();
        let next_cursor = more
            .then(|| items.last().map(|e| e.id.to_string()))
            .flatten();
        Ok(Page { items, next_cursor })
    }

    async fn mark_read(
        &self,
        user: &UserId,
        id: &InboxId,
        now: DateTime<Utc>,
    ) -> Result<Option<InboxEntry>, AppError> {
        let mut inboxes = self.inboxes.lock().expect("lock");
        let Some(entry) = inboxes.get_mut(user).and_then(|inbox| inbox.get_mut(id)) else {
            return Ok(None);
        };
        entry.read_at.get_or_insert(now);
        Ok(Some(entry.clone()))
    }

    async fn clear(&self, user: &UserId) -> Result<u32, AppError> {
        let removed = self.inboxes.lock().expect("lock").remove(user);
        Ok(removed.map_or(0, |entries| entries.len() as u32))
    }
}

impl PreferenceStore for MemoryNotifications {
    async fn preferences(&self, user: &UserId) -> Result<Preferences, AppError> {
        Ok(self
            .preferences
            .lock()
            .expect("lock")
            .get(user)
            .copied()
            .unwrap_or_default())
    }

    async fn set_preferences(
        &self,
        user: &UserId,
        preferences: &Preferences,
        _now: DateTime<Utc>,
    ) -> Result<(), AppError> {
        self.preferences
            .lock()
            .expect("lock")
            .insert(user.clone(), *preferences);
        Ok(())
    }

    async fn forget(&self, user: &UserId) -> Result<(), AppError> {
        self.preferences.lock().expect("lock").remove(user);
        Ok(())
    }
}

impl ReminderSchedule for MemoryNotifications {
    async fn schedule(&self, reminders: &[Reminder]) -> Result<(), AppError> {
        let mut scheduled = self.reminders.lock().expect("lock");
        for r in reminders {
            scheduled.insert((r.due_at(), r.clone()));
        }
        Ok(())
    }

    async fn due(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<Reminder>, AppError> {
        let scheduled = self.reminders.lock().expect("lock");
        Ok(scheduled
            .iter()
            .take_while(|(due, _)| *due <= now)
            .take(limit as usize)
            .map(|(_, r)| r.clone())
            .collect())
    }

    async fn finish(&self, reminder: &Reminder) -> Result<(), AppError> {
        self.reminders
            .lock()
            .expect("lock")
            .remove(&(reminder.due_at(), reminder.clone()));
        Ok(())
    }
}

/// The email and SMS providers: records what they took, and fails the
/// next sends of a channel as told.
#[derive(Debug, Default)]
pub struct MemoryPostOffice {
    mails: Mutex<Vec<OutgoingMail>>,
    texts: Mutex<Vec<(Phone, String)>>,
    failures: Mutex<HashMap<Channel, VecDeque<SendError>>>,
}

impl MemoryPostOffice {
    /// Makes the next sends by `channel` fail with `errors`, in order.
    pub fn fail_next(&self, channel: Channel, errors: impl IntoIterator<Item = SendError>) {
        self.failures
            .lock()
            .expect("lock")
            .entry(channel)
            .or_default()
            .extend(errors);
    }

    pub fn mails(&self) -> Vec<OutgoingMail> {
        self.mails.lock().expect("lock").clone()
    }

    pub fn texts(&self) -> Vec<(Phone, String)> {
        self.texts.lock().expect("lock").clone()
    }

    fn failure(&self, channel: Channel) -> Option<SendError> {
        self.failures
            .lock()
            .expect("lock")
            .get_mut(&channel)
            .and_then(VecDeque::pop_front)
    }
}

impl Mailer for MemoryPostOffice {
    async fn send_mail(&self, mail: &OutgoingMail) -> Result<String, SendError> {
        if let Some(error) = self.failure(Channel::Email) {
            return Err(error);
        }
        let mut mails = self.mails.lock().expect("lock");
        mails.push(mail.clone());
        Ok(format!("mail-{}", mails.len()))
    }
}

impl Texter for MemoryPostOffice {
    async fn send_sms(&self, to: &Phone, text: &str) -> Result<String, SendError> {
        if let Some(error) = self.failure(Channel::Sms) {
            return Err(error);
        }
        let mut texts = self.texts.lock().expect("lock");
        texts.push((to.clone(), text.to_owned()));
        Ok(format!("sms-{}", texts.len()))
    }
}
