//! Dead-letter queues in memory.

use std::collections::BTreeMap;
use std::sync::Mutex;

use crate::AppError;
use crate::ports::{DeadLetter, DeadLetterQueues};

/// Dead-letter queues in memory, by consumer name: each holds the messages
/// that failed, and a redrive moves them back to the consumer's queue.
#[derive(Debug, Default)]
pub struct MemoryDeadLetters {
    queues: Mutex<BTreeMap<String, DeadLetterQueue>>,
}

/// One consumer's dead-letter queue, and what a redrive sent back.
#[derive(Debug, Default)]
struct DeadLetterQueue {
    dead: Vec<DeadLetter>,
    redriven: Vec<DeadLetter>,
}

impl MemoryDeadLetters {
    /// Queues of these names, all empty.
    pub fn with_queues(names: &[&str]) -> Self {
        let queues = names
            .iter()
            .map(|n| ((*n).to_owned(), DeadLetterQueue::default()))
            .collect();
        Self {
            queues: Mutex::new(queues),
        }
    }

    /// A message lands in `name`'s dead-letter queue (for tests).
    pub fn put(&self, name: &str, letter: DeadLetter) {
        if let Some(queue) = self.queues.lock().expect("lock").get_mut(name) {
            queue.dead.push(letter);
        }
    }

    /// What a redrive sent back to `name`'s source queue.
    pub fn redriven(&self, name: &str) -> Vec<DeadLetter> {
        self.queues
            .lock()
            .expect("lock")
            .get(name)
            .map(|queue| queue.redriven.clone())
            .unwrap_or_default()
    }

    fn unknown(&self, name: &str) -> AppError {
        let known: Vec<String> = self.queues.lock().expect("lock").keys().cloned().collect();
        AppError::NotFound {
            code: "QUEUE_NOT_FOUND",
            what: format!("the queue {name:?} (known: {})", known.join(", ")),
        }
    }
}

impl DeadLetterQueues for MemoryDeadLetters {
    async fn depths(&self) -> Result<BTreeMap<String, u64>, AppError> {
        Ok(self
            .queues
            .lock()
            .expect("lock")
            .iter()
            .map(|(name, queue)| (name.clone(), queue.dead.len() as u64))
            .collect())
    }

    async fn list(&self, name: &str, limit: u32) -> Result<Vec<DeadLetter>, AppError> {
        let queues = self.queues.lock().expect("lock");
        let Some(queue) = queues.get(name) else {
            drop(queues);
            return Err(self.unknown(name));
        };
        Ok(queue.dead.iter().take(limit as usize).cloned().collect())
    }

    async fn redrive(&self, name: &str, limit: u32) -> Result<u32, AppError> {
        let mut queues = self.queues.lock().expect("lock");
        let Some(queue) = queues.get_mut(name) else {
            drop(queues);
            return Err(self.unknown(name));
        };
        let n = queue.dead.len().min(limit as usize);
        let moved: Vec<DeadLetter> = queue.dead.drain(..n).collect();
        queue.redriven.extend(moved);
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }
}
