//! How long a request waits for a blocking thread before it is answered 503.
//!
//! Use cases run on each worker's blocking threads, which are as many as the database
//! pool has connections (see the app's sizing): a call beyond that waits in the worker's
//! queue instead of in the pool's checkout. That queue has no timeout of its own, so
//! when the database is slow (a held lock, a frozen server) requests would wait there
//! for as long as the calls ahead of them take. [`limit_queue_wait`] gives that wait the
//! pool's checkout timeout: a call that has not started within it is dropped unrun and
//! answered 503 `SERVICE_UNAVAILABLE`; one that has started runs to its end.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::error::BlockingError;
use actix_web::middleware::Next;
use actix_web::web;
use ticketing_ports::TicketError;

/// App data: the longest a use case waits for a blocking thread (the checkout timeout).
#[derive(Debug, Clone, Copy)]
pub struct QueueTimeout(pub Duration);

tokio::task_local! {
    /// The limit for the request being handled on this task.
    static QUEUE_TIMEOUT: Duration;
}

/// Middleware (`App::wrap(from_fn(limit_queue_wait))`, with [`QueueTimeout`] as app
/// data): the use cases of the requests under it wait at most that long for a thread.
pub async fn limit_queue_wait(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    match request
        .app_data::<web::Data<QueueTimeout>>()
        .map(|limit| limit.get_ref().0)
    {
        Some(limit) => QUEUE_TIMEOUT.scope(limit, next.call(request)).await,
        None => next.call(request).await,
    }
}

/// A use case that waited its whole [`QueueTimeout`] for a blocking thread.
#[derive(Debug, thiserror::Error)]
#[error("no thread was free to run the request within {0:?}")]
struct QueueTimedOut(Duration);

const QUEUED: u8 = 0;
const RUNNING: u8 = 1;
const ABANDONED: u8 = 2;

/// Runs `use_case` on a blocking thread like `web::block`, but under
/// [`limit_queue_wait`] gives up on it (answering `Unavailable`) if no thread has
/// started it within the limit.
pub(crate) async fn run_blocking<T: Send + 'static>(
    use_case: impl FnOnce() -> Result<T, TicketError> + Send + 'static,
) -> Result<Result<T, TicketError>, BlockingError> {
    let Ok(limit) = QUEUE_TIMEOUT.try_with(|limit| *limit) else {
        return web::block(use_case).await;
    };
    let state = Arc::new(AtomicU8::new(QUEUED));
    let claim = Arc::clone(&state);
    let call = web::block(move || {
        if claim
            .compare_exchange(QUEUED, RUNNING, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
        {
            use_case()
        } else {
            // Not started in time: the request has already been answered 503 and nobody
            // reads this result; skip the use case.
            Err(TicketError::unavailable(QueueTimedOut(limit)))
        }
    });
    let mut call = std::pin::pin!(call);
    match actix_web::rt::time::timeout(limit, call.as_mut()).await {
        Ok(outcome) => outcome,
        Err(_elapsed) => {
            let abandoned = state
                .compare_exchange(QUEUED, ABANDONED, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok();
            if abandoned {
                Ok(Err(TicketError::unavailable(QueueTimedOut(limit))))
            } else {
                // Started just in time: its own timeouts bound it now.
                call.await
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;

    /// A runtime with a single blocking thread, so that one call can keep the next waiting.
    fn one_thread_runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .max_blocking_threads(1)
            .build()
            .unwrap()
    }

    #[test]
    fn a_use_case_that_cannot_start_in_time_is_unavailable_and_never_runs() {
        let ran = Arc::new(AtomicU8::new(0));
        let counted = Arc::clone(&ran);
        one_thread_runtime().block_on(async move {
            let blocker = web::block(|| std::thread::sleep(Duration::from_millis(400)));
            let started = Instant::now();
            let outcome = QUEUE_TIMEOUT
                .scope(
                    Duration::from_millis(100),
                    run_blocking(move || {
                        counted.fetch_add(1, Ordering::SeqCst);
                        Ok(())
                    }),
                )
                .await
                .unwrap();
            assert!(matches!(outcome, Err(TicketError::Unavailable(_))));
            assert!(started.elapsed() < Duration::from_millis(300));
            blocker.await.unwrap();
            // The thread is free now; the abandoned call gets it and must do nothing.
            web::block(|| ()).await.unwrap();
        });
        assert_eq!(ran.load(Ordering::SeqCst), 0, "an abandoned call ran");
    }

    #[test]
    fn a_use_case_that_starts_in_time_runs_to_its_end() {
        one_thread_runtime().block_on(async {
            let outcome = QUEUE_TIMEOUT
                .scope(
                    Duration::from_millis(50),
                    run_blocking(|| {
                        std::thread::sleep(Duration::from_millis(200));
                        Ok(7)
                    }),
                )
                .await
                .unwrap();
            assert_eq!(outcome.unwrap(), 7);
        });
    }
}
