//! What stands between a request and its use case: a thread to run it on, waited for at
//! most [`Limits::queue_wait`], and an answer within [`Limits::response_deadline`]. Either
//! limit, when it passes, answers 503 `SERVICE_UNAVAILABLE`.
//!
//! Use cases run on each worker's blocking threads, which are as many as the database
//! pool has connections (see the app's sizing): a call beyond that waits in the worker's
//! queue instead of in the pool's checkout. That queue has no timeout of its own, so
//! when the database is slow (a held lock, a frozen server) requests would wait there
//! for as long as the calls ahead of them take. The queue-wait limit gives that wait the
//! pool's checkout timeout: a call that has not started within it is dropped unrun; one
//! that has started runs to its end.
//!
//! A database that stops answering without closing its connections (a frozen server, a
//! host gone silent) blocks the query's thread; PostgreSQL's statement timeout cannot
//! fire on a server that does not run and TCP keepalives see nothing wrong while the
//! peer's kernel still acknowledges. The response deadline tells the client in time
//! (the blocking work keeps running, and its connection returns to the pool when the
//! database answers); a 503 means the outcome is unknown, as it always may.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::error::BlockingError;
use actix_web::middleware::Next;
use actix_web::web;
use ticketing_domain::Clock;
use ticketing_ports::{TicketError, TicketRepository, TicketService};

use crate::error::ApiError;

/// The use cases as the handlers see them: any repository and clock behind a pointer, so
/// the application chooses PostgreSQL, and tests an in-memory store and a manual clock.
pub type TicketUseCases = TicketService<Arc<dyn TicketRepository>, Arc<dyn Clock>>;

/// The limits of [`crate::app`]; `None` turns one off.
#[derive(Debug, Clone, Copy, Default)]
pub struct Limits {
    /// The longest any request may take to be answered.
    pub response_deadline: Option<Duration>,
    /// The longest a use case waits for a blocking thread (the binary uses the pool's
    /// checkout timeout: waiting for a thread is waiting for a connection).
    pub queue_wait: Option<Duration>,
}

tokio::task_local! {
    /// The queue-wait limit of the request being handled on this task.
    static QUEUE_WAIT: Duration;
}

/// Runs a use case on actix's blocking thread pool: repositories are synchronous
/// (Diesel), and a worker thread blocked on the database serves no one else.
pub(crate) async fn run_use_case<T: Send + 'static>(
    use_cases: &web::Data<TicketUseCases>,
    use_case: impl FnOnce(&TicketUseCases) -> Result<T, TicketError> + Send + 'static,
) -> Result<Result<T, TicketError>, ApiError> {
    let use_cases = use_cases.clone();
    // The span goes along, so that anything the use case logs carries the request id.
    let span = tracing::Span::current();
    Ok(run_blocking(move || span.in_scope(|| use_case(&use_cases))).await?)
}

/// Middleware: the use cases of the request wait at most [`Limits::queue_wait`] for a
/// thread.
pub(crate) async fn limit_queue_wait(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    match limits(&request).queue_wait {
        Some(limit) => QUEUE_WAIT.scope(limit, next.call(request)).await,
        None => next.call(request).await,
    }
}

/// Middleware: answers 503 when the rest of the app has not answered within
/// [`Limits::response_deadline`].
pub(crate) async fn enforce_response_deadline(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let Some(limit) = limits(&request).response_deadline else {
        return next.call(request).await;
    };
    match actix_web::rt::time::timeout(limit, next.call(request)).await {
        Ok(answer) => answer,
        Err(_elapsed) => {
            Err(ApiError::from(TicketError::unavailable(DeadlinePassed(limit))).into())
        }
    }
}

/// The app's limits (application data); none when the request is served without them.
fn limits(request: &ServiceRequest) -> Limits {
    request
        .app_data::<web::Data<Limits>>()
        .map_or_else(Limits::default, |limits| *limits.get_ref())
}

/// Why a request was answered 503 by the deadline (logged with the 503).
#[derive(Debug, thiserror::Error)]
#[error("no answer within the response deadline of {0:?}")]
struct DeadlinePassed(Duration);

/// A use case that waited its whole queue-wait limit for a blocking thread.
#[derive(Debug, thiserror::Error)]
#[error("no thread was free to run the request within {0:?}")]
struct QueueTimedOut(Duration);

const QUEUED: u8 = 0;
const RUNNING: u8 = 1;
const ABANDONED: u8 = 2;

/// Runs `use_case` on a blocking thread like `web::block`, but under
/// [`limit_queue_wait`] gives up on it (answering `Unavailable`) if no thread has
/// started it within the limit.
async fn run_blocking<T: Send + 'static>(
    use_case: impl FnOnce() -> Result<T, TicketError> + Send + 'static,
) -> Result<Result<T, TicketError>, BlockingError> {
    let Ok(limit) = QUEUE_WAIT.try_with(|limit| *limit) else {
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
            let outcome = QUEUE_WAIT
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
            let outcome = QUEUE_WAIT
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
