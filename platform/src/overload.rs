//! Load shedding: a server takes at most a fixed number of requests at once and answers the rest
//! at once with "overloaded, retry after a moment" (HTTP 503 with `Retry-After`, gRPC
//! UNAVAILABLE), so that a traffic spike degrades into quick refusals instead of queues that grow
//! until every request times out.

use std::{
    sync::Arc,
    task::{Context, Poll},
};
use tokio::sync::Semaphore;
use tower::{Layer, Service};

/// Limits the requests in flight to `max`; beyond, `overloaded()` is the answer. Requests whose
/// path starts with one of `exempt` (health checks) are always served: a busy replica that failed
/// its health checks would be taken out of rotation, which sends its load to the others.
#[derive(Clone)]
pub struct ShedLayer<F> {
    permits: Arc<Semaphore>,
    overloaded: F,
    exempt: &'static [&'static str],
}

impl<F> ShedLayer<F> {
    pub fn new(max: usize, overloaded: F) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(max)),
            overloaded,
            exempt: &[],
        }
    }

    /// Never sheds requests whose path starts with one of `prefixes`.
    pub fn exempt(mut self, prefixes: &'static [&'static str]) -> Self {
        self.exempt = prefixes;
        self
    }
}

impl<S, F: Clone> Layer<S> for ShedLayer<F> {
    type Service = Shed<S, F>;

    fn layer(&self, inner: S) -> Self::Service {
        Shed {
            inner,
            permits: self.permits.clone(),
            overloaded: self.overloaded.clone(),
            exempt: self.exempt,
        }
    }
}

#[derive(Clone)]
pub struct Shed<S, F> {
    inner: S,
    permits: Arc<Semaphore>,
    overloaded: F,
    exempt: &'static [&'static str],
}

impl<S, F, B, Res> Service<http::Request<B>> for Shed<S, F>
where
    S: Service<http::Request<B>, Response = Res> + Clone,
    S::Future: Send + 'static,
    F: Fn() -> Res,
    Res: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = Res;
    type Error = S::Error;
    type Future = futures::future::BoxFuture<'static, Result<Res, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let path = request.uri().path();
        if self.exempt.iter().any(|prefix| path.starts_with(prefix)) {
            return Box::pin(self.inner.call(request));
        }
        let Ok(permit) = self.permits.clone().try_acquire_owned() else {
            metrics::counter!("requests_shed_total").increment(1);
            let response = (self.overloaded)();
            return Box::pin(async move { Ok(response) });
        };
        // The clone that was made ready is the one that serves (tower's contract).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let call = inner.call(request);
        Box::pin(async move {
            let response = call.await;
            drop(permit);
            response
        })
    }
}

/// The gRPC answer when overloaded: UNAVAILABLE, which clients retry (on another replica).
pub fn grpc_overloaded<B: Default>() -> http::Response<B> {
    let mut response = http::Response::new(B::default());
    let headers = response.headers_mut();
    headers.insert(
        "content-type",
        http::HeaderValue::from_static("application/grpc"),
    );
    headers.insert("grpc-status", http::HeaderValue::from_static("14"));
    headers.insert(
        "grpc-message",
        http::HeaderValue::from_static("overloaded%2C%20try%20again"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower::ServiceExt;

    #[tokio::test]
    async fn requests_beyond_the_limit_are_refused_at_once_and_the_rest_served() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let gate = Arc::new(tokio::sync::Notify::new());
        let entered = Arc::new(AtomicUsize::new(0));
        let slow = tower::service_fn({
            let (gate, entered) = (gate.clone(), entered.clone());
            move |_: http::Request<()>| {
                let (gate, entered) = (gate.clone(), entered.clone());
                async move {
                    let notified = gate.notified();
                    entered.fetch_add(1, Ordering::SeqCst);
                    notified.await;
                    Ok::<_, std::convert::Infallible>("served")
                }
            }
        });
        let service = ShedLayer::new(2, || "overloaded")
            .exempt(&["/health"])
            .layer(slow);
        let call = |path: &str| {
            service
                .clone()
                .oneshot(http::Request::get(path).body(()).unwrap())
        };
        let held: Vec<_> = (0..2).map(|_| tokio::spawn(call("/api"))).collect();
        while entered.load(Ordering::SeqCst) < 2 {
            tokio::task::yield_now().await;
        }
        // Two in flight: the third is refused without waiting.
        assert_eq!(call("/api").await.unwrap(), "overloaded");
        // A health check is served even so.
        let health = tokio::spawn(call("/health"));
        while entered.load(Ordering::SeqCst) < 3 {
            tokio::task::yield_now().await;
        }
        gate.notify_waiters();
        assert_eq!(health.await.unwrap().unwrap(), "served");
        for h in held {
            assert_eq!(h.await.unwrap().unwrap(), "served");
        }
        // Capacity is back.
        let next = tokio::spawn(call("/api"));
        while entered.load(Ordering::SeqCst) < 4 {
            tokio::task::yield_now().await;
        }
        gate.notify_waiters();
        assert_eq!(next.await.unwrap().unwrap(), "served");
    }
}
