//! Scenario 7: abusive clients. Thousands of idle connections, slow clients sending a
//! header a byte a second, huge headers and 10,000 malformed requests, all at once:
//! well-formed requests are still answered promptly, nothing is answered 500, idle and
//! slow connections are cut off by the client request timeout, and memory stays bounded.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::cluster::Cluster;
use crate::http::{self, read_answer};
use crate::load;
use crate::service::{self, MemoryWatch, Service};
use crate::{one_at_a_time, service_env};

const CLIENT_REQUEST_TIMEOUT: Duration = Duration::from_millis(2000);
const IDLE_CONNECTIONS: usize = 3000;
const SLOW_CLIENTS: usize = 20;
const MALFORMED_REQUESTS: usize = 10_000;

/// Requests no HTTP parser should accept, or that break the API's contract.
const MALFORMED: [&[u8]; 8] = [
    b"GARBAGE\r\n\r\n",
    b"GET /api/health HTTP/9.9\r\nHost: x\r\n\r\n",
    b"GET /api/tickets/1 HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
    b"\x00\x01\x02\xff\xfe\r\n\r\n",
    b"POST /api/tickets HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n",
    b"GET /api/health HTTP/1.1\r\nA header without a colon\r\n\r\n",
    b"POST /api/tickets HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5\r\nConnection: close\r\n\r\n{bad}",
    b"GET /api/tickets/%ZZ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
];

/// What became of an abusive request: the status answered, or 0 when the service
/// closed the connection without one; `None` when it did neither in time.
fn send_raw(port: u16, bytes: &[u8], wait: Duration) -> Option<u16> {
    let address = SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(5)).ok()?;
    if stream.write_all(bytes).is_err() {
        return Some(0);
    }
    match read_answer(&mut stream, Instant::now() + wait) {
        Ok((status, _, _)) => Some(status),
        Err(error) if error.kind() == std::io::ErrorKind::TimedOut => None,
        Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => None,
        Err(_) => Some(0),
    }
}

#[test]
fn abusive_clients_do_not_stop_well_formed_requests() {
    let _serial = one_at_a_time();
    let cluster = Cluster::start("abuse");
    let env = service::with(
        &service_env(&cluster),
        &[
            (
                "APP__SERVER__CLIENT_REQUEST_TIMEOUT_MS",
                &CLIENT_REQUEST_TIMEOUT.as_millis().to_string(),
            ),
            ("APP__SERVER__KEEP_ALIVE_SECONDS", "2"),
            ("APP__SERVER__MAX_CONNECTIONS_PER_WORKER", "4096"),
        ],
    );
    let service = Service::start("service", cluster.dir(), &env);
    let port = service.port();
    let ticket = load::create_tickets(port, 1)[0];
    let baseline_kib = service.rss_kib();
    let baseline_files = service.open_files();
    let memory = MemoryWatch::start(service.pid());

    // A well-formed request every 100 ms, each on a new connection, all along.
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let prober = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            let mut probes = Vec::new();
            let deadline = Instant::now() + Duration::from_secs(90);
            while !stop.load(Ordering::SeqCst) && Instant::now() < deadline {
                let sent = Instant::now();
                let answer = http::request(port, "GET", &format!("/api/tickets/{ticket}"), None);
                probes.push((
                    answer.map(|a| a.status).map_err(|e| e.to_string()),
                    sent.elapsed(),
                    sent.duration_since(started),
                ));
                std::thread::sleep(Duration::from_millis(100));
            }
            probes
        })
    };

    // Idle connections that never send a byte.
    let address = SocketAddr::from(([127, 0, 0, 1], port));
    // Paced (100 per 50 ms): faster, they overflow the listen backlog before the service
    // accepts them, and the kernel drops every client's SYN alike, probes included.
    let idle: Vec<TcpStream> = (0..IDLE_CONNECTIONS)
        .filter_map(|index| {
            if index % 100 == 99 {
                std::thread::sleep(Duration::from_millis(50));
            }
            TcpStream::connect_timeout(&address, Duration::from_secs(2)).ok()
        })
        .collect();
    let opened = Instant::now();
    let idle_opened_at = started.elapsed();
    let files_while_idle = service.open_files();
    assert!(
        idle.len() > IDLE_CONNECTIONS * 9 / 10,
        "opened only {}",
        idle.len()
    );

    // Slow clients: a header line, then a byte a second; the service must hang up.
    let slow: Vec<_> = (0..SLOW_CLIENTS)
        .map(|_| {
            std::thread::spawn(move || {
                let started = Instant::now();
                let mut stream = TcpStream::connect(address).unwrap();
                stream
                    .write_all(b"GET /api/health HTTP/1.1\r\nHost: x\r\nX-Slow: ")
                    .unwrap();
                stream
                    .set_read_timeout(Some(Duration::from_millis(1000)))
                    .unwrap();
                let mut byte = [0u8; 1];
                while started.elapsed() < Duration::from_secs(15) {
                    if stream.write_all(b"a").is_err() {
                        return Some(started.elapsed());
                    }
                    match stream.read(&mut byte) {
                        // Closed, or an answer (408) before closing: cut off either way.
                        Ok(_) => return Some(started.elapsed()),
                        Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => {}
                        Err(error) if error.kind() == std::io::ErrorKind::TimedOut => {}
                        Err(_) => return Some(started.elapsed()),
                    }
                }
                None
            })
        })
        .collect();

    // Huge headers: 64 KiB and 1 MiB.
    let huge: Vec<Option<u16>> = [64 * 1024, 1024 * 1024]
        .into_iter()
        .map(|size| {
            let request = format!(
                "GET /api/health HTTP/1.1\r\nHost: x\r\nX-Huge: {}\r\n\r\n",
                "h".repeat(size)
            );
            send_raw(port, request.as_bytes(), Duration::from_secs(5))
        })
        .collect();

    // 10,000 malformed requests from 4 threads.
    let malformed_from = started.elapsed();
    let senders: Vec<_> = (0..4)
        .map(|thread| {
            std::thread::spawn(move || {
                (0..MALFORMED_REQUESTS / 4)
                    .map(|i| {
                        send_raw(
                            port,
                            MALFORMED[(i + thread) % MALFORMED.len()],
                            Duration::from_secs(5),
                        )
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let malformed: Vec<Option<u16>> = senders
        .into_iter()
        .flat_map(|sender| sender.join().unwrap())
        .collect();
    let malformed_until = started.elapsed();

    let slow: Vec<Option<Duration>> = slow.into_iter().map(|t| t.join().unwrap()).collect();
    // By now the idle connections have had the client request timeout and more.
    let wait =
        (CLIENT_REQUEST_TIMEOUT + Duration::from_millis(1500)).saturating_sub(opened.elapsed());
    std::thread::sleep(wait);
    let files_with_idle_clients = service.open_files();
    stop.store(true, Ordering::SeqCst);
    let probes = prober.join().unwrap();
    let peak_kib = memory.peak_kib();
    let idle_count = idle.len();
    drop(idle);

    let mut statuses = std::collections::BTreeMap::new();
    for outcome in &malformed {
        *statuses.entry(*outcome).or_insert(0usize) += 1;
    }
    assert!(
        malformed
            .iter()
            .all(|outcome| matches!(outcome, Some(status) if *status < 500)),
        "malformed requests answered {statuses:?} (None: no answer and not closed within 5 s)"
    );
    // Within actix's header limit a long header is just a header; beyond it, 431.
    assert!(
        huge.iter()
            .all(|outcome| matches!(outcome, Some(status) if *status < 500)),
        "huge headers answered {huge:?}"
    );
    assert_eq!(huge[1], Some(431), "a 1 MiB header was not refused");
    let limit = CLIENT_REQUEST_TIMEOUT + Duration::from_millis(1500);
    for cut_off in &slow {
        assert!(
            cut_off.is_some_and(|after| after < limit),
            "slow clients cut off after {slow:?} (limit {limit:?})"
        );
    }
    assert!(
        files_while_idle > baseline_files + IDLE_CONNECTIONS / 2,
        "only {files_while_idle} files open (from {baseline_files}) with {} idle clients",
        idle_count
    );
    assert!(
        files_with_idle_clients < baseline_files + 200,
        "{files_with_idle_clients} files open (from {baseline_files}): idle connections were not closed"
    );
    assert!(probes.len() > 20, "only {} probes", probes.len());
    let slowest = probes.iter().map(|(_, elapsed, _)| *elapsed).max().unwrap();
    for (status, _, _) in &probes {
        assert_eq!(
            status,
            &Ok(200),
            "a well-formed request was answered {status:?}"
        );
    }
    // (sent at, took) of each well-formed request that was not answered promptly.
    let slow_probes: Vec<(Duration, Duration)> = probes
        .iter()
        .filter(|(_, elapsed, _)| *elapsed >= Duration::from_millis(500))
        .map(|(_, elapsed, sent_at)| (*sent_at, *elapsed))
        .collect();
    assert!(
        slow_probes.is_empty(),
        "well-formed requests (one per 100 ms) took 500 ms or more: (sent at, took) {slow_probes:?} \
         of {}; idle connections opened by {idle_opened_at:?}, malformed requests from \
         {malformed_from:?} to {malformed_until:?}",
        probes.len()
    );
    let grown_kib = peak_kib.saturating_sub(baseline_kib);
    assert!(grown_kib < 128 * 1024, "memory grew by {grown_kib} KiB");
    assert_eq!(
        service.log_lines_with("answering 500"),
        0,
        "500s in the log"
    );
    eprintln!(
        "abuse: malformed {statuses:?}, huge headers {huge:?}, slow clients cut off after {:?}, \
         {} probes (slowest {slowest:?}), files {baseline_files} -> {files_with_idle_clients} \
         with {IDLE_CONNECTIONS} idle clients, memory {baseline_kib} -> peak {peak_kib} KiB",
        slow.iter().flatten().max(),
        probes.len()
    );
}
