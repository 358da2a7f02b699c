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

/// How a server stops after SIGTERM: turn not-ready, keep serving for `delay` so health-checking
/// clients and load balancers stop sending, stop accepting, then give in-flight requests `drain`.
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct ShutdownPolicy {
    /// Seconds to keep serving while reporting not-ready. In Kubernetes the preStop hook waits
    /// instead, so this can stay 0 there.
    #[arg(long = "shutdown-delay-seconds", env = "SHUTDOWN_DELAY_SECONDS", value_name = "SECONDS",
          default_value = "0", value_parser = crate::config::parse::seconds)]
    pub delay: Duration,
    /// Longest wait, in seconds, for in-flight requests.
    #[arg(long = "shutdown-drain-seconds", env = "SHUTDOWN_DRAIN_SECONDS", value_name = "SECONDS",
          default_value = "10", value_parser = crate::config::parse::seconds)]
    pub drain: Duration,
    /// `false` stops at once, dropping in-flight requests: only to demonstrate why the graceful
    /// path matters.
    #[arg(long = "graceful-shutdown", env = "GRACEFUL_SHUTDOWN", value_name = "BOOL",
          default_value = "true", value_parser = crate::config::parse::boolean,
          action = clap::ArgAction::Set)]
    pub graceful: bool,
}

impl Default for ShutdownPolicy {
    fn default() -> Self {
        Self {
            delay: Duration::ZERO,
            drain: Duration::from_secs(10),
            graceful: true,
        }
    }
}

impl ShutdownPolicy {
    /// Resolves when the server should stop accepting: after `shutdown`, not-ready, and the delay.
    pub async fn stop_accepting(self, shutdown: Shutdown, readiness: crate::health::Readiness) {
        shutdown.wait().await;
        readiness.set_not_serving().await;
        if self.graceful && !self.delay.is_zero() {
            tracing::info!(
                delay_ms = self.delay.as_millis() as u64,
                "not ready; still serving until clients move away"
            );
            tokio::time::sleep(self.delay).await;
        }
    }

    /// Runs `server` until it ends by itself or, after `shutdown`, until it has drained (at most
    /// `delay + drain`), or at once when shutdown is not graceful.
    pub async fn run<E>(
        self,
        name: &str,
        server: impl Future<Output = Result<(), E>>,
        shutdown: &Shutdown,
    ) -> anyhow::Result<()>
    where
        E: std::error::Error + Send + Sync + 'static,
    {
        tokio::pin!(server);
        tokio::select! {
            result = &mut server => return Ok(result?),
            () = shutdown.wait() => {}
        }
        if !self.graceful {
            tracing::warn!(
                service = name,
                "GRACEFUL_SHUTDOWN=false: stopping at once, in-flight requests are dropped"
            );
            return Ok(());
        }
        tracing::info!(
            service = name,
            drain_seconds = self.drain.as_secs_f64(),
            "draining in-flight requests"
        );
        match tokio::time::timeout(self.delay + self.drain, server).await {
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
