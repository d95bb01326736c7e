//! The company store in memory, with the DynamoDB adapter's guarantees:
//! all or nothing, the last owner kept, memberships bounded.

use std::collections::BTreeMap;
use std::sync::Mutex;

use crate::company::ports::{CompanyChange, CompanyReader, CompanyStore, StaffRefused};
use crate::company::{Company, Member};
use crate::identity::staff::MAX_MEMBERSHIPS;
use crate::identity::{CompanyId, StaffRole, UserId};
use crate::{AppError, EventEnvelope};

#[derive(Debug, Default)]
pub struct MemoryCompanies {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    companies: BTreeMap<CompanyId, Company>,
    staff: BTreeMap<(CompanyId, UserId), Member>,
    events: Vec<EventEnvelope>,
}

impl MemoryCompanies {
    /// Whether the company exists and is active.
    pub fn is_active(&self, id: &CompanyId) -> bool {
        self.state
            .lock()
            .expect("lock")
            .companies
            .get(id)
            .is_some_and(|c| c.status == crate::company::CompanyStatus::Active)
    }

    /// The activity events written, oldest first.
    pub fn events(&self) -> Vec<EventEnvelope> {
        self.state.lock().expect("lock").events.clone()
    }
}

impl State {
    fn owners(&self, company: &CompanyId) -> usize {
        self.staff
            .values()
            .filter(|m| &m.company_id == company && m.role == StaffRole::Owner)
            .count()
    }
}

impl CompanyReader for MemoryCompanies {
    async fn company(&self, id: &CompanyId) -> Result<Option<Company>, AppError> {
        Ok(self.state.lock().expect("lock").companies.get(id).cloned())
    }

    async fn memberships(&self, user: &UserId) -> Result<Vec<(CompanyId, StaffRole)>, AppError> {
        Ok(self
            .state
            .lock()
            .expect("lock")
            .staff
            .values()
            .filter(|m| &m.user_id == user)
            .map(|m| (m.company_id.clone(), m.role))
            .collect())
    }
}

impl CompanyStore for MemoryCompanies {
    async fn create(&self, company: &Company, activity: &EventEnvelope) -> Result<(), AppError> {
        let mut state = self.state.lock().expect("lock");
        if state.companies.contains_key(&company.id) {
            return Err(AppError::conflict("COMPANY_EXISTS", "the company exists"));
        }
        state.companies.insert(company.id.clone(), company.clone());
        state.events.push(activity.clone());
        Ok(())
    }

    async fn update(
        &self,
        id: &CompanyId,
        change: &CompanyChange,
        activity: &EventEnvelope,
    ) -> Result<Company, AppError> {
        let mut state = self.state.lock().expect("lock");
        let company = state
            .companies
            .get_mut(id)
            .ok_or_else(|| crate::company::service::company_not_found(id))?;
        if let Some(name) = &change.name {
            company.name.clone_from(name);
        }
        if let Some(email) = &change.contact_email {
            company.contact_email = email.clone();
        }
        if let Some(status) = change.status {
            company.status = status;
        }
        let company = company.clone();
        state.events.push(activity.clone());
        Ok(company)
    }

    async fn list(&self) -> Result<Vec<Company>, AppError> {
        let mut all: Vec<Company> = self
            .state
            .lock()
            .expect("lock")
            .companies
            .values()
            .cloned()
            .collect();
        all.sort_by_key(|c| c.name.to_lowercase());
        Ok(all)
    }

    async fn staff(&self, id: &CompanyId) -> Result<Vec<Member>, AppError> {
        Ok(self
            .state
            .lock()
            .expect("lock")
            .staff
            .values()
            .filter(|m| &m.company_id == id)
            .cloned()
            .collect())
    }

    async fn put_member(
        &self,
        member: &Member,
        previous: Option<StaffRole>,
        activity: &EventEnvelope,
    ) -> Result<(), StaffRefused> {
        let mut state = self.state.lock().expect("lock");
        let key = (member.company_id.clone(), member.user_id.clone());
        if state.staff.get(&key).map(|m| m.role) != previous {
            return Err(StaffRefused::Moved);
        }
        if previous == Some(StaffRole::Owner)
            && member.role != StaffRole::Owner
            && state.owners(&member.company_id) <= 1
        {
            return Err(StaffRefused::LastOwner);
        }
        let held = state
            .staff
            .values()
            .filter(|m| m.user_id == member.user_id)
            .count();
        if previous.is_none() && held >= MAX_MEMBERSHIPS {
            return Err(StaffRefused::TooManyMemberships);
        }
        state.staff.insert(key, member.clone());
        state.events.push(activity.clone());
        Ok(())
    }

    async fn remove_member(
        &self,
        member: &Member,
        activity: &EventEnvelope,
    ) -> Result<(), StaffRefused> {
        let mut state = self.state.lock().expect("lock");
        let key = (member.company_id.clone(), member.user_id.clone());
        if state.staff.get(&key).map(|m| m.role) != Some(member.role) {
            return Err(StaffRefused::Moved);
        }
        if member.role == StaffRole::Owner && state.owners(&member.company_id) <= 1 {
            return Err(StaffRefused::LastOwner);
        }
        state.staff.remove(&key);
        state.events.push(activity.clone());
        Ok(())
    }
}
