//! Changes announced by any process through PostgreSQL LISTEN/NOTIFY, relayed to this web
//! instance's browsers: one listener per process fans out to every open event stream.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use sqlx::postgres::PgListener;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;
use tracing::{debug, warn};
use uuid::Uuid;

use crate::storage::{Store, EVENTS_CHANNEL};

/// A change to a run, its jobs or its log.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunEvent {
    pub tenant_id: Uuid,
    pub run_id: Uuid,
    pub kind: String,
}

#[derive(Clone, Debug)]
pub struct Events {
    sender: broadcast::Sender<RunEvent>,
}

impl Events {
    pub fn new() -> Events {
        let (sender, _) = broadcast::channel(1024);
        Events { sender }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<RunEvent> {
        self.sender.subscribe()
    }

    /// Listens until `shutdown`, reconnecting after database outages.
    pub async fn relay(self, store: Store, shutdown: CancellationToken) {
        while !shutdown.is_cancelled() {
            if let Err(error) = self.listen(&store, &shutdown).await {
                warn!(%error, "event listener lost its connection, reconnecting");
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    _ = shutdown.cancelled() => {}
                }
            }
        }
    }

    async fn listen(&self, store: &Store, shutdown: &CancellationToken) -> Result<(), sqlx::Error> {
        let mut listener = PgListener::connect_with(store.pool()).await?;
        listener.listen(EVENTS_CHANNEL).await?;
        loop {
            let notification = tokio::select! {
                notification = listener.recv() => notification?,
                _ = shutdown.cancelled() => return Ok(()),
            };
            match serde_json::from_str::<RunEvent>(notification.payload()) {
                // No receivers is fine: nobody is watching.
                Ok(event) => drop(self.sender.send(event)),
                Err(error) => debug!(%error, "ignored a malformed event"),
            }
        }
    }
}

impl Default for Events {
    fn default() -> Events {
        Events::new()
    }
}
