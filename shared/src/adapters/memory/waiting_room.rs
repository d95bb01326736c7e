//! The waiting-room store in memory, with the DynamoDB adapter's
//! guarantees: one ticket per account and room, every progress write all
//! or nothing and only from the version it read, tickets moved only from
//! the state a write expects. The places left on the protected resources
//! are what the test sets (`set_remaining`); the gates it puts are kept
//! here, not on a catalog's resources (so it does not check that they
//! exist, nor that a closing room's gates are its own).
//!
//! What it does not model: the index lagging behind the table (a ticket
//! positioned is in the queue at once, so the admitter never meets a gap),
//! and the per-shard pages of arrivals (it returns the oldest `limit` of
//! all of them, in the order the sharded read ends up with).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use chrono::{DateTime, NaiveDate, Utc};

use crate::catalog::ResourceId;
use crate::identity::UserId;
use crate::waiting_room::admission::{Arrival, Candidate};
use crate::waiting_room::ports::{Advance, Lapsed, WaitingRooms};
use crate::waiting_room::{Progress, Room, RoomId, RoomStatus, Ticket, TicketState};
use crate::{AppError, EventEnvelope};

#[derive(Debug, Default)]
pub struct MemoryWaitingRooms {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    rooms: BTreeMap<RoomId, (Room, Progress)>,
    done: BTreeMap<RoomId, u64>,
    gated: BTreeSet<ResourceId>,
    tickets: BTreeMap<(RoomId, UserId), Ticket>,
    remaining: BTreeMap<RoomId, u64>,
    /// Rooms whose stock cannot be read (fault injection).
    unreadable: BTreeSet<RoomId>,
    events: Vec<EventEnvelope>,
}

impl MemoryWaitingRooms {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().expect("lock")
    }

    /// The places left on the room's resources from now on (unset: not
    /// counted, as for rooms by the range).
    pub fn set_remaining(&self, room: &RoomId, places: u64) {
        self.state().remaining.insert(room.clone(), places);
    }

    /// From now on, reading the room's stock fails (as a throttled or
    /// broken read would).
    pub fn break_stock(&self, room: &RoomId) {
        self.state().unreadable.insert(room.clone());
    }

    /// What a booking's transaction does with a pass: the admitted ticket
    /// is used and its place under the cap is free. `false`: not this
    /// ticket's pass, or not admitted.
    pub fn use_pass(&self, room: &RoomId, user: &UserId, pass_id: &str) -> bool {
        let mut state = self.state();
        let Some(ticket) = state.tickets.get_mut(&(room.clone(), user.clone())) else {
            return false;
        };
        if ticket.state != TicketState::Admitted || ticket.pass_id.as_deref() != Some(pass_id) {
            return false;
        }
        ticket.state = TicketState::Used;
        *state.done.entry(room.clone()).or_default() += 1;
        true
    }

    /// Every event written, oldest first.
    pub fn events(&self) -> Vec<EventEnvelope> {
        self.state().events.clone()
    }

    /// Every ticket of the room, by user.
    pub fn tickets(&self, room: &RoomId) -> Vec<Ticket> {
        self.state()
            .tickets
            .iter()
            .filter(|((r, _), _)| r == room)
            .map(|(_, t)| t.clone())
            .collect()
    }
}

impl WaitingRooms for MemoryWaitingRooms {
    async fn create(&self, room: &Room, activity: &EventEnvelope) -> Result<(), AppError> {
        let mut state = self.state();
        if state.rooms.contains_key(&room.id)
            || room.resource_ids.iter().any(|r| state.gated.contains(r))
        {
            return Err(AppError::conflict(
                "RESOURCE_PROTECTED",
                "one of the resources is already behind a waiting room",
            ));
        }
        let progress = Progress {
            prequeue_done: room.sale_opens_at.is_none(),
            ..Progress::default()
        };
        state
            .rooms
            .insert(room.id.clone(), (room.clone(), progress));
        state.done.insert(room.id.clone(), 0);
        state.gated.extend(room.resource_ids.iter().cloned());
        state.events.push(activity.clone());
        Ok(())
    }

    async fn get(&self, id: &RoomId) -> Result<Option<(Room, Progress)>, AppError> {
        Ok(self.state().rooms.get(id).cloned())
    }

    async fn update(
        &self,
        room: &Room,
        version: u64,
        activity: &EventEnvelope,
    ) -> Result<bool, AppError> {
        let mut state = self.state();
        let Some((stored, progress)) = state.rooms.get_mut(&room.id) else {
            return Ok(false);
        };
        if progress.version != version {
            return Ok(false);
        }
        // What the DynamoDB update sets; the resources and the opening stay.
        stored.name.clone_from(&room.name);
        stored.settings = room.settings;
        stored.status = room.status;
        stored.updated_at = room.updated_at;
        progress.version += 1;
        if room.status == RoomStatus::Closed {
            let resources = stored.resource_ids.clone();
            for r in &resources {
                state.gated.remove(r);
            }
        }
        state.events.push(activity.clone());
        Ok(true)
    }

    async fn live(&self) -> Result<Vec<(Room, Progress)>, AppError> {
        Ok(self
            .state()
            .rooms
            .values()
            .filter(|(room, _)| room.status != RoomStatus::Closed)
            .cloned()
            .collect())
    }

    async fn done(&self, id: &RoomId) -> Result<u64, AppError> {
        Ok(self.state().done.get(id).copied().unwrap_or(0))
    }

    async fn remaining(&self, room: &Room, _from: NaiveDate) -> Result<Option<u64>, AppError> {
        let state = self.state();
        if state.unreadable.contains(&room.id) {
            return Err(AppError::Unavailable {
                code: "STOCK_UNREADABLE",
                message: format!("the stock of room {} cannot be read", room.id),
            });
        }
        Ok(state.remaining.get(&room.id).copied())
    }

    async fn enter(&self, ticket: &Ticket) -> Result<Option<Ticket>, AppError> {
        let mut state = self.state();
        let key = (ticket.room_id.clone(), ticket.user_id.clone());
        if let Some(held) = state.tickets.get(&key) {
            return Ok(Some(held.clone()));
        }
        state.tickets.insert(key, ticket.clone());
        Ok(None)
    }

    async fn ticket(&self, room: &RoomId, user: &UserId) -> Result<Option<Ticket>, AppError> {
        Ok(self
            .state()
            .tickets
            .get(&(room.clone(), user.clone()))
            .cloned())
    }

    async fn touch(&self, ticket: &Ticket, now: DateTime<Utc>) -> Result<(), AppError> {
        let mut state = self.state();
        if let Some(t) = state
            .tickets
            .get_mut(&(ticket.room_id.clone(), ticket.user_id.clone()))
            && t.state == TicketState::Waiting
        {
            t.seen_at = now;
        }
        Ok(())
    }

    async fn abandon(&self, ticket: &Ticket) -> Result<(), AppError> {
        let mut state = self.state();
        if let Some(t) = state
            .tickets
            .get_mut(&(ticket.room_id.clone(), ticket.user_id.clone()))
            && t.state == TicketState::Waiting
            && t.seen_at == ticket.seen_at
        {
            t.state = TicketState::Abandoned;
        }
        Ok(())
    }

    async fn arrivals(
        &self,
        room: &RoomId,
        before: Option<DateTime<Utc>>,
        limit: usize,
    ) -> Result<Vec<Arrival>, AppError> {
        let state = self.state();
        let mut arrivals: Vec<&Ticket> = state
            .tickets
            .iter()
            .filter(|((r, _), t)| {
                r == room && t.position.is_none() && before.is_none_or(|at| t.entered_at < at)
            })
            .map(|(_, t)| t)
            .collect();
        arrivals.sort_by(|a, b| (a.entered_at, &a.user_id).cmp(&(b.entered_at, &b.user_id)));
        Ok(arrivals
            .into_iter()
            .take(limit)
            .map(|t| Arrival {
                user_id: t.user_id.clone(),
                entered_at: t.entered_at,
                lottery: t.lottery,
                prequeue: t.prequeue,
            })
            .collect())
    }

    async fn queue(
        &self,
        room: &RoomId,
        cursor: u64,
        limit: usize,
    ) -> Result<Vec<Candidate>, AppError> {
        let state = self.state();
        // The index keeps a positioned ticket until it is admitted or
        // skipped; one abandoned by a poll stays, for the admitter to skip.
        let mut queue: Vec<Candidate> = state
            .tickets
            .iter()
            .filter(|((r, _), t)| {
                r == room
                    && t.position.is_some_and(|p| p > cursor)
                    && matches!(t.state, TicketState::Waiting | TicketState::Abandoned)
            })
            .map(|(_, t)| Candidate {
                user_id: t.user_id.clone(),
                position: t.position.unwrap_or(0),
                seen_at: t.seen_at,
            })
            .collect();
        queue.sort_unstable_by_key(|c| c.position);
        queue.truncate(limit);
        Ok(queue)
    }

    async fn lapsed(
        &self,
        room: &RoomId,
        before: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<Lapsed>, AppError> {
        let state = self.state();
        let mut lapsed: Vec<&Ticket> = state
            .tickets
            .iter()
            .filter(|((r, _), t)| {
                r == room
                    && t.state == TicketState::Admitted
                    && t.pass_expires_at.is_some_and(|at| at < before)
            })
            .map(|(_, t)| t)
            .collect();
        lapsed.sort_by_key(|t| (t.pass_expires_at, t.user_id.clone()));
        Ok(lapsed
            .into_iter()
            .take(limit)
            .filter_map(|t| {
                t.pass_id.clone().map(|pass_id| Lapsed {
                    user_id: t.user_id.clone(),
                    pass_id,
                })
            })
            .collect())
    }

    async fn expire(&self, room: &RoomId, lapsed: &[Lapsed]) -> Result<bool, AppError> {
        let mut state = self.state();
        let admitted = |t: Option<&Ticket>, pass: &str| {
            t.is_some_and(|t| {
                t.state == TicketState::Admitted && t.pass_id.as_deref() == Some(pass)
            })
        };
        if !lapsed.iter().all(|l| {
            admitted(
                state.tickets.get(&(room.clone(), l.user_id.clone())),
                &l.pass_id,
            )
        }) {
            return Ok(false);
        }
        for l in lapsed {
            if let Some(t) = state.tickets.get_mut(&(room.clone(), l.user_id.clone())) {
                t.state = TicketState::Expired;
            }
        }
        *state.done.entry(room.clone()).or_default() += lapsed.len() as u64;
        Ok(true)
    }

    async fn advance(
        &self,
        room: &RoomId,
        version: u64,
        progress: &Progress,
        advance: Advance<'_>,
    ) -> Result<bool, AppError> {
        let mut state = self.state();
        if state
            .rooms
            .get(room)
            .is_none_or(|(_, p)| p.version != version)
        {
            return Ok(false);
        }
        let ticket = |state: &State, user: &UserId| {
            state.tickets.get(&(room.clone(), user.clone())).cloned()
        };
        // Every condition first, as one transaction checks them all.
        let fits = match &advance {
            Advance::Position(batch) => batch
                .iter()
                .all(|(user, _)| ticket(&state, user).is_some_and(|t| t.position.is_none())),
            Advance::Admit { admitted, skipped } => {
                admitted.iter().all(|a| {
                    ticket(&state, &a.user_id).is_some_and(|t| {
                        t.state == TicketState::Waiting && t.position == Some(a.position)
                    })
                }) && skipped.iter().all(|(user, seen_at)| {
                    ticket(&state, user).is_some_and(|t| {
                        matches!(t.state, TicketState::Waiting | TicketState::Abandoned)
                            && t.seen_at == *seen_at
                    })
                })
            }
            Advance::Figures(_) | Advance::Nothing => true,
        };
        if !fits {
            return Ok(false);
        }
        match advance {
            Advance::Position(batch) => {
                for (user, position) in batch {
                    if let Some(t) = state.tickets.get_mut(&(room.clone(), user.clone())) {
                        t.position = Some(*position);
                    }
                }
            }
            Advance::Admit { admitted, skipped } => {
                for a in admitted {
                    if let Some(t) = state.tickets.get_mut(&(room.clone(), a.user_id.clone())) {
                        t.state = TicketState::Admitted;
                        t.admission_no = Some(a.admission_no);
                        t.pass_id = Some(a.pass_id.clone());
                        t.pass_expires_at = Some(a.pass_expires_at);
                    }
                    state.events.push(a.event.clone());
                }
                for (user, _) in skipped {
                    if let Some(t) = state.tickets.get_mut(&(room.clone(), user.clone())) {
                        t.state = TicketState::Abandoned;
                    }
                }
            }
            Advance::Figures(event) => state.events.push(event.clone()),
            Advance::Nothing => {}
        }
        if let Some((_, p)) = state.rooms.get_mut(room) {
            *p = *progress;
        }
        Ok(true)
    }
}
