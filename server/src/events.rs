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
    /// Cancelled when the web server shuts down, so open event streams end and a graceful
    /// shutdown does not wait on browsers (they reconnect to another instance).
    closed: CancellationToken,
}

impl Events {
    pub fn new() -> Events {
        let (sender, _) = broadcast::channel(1024);
        Events { sender, closed: CancellationToken::new() }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<RunEvent> {
        self.sender.subscribe()
    }

    /// Ends every open event stream.
    pub fn close(&self) {
        self.closed.cancel();
    }

    /// Resolves once `close` has been called.
    pub fn closed(&self) -> tokio_util::sync::WaitForCancellationFutureOwned {
        self.closed.clone().cancelled_owned()
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
