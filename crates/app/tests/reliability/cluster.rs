//! A throwaway PostgreSQL cluster for one scenario: `initdb` into the test's temporary
//! directory, a server on a free port of 127.0.0.1, and the faults the scenarios inject
//! (stop, start again, freeze and thaw every server process). Removed on drop.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Once;
use std::time::{Duration, Instant};

/// A PostgreSQL server of our own, stopped and deleted when dropped.
#[derive(Debug)]
pub(crate) struct Cluster {
    dir: PathBuf,
    bin: PathBuf,
    port: u16,
    /// Whether the server binaries run as the `postgres` user (as root: initdb and
    /// postgres refuse root).
    as_owner: bool,
}

impl Cluster {
    /// Creates and starts a cluster named after the scenario.
    pub(crate) fn start(name: &str) -> Self {
        static SEQUENCE: AtomicU32 = AtomicU32::new(0);
        static STALE_REMOVED: Once = Once::new();
        let bin = postgres_bin();
        STALE_REMOVED.call_once(|| remove_stale_clusters(&bin));
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
            "reliability-{name}-{}-{}",
            std::process::id(),
            SEQUENCE.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let as_owner = if is_root() {
            let status = Command::new("chown")
                .args(["postgres:", dir.to_str().unwrap()])
                .status()
                .unwrap();
            assert!(status.success(), "chown postgres: {}", dir.display());
            true
        } else {
            false
        };
        let cluster = Self {
            port: free_port(),
            dir,
            bin,
            as_owner,
        };
        let output = cluster
            .command("initdb")
            .args(["-D", cluster.data().to_str().unwrap()])
            .args(["-U", "postgres", "--auth=trust", "--encoding=UTF8"])
            .args(["--no-locale", "--no-sync"])
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        cluster.start_again();
        cluster
    }

    /// A URL to `database` on this server.
    pub(crate) fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    pub(crate) fn log_path(&self) -> PathBuf {
        self.dir.join("postgres.log")
    }

    /// A place for the scenario's own files (service logs), removed with the cluster.
    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    fn command(&self, program: &str) -> Command {
        server_command(&self.bin, program, self.as_owner)
    }

    fn pg_ctl(&self, args: &[&str]) -> std::process::Output {
        self.command("pg_ctl")
            .args(["-D", self.data().to_str().unwrap()])
            .args(args)
            .output()
            .unwrap()
    }

    /// Starts the (stopped) server and waits until it accepts connections.
    pub(crate) fn start_again(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200 \
             -c log_min_messages=warning",
            self.port,
            self.dir.display()
        );
        let output = self.pg_ctl(&[
            "-l",
            self.log_path().to_str().unwrap(),
            "-w",
            "-t",
            "30",
            "-o",
            &options,
            "start",
        ]);
        assert!(
            output.status.success(),
            "pg_ctl start failed: {}{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
            fs::read_to_string(self.log_path()).unwrap_or_default()
        );
    }

    /// `pg_ctl stop -m fast`: open transactions are rolled back, sessions ended.
    pub(crate) fn stop_fast(&self) {
        let output = self.pg_ctl(&["-w", "-t", "30", "-m", "fast", "stop"]);
        assert!(
            output.status.success(),
            "pg_ctl stop failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// The postmaster's pid, from `postmaster.pid`.
    fn postmaster(&self) -> u32 {
        let pid_file = fs::read_to_string(self.data().join("postmaster.pid")).unwrap();
        pid_file.lines().next().unwrap().trim().parse().unwrap()
    }

    /// The postmaster and every process it forked (backends, background workers).
    fn server_processes(&self) -> Vec<u32> {
        let postmaster = self.postmaster();
        let mut pids = vec![postmaster];
        for entry in fs::read_dir("/proc").unwrap().flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<u32>().ok())
            else {
                continue;
            };
            if parent_of(pid) == Some(postmaster) {
                pids.push(pid);
            }
        }
        pids
    }

    /// SIGSTOP to every server process: connections stay open, nothing answers.
    pub(crate) fn freeze(&self) {
        assert!(
            signal(&self.server_processes(), "STOP"),
            "cannot freeze the server"
        );
    }

    /// SIGCONT to every server process.
    pub(crate) fn thaw(&self) {
        assert!(
            signal(&self.server_processes(), "CONT"),
            "cannot thaw the server"
        );
    }

    /// Inserts `count` unreserved tickets (faster than the API) and answers their ids.
    pub(crate) fn insert_tickets(&self, database: &str, count: usize) -> Vec<i64> {
        let sql = format!(
            "INSERT INTO tickets (event_name, seat) SELECT 'Reliability Night', 'R-' || seat \
             FROM generate_series(1, {count}) AS seat RETURNING id"
        );
        let ids: Vec<i64> = self
            .psql(database, &sql)
            .lines()
            .filter_map(|line| line.trim().parse().ok())
            .collect();
        assert_eq!(ids.len(), count, "inserted {} tickets", ids.len());
        ids
    }

    /// Runs `sql` with psql on `database` and answers its unaligned output.
    pub(crate) fn psql(&self, database: &str, sql: &str) -> String {
        let output = self
            .psql_command(database)
            .args(["-At", "-F", "|", "-c", sql])
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "psql {sql:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }

    fn psql_command(&self, database: &str) -> Command {
        let mut command = Command::new(self.bin.join("psql"));
        command
            .args(["-X", "-v", "ON_ERROR_STOP=1", "-d", &self.url(database)])
            .stdin(Stdio::null());
        command
    }

    /// An interactive psql session, for holding a lock across the scenario.
    pub(crate) fn session(&self, database: &str) -> Session {
        let mut child = self
            .psql_command(database)
            .args(["-At", "-q"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take();
        Session { child, stdin }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // A frozen server cannot stop; thaw it first (harmless when it runs).
        if self.data().join("postmaster.pid").exists() {
            // Some processes may be exiting; those that remain are what matters.
            let _ = signal(&self.server_processes(), "CONT");
            let _ = self.pg_ctl(&["-w", "-t", "30", "-m", "immediate", "stop"]);
        }
        if std::thread::panicking() {
            eprintln!(
                "--- PostgreSQL log ({}):\n{}",
                self.log_path().display(),
                tail(&self.log_path(), 40)
            );
        }
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// A psql process reading statements from its stdin.
#[derive(Debug)]
pub(crate) struct Session {
    child: Child,
    stdin: Option<ChildStdin>,
}

impl Session {
    pub(crate) fn run(&mut self, sql: &str) {
        let stdin = self.stdin.as_mut().unwrap();
        writeln!(stdin, "{sql}").unwrap();
        stdin.flush().unwrap();
    }

    /// Ends the session (its open transaction is rolled back unless committed).
    pub(crate) fn close(mut self) {
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if self.child.try_wait().unwrap().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Stops and deletes the clusters of test processes that died without cleaning up (killed
/// mid-run): their directories are named `reliability-<scenario>-<pid>-<n>`.
fn remove_stale_clusters(bin: &Path) {
    let Ok(entries) = fs::read_dir(env!("CARGO_TARGET_TMPDIR")) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix("reliability-")
            .and_then(|rest| rest.rsplit('-').nth(1))
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if Path::new(&format!("/proc/{pid}")).exists() {
            continue;
        }
        let data = entry.path().join("data");
        if data.join("postmaster.pid").exists() {
            let _ = server_command(bin, "pg_ctl", is_root())
                .args(["-D", &data.to_string_lossy(), "-m", "immediate", "stop"])
                .output();
        }
        let _ = fs::remove_dir_all(entry.path());
    }
}

/// The last `lines` lines of a log file.
pub(crate) fn tail(path: &Path, lines: usize) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// A port nothing listens on now (bound, read and released).
pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `program` of the server binaries in `bin`, run as the `postgres` user when `as_owner`
/// (root may not run the server itself), with no stdin.
fn server_command(bin: &Path, program: &str, as_owner: bool) -> Command {
    let path = bin.join(program);
    let mut command = if as_owner {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(path);
        command
    } else {
        Command::new(path)
    };
    command.stdin(Stdio::null());
    command
}

/// Sends signal `name` to `pids`; answers whether every one got it.
pub(crate) fn signal(pids: &[u32], name: &str) -> bool {
    Command::new("kill")
        .arg(format!("-{name}"))
        .args(pids.iter().map(u32::to_string))
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

fn parent_of(pid: u32) -> Option<u32> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces and parentheses: fields follow the last ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    rest.split(' ').nth(1)?.parse().ok()
}

fn is_root() -> bool {
    fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|line| line.starts_with("Uid:"))
        .and_then(|line| line.split_whitespace().nth(1).map(|uid| uid == "0"))
        .unwrap_or(false)
}

/// The newest installed PostgreSQL server binaries (Debian keeps them off PATH).
fn postgres_bin() -> PathBuf {
    let mut candidates: Vec<PathBuf> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path().join("bin"))
        .filter(|bin| bin.join("initdb").is_file() && bin.join("pg_ctl").is_file())
        .collect();
    candidates.sort_by_key(|bin| {
        bin.parent()
            .and_then(|version| version.file_name())
            .and_then(|name| name.to_str())
            .and_then(|name| name.parse::<u32>().ok())
            .unwrap_or(0)
    });
    if let Some(bin) = candidates.pop() {
        return bin;
    }
    let on_path = std::env::var_os("PATH")
        .and_then(|path| std::env::split_paths(&path).find(|dir| dir.join("initdb").is_file()));
    on_path.unwrap_or_else(|| {
        panic!(
            "the reliability tests start their own PostgreSQL cluster and need its server \
             binaries (initdb, pg_ctl, psql): install PostgreSQL, e.g. \
             `apt-get install postgresql`"
        )
    })
}
