//! Graceful shutdown: one cloneable handle, triggered by SIGTERM/SIGINT in a binary or by hand in
//! the all-in-one command and the tests.

use std::time::Duration;
use tokio::sync::watch;

/// A shutdown signal shared by every server of a process.
#[derive(Clone, Debug)]
pub struct Shutdown {
    tx: watch::Sender<bool>,
}

impl Default for Shutdown {
    fn default() -> Self {
        Self::new()
    }
}

impl Shutdown {
    pub fn new() -> Self {
        Self {
            tx: watch::channel(false).0,
        }
    }

    /// Starts the shutdown of everything that waits on this handle.
    pub fn trigger(&self) {
        self.tx.send_replace(true);
    }

    pub fn is_triggered(&self) -> bool {
        *self.tx.borrow()
    }

    /// Resolves once [`Shutdown::trigger`] has been called (at once if it already was).
    pub async fn wait(&self) {
        let mut rx = self.tx.subscribe();
        // An error means the sender is gone, which cannot happen while `self` lives.
        let _ = rx.wait_for(|triggered| *triggered).await;
    }

    /// Triggers this handle on the first SIGTERM or SIGINT (Ctrl-C).
    pub fn trigger_on_signals(&self) {
        let this = self.clone();
        tokio::spawn(async move {
            termination_signal().await;
            tracing::info!("termination signal received, shutting down");
            this.trigger();
        });
    }
}

/// Runs `server` until it ends by itself or, after `shutdown`, for at most `drain` more.
pub async fn drain<E>(
    name: &str,
    server: impl Future<Output = Result<(), E>>,
    shutdown: &Shutdown,
    drain: Duration,
) -> anyhow::Result<()>
where
    E: std::error::Error + Send + Sync + 'static,
{
    tokio::pin!(server);
    tokio::select! {
        result = &mut server => return Ok(result?),
        () = shutdown.wait() => {}
    }
    tracing::info!(
        service = name,
        drain_seconds = drain.as_secs(),
        "draining in-flight requests"
    );
    match tokio::time::timeout(drain, server).await {
        Ok(result) => {
            tracing::info!(service = name, "drained, stopped");
            Ok(result?)
        }
        Err(_) => {
            tracing::warn!(
                service = name,
                "drain period over, stopping with requests still in flight"
            );
            Ok(())
        }
    }
}

#[cfg(unix)]
async fn termination_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).expect("installing a SIGTERM handler");
    let mut int = signal(SignalKind::interrupt()).expect("installing a SIGINT handler");
    tokio::select! {
        _ = term.recv() => {},
        _ = int.recv() => {},
    }
}

#[cfg(not(unix))]
async fn termination_signal() {
    let _ = tokio::signal::ctrl_c().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn wait_resolves_after_trigger_even_for_late_waiters() {
        let shutdown = Shutdown::new();
        let early = tokio::spawn({
            let s = shutdown.clone();
            async move { s.wait().await }
        });
        shutdown.trigger();
        early.await.unwrap();
        shutdown.wait().await; // a waiter that comes after the trigger does not hang
        assert!(shutdown.is_triggered());
    }
}
