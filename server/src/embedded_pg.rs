//! Factory's own PostgreSQL cluster, used when `DATABASE_URL` is not set: finds the server
//! binaries, initialises a data directory once, and starts and stops `postgres` on a port of
//! 127.0.0.1 with trust authentication, so a fresh install needs no database set up by hand.
//!
//! Ownership rule: a cluster this process started is stopped by [`EmbeddedPostgres::stop`] or,
//! best-effort, on drop. A cluster that was already running in the data directory (another
//! Factory process, or one left behind by a crash) is reused and never stopped by us.

use std::ffi::{CString, OsStr};
use std::io;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Output};

use sqlx::{Connection, PgConnection};

/// A running PostgreSQL cluster in a data directory of Factory's choosing.
pub struct EmbeddedPostgres {
    layout: Layout,
    port: u16,
    tools: Tools,
    ownership: Ownership,
}

#[derive(Debug, thiserror::Error)]
pub enum EmbeddedPgError {
    #[error(
        "find postgresql server binaries (initdb, pg_ctl) on PATH or under \
         /usr/lib/postgresql/<version>/bin: none found; install the Debian package `postgresql` \
         (apt-get install postgresql)"
    )]
    BinariesNotFound,
    #[error(
        "look up system user `postgres` to run postgresql as root: no such user; install the \
         Debian package `postgresql`, which creates it"
    )]
    PostgresUserMissing,
    #[error("use {0} as postgresql data directory: it has no parent directory")]
    InvalidDataDir(PathBuf),
    #[error("prepare {path} for postgresql")]
    Prepare {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("read {path} of the postgresql already running")]
    ReadPidFile {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("run `{command}`")]
    Spawn {
        command: String,
        #[source]
        source: io::Error,
    },
    #[error("run `{command}`: {status}: {stderr}")]
    CommandFailed { command: String, status: ExitStatus, stderr: String },
    #[error(
        "reuse postgresql already running in {data_dir}: it listens on port {running}, \
         not {requested}"
    )]
    PortMismatch { data_dir: PathBuf, running: String, requested: u16 },
    #[error("create database factory on postgresql at 127.0.0.1:{port}")]
    CreateDatabase {
        port: u16,
        #[source]
        source: sqlx::Error,
    },
}

impl EmbeddedPostgres {
    /// Creates (initdb, first time only) and starts a cluster in `data_dir` listening on
    /// 127.0.0.1:`port`, creates database `factory` if missing, and returns once it accepts
    /// connections. A cluster already running in `data_dir` on `port` is reused, not restarted.
    #[tracing::instrument(
        name = "embedded_pg.start",
        skip_all,
        fields(data_dir = %data_dir.display(), port = port)
    )]
    pub async fn start(data_dir: &Path, port: u16) -> Result<EmbeddedPostgres, EmbeddedPgError> {
        let layout = Layout::new(data_dir)?;
        let tools = Tools::find()?;
        layout.prepare(&tools.run_as)?;
        if !layout.is_initialised() {
            tools.initdb(&layout).await?;
        }

        let ownership = if tools.is_running(&layout).await {
            layout.check_running_port(port)?;
            tracing::info!("reusing postgresql already running in the data directory");
            Ownership::Adopted
        } else {
            tools.start(&layout, port).await?;
            tracing::info!("started embedded postgresql");
            Ownership::Started
        };
        // From here on, dropping `postgres` on an error stops a cluster we started.
        let postgres = EmbeddedPostgres { layout, port, tools, ownership };
        postgres.create_database().await?;
        Ok(postgres)
    }

    /// The URL of database `factory`: `postgres://postgres@127.0.0.1:PORT/factory`.
    pub fn database_url(&self) -> String {
        self.url_of("factory")
    }

    /// Stops the cluster (`pg_ctl stop -m fast`) if this value started it; a reused cluster
    /// is left running.
    #[tracing::instrument(name = "embedded_pg.stop", skip_all, fields(port = self.port))]
    pub async fn stop(mut self) -> Result<(), EmbeddedPgError> {
        // Marked stopped first: after a failed stop, drop does not try a second time.
        let ownership = std::mem::replace(&mut self.ownership, Ownership::Stopped);
        if ownership == Ownership::Started {
            run(self.tools.stop_command(&self.layout).into()).await?;
            tracing::info!("stopped embedded postgresql");
        }
        Ok(())
    }

    fn url_of(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    async fn create_database(&self) -> Result<(), EmbeddedPgError> {
        let error = |source| EmbeddedPgError::CreateDatabase { port: self.port, source };
        let mut connection =
            PgConnection::connect(&self.url_of("postgres")).await.map_err(error)?;
        let exists: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'factory')",
        )
        .fetch_one(&mut connection)
        .await
        .map_err(error)?;
        if !exists {
            sqlx::query("CREATE DATABASE factory").execute(&mut connection).await.map_err(error)?;
            tracing::info!("created database factory");
        }
        connection.close().await.map_err(error)
    }
}

impl Drop for EmbeddedPostgres {
    /// Stops a cluster this value started and nobody stopped. This blocks the thread for
    /// as long as a fast shutdown takes, usually well under a second.
    fn drop(&mut self) {
        if self.ownership != Ownership::Started {
            return;
        }
        let mut command = self.tools.stop_command(&self.layout);
        match command.output() {
            Ok(output) if output.status.success() => {
                tracing::info!(port = self.port, "stopped embedded postgresql on drop");
            }
            Ok(output) => tracing::warn!(
                port = self.port,
                status = %output.status,
                stderr = %String::from_utf8_lossy(&output.stderr).trim(),
                "could not stop embedded postgresql on drop"
            ),
            Err(error) => tracing::warn!(
                port = self.port,
                error = %error,
                "could not run pg_ctl to stop embedded postgresql on drop"
            ),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ownership {
    /// We started it, so we stop it.
    Started,
    /// It was running before we came; someone else stops it.
    Adopted,
    /// `stop` was called on a cluster we started.
    Stopped,
}

/// Where a cluster keeps its files: the data directory, and next to it the server log and
/// the directory for its Unix socket.
struct Layout {
    data_dir: PathBuf,
    parent: PathBuf,
    log_file: PathBuf,
    socket_dir: PathBuf,
}

impl Layout {
    fn new(data_dir: &Path) -> Result<Layout, EmbeddedPgError> {
        let invalid = || EmbeddedPgError::InvalidDataDir(data_dir.to_path_buf());
        let data_dir = std::path::absolute(data_dir).map_err(|_| invalid())?;
        let parent =
            data_dir.parent().filter(|_| data_dir.file_name().is_some()).ok_or_else(invalid)?;
        Ok(Layout {
            parent: parent.to_path_buf(),
            log_file: parent.join("postgres.log"),
            socket_dir: parent.join("postgres-socket"),
            data_dir,
        })
    }

    fn is_initialised(&self) -> bool {
        self.data_dir.join("PG_VERSION").is_file()
    }

    /// Creates the directories and the log file, owned by the user who runs the server.
    /// The parent stays 0755 so that user can reach the data directory, which must be 0700.
    fn prepare(&self, run_as: &RunAs) -> Result<(), EmbeddedPgError> {
        create_dir(&self.parent, 0o755).map_err(prepare(&self.parent))?;
        create_dir(&self.socket_dir, 0o755).map_err(prepare(&self.socket_dir))?;
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log_file)
            .map_err(prepare(&self.log_file))?;
        if !self.is_initialised() {
            create_dir(&self.data_dir, 0o700).map_err(prepare(&self.data_dir))?;
            std::fs::set_permissions(&self.data_dir, std::fs::Permissions::from_mode(0o700))
                .map_err(prepare(&self.data_dir))?;
        }

        if let RunAs::PostgresUser { uid, gid } = *run_as {
            for path in [&self.socket_dir, &self.log_file] {
                std::os::unix::fs::chown(path, Some(uid), Some(gid)).map_err(prepare(path))?;
            }
            if !self.is_initialised() {
                std::os::unix::fs::chown(&self.data_dir, Some(uid), Some(gid))
                    .map_err(prepare(&self.data_dir))?;
            }
        }
        Ok(())
    }

    /// Fails unless the running server's `postmaster.pid` names `port` (its fourth line).
    fn check_running_port(&self, port: u16) -> Result<(), EmbeddedPgError> {
        let pid_file = self.data_dir.join("postmaster.pid");
        let contents = std::fs::read_to_string(&pid_file)
            .map_err(|source| EmbeddedPgError::ReadPidFile { path: pid_file, source })?;
        let running = contents.lines().nth(3).unwrap_or("").trim();
        if running == port.to_string() {
            return Ok(());
        }
        Err(EmbeddedPgError::PortMismatch {
            data_dir: self.data_dir.clone(),
            running: if running.is_empty() { "unknown".to_owned() } else { running.to_owned() },
            requested: port,
        })
    }
}

fn prepare(path: &Path) -> impl FnOnce(io::Error) -> EmbeddedPgError + '_ {
    move |source| EmbeddedPgError::Prepare { path: path.to_path_buf(), source }
}

fn create_dir(path: &Path, mode: u32) -> io::Result<()> {
    std::fs::DirBuilder::new().recursive(true).mode(mode).create(path)
}

/// The PostgreSQL programs and the user they must run as.
struct Tools {
    initdb: PathBuf,
    pg_ctl: PathBuf,
    run_as: RunAs,
}

/// `initdb`, `pg_ctl` and `postgres` refuse to run as root, so root runs them as the
/// `postgres` system user that the Debian package creates.
#[derive(Clone, Copy)]
enum RunAs {
    CurrentUser,
    PostgresUser { uid: u32, gid: u32 },
}

impl Tools {
    fn find() -> Result<Tools, EmbeddedPgError> {
        let bin_dir =
            find_bin_dir(std::env::var_os("PATH").as_deref(), Path::new("/usr/lib/postgresql"))
                .ok_or(EmbeddedPgError::BinariesNotFound)?;
        let run_as = if is_root() {
            let (uid, gid) = user_ids("postgres").ok_or(EmbeddedPgError::PostgresUserMissing)?;
            RunAs::PostgresUser { uid, gid }
        } else {
            RunAs::CurrentUser
        };
        tracing::debug!(bin_dir = %bin_dir.display(), "found postgresql binaries");
        Ok(Tools { initdb: bin_dir.join("initdb"), pg_ctl: bin_dir.join("pg_ctl"), run_as })
    }

    async fn initdb(&self, layout: &Layout) -> Result<(), EmbeddedPgError> {
        let mut command = self.command(&self.initdb);
        // The C locale exists everywhere and sorts the same on every machine; UTF8 still
        // stores any text.
        command.arg("-D").arg(&layout.data_dir);
        command.args(["-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C"]);
        run(command.into()).await?;
        tracing::info!("initialised postgresql data directory");
        Ok(())
    }

    /// True when `postmaster.pid` exists and `pg_ctl status` confirms a live server;
    /// a pid file left by a crash alone does not count.
    async fn is_running(&self, layout: &Layout) -> bool {
        if !layout.data_dir.join("postmaster.pid").exists() {
            return false;
        }
        let mut command = self.command(&self.pg_ctl);
        command.arg("status").arg("-D").arg(&layout.data_dir);
        let status = run(command.into()).await;
        if let Err(error) = &status {
            tracing::debug!(error = %error, "postmaster.pid present but no server running");
        }
        status.is_ok()
    }

    async fn start(&self, layout: &Layout, port: u16) -> Result<(), EmbeddedPgError> {
        // FIXME: postgres.log grows without bound; rotate it or turn on logging_collector.
        // pg_ctl hands `-o` to /bin/sh, so the socket path is quoted for the shell.
        let server_options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1",
            shell_quote(&layout.socket_dir.to_string_lossy())
        );
        let mut command = self.command(&self.pg_ctl);
        command.arg("-D").arg(&layout.data_dir).arg("-l").arg(&layout.log_file);
        command.arg("-o").arg(server_options).args(["-w", "-t", "60", "start"]);
        run(command.into()).await.map(|_| ())
    }

    fn stop_command(&self, layout: &Layout) -> std::process::Command {
        let mut command = self.command(&self.pg_ctl);
        command.arg("-D").arg(&layout.data_dir).args(["-m", "fast", "-w", "stop"]);
        command
    }

    fn command(&self, program: &Path) -> std::process::Command {
        let mut command = match self.run_as {
            RunAs::CurrentUser => std::process::Command::new(program),
            RunAs::PostgresUser { .. } => {
                let mut runuser = std::process::Command::new("runuser");
                runuser.args(["-u", "postgres", "--"]).arg(program);
                runuser
            }
        };
        command.stdin(std::process::Stdio::null());
        command
    }
}

/// Runs a command to completion and fails with its stderr when it exits non-zero.
async fn run(mut command: tokio::process::Command) -> Result<Output, EmbeddedPgError> {
    let shown = display_command(command.as_std());
    let output = command
        .output()
        .await
        .map_err(|source| EmbeddedPgError::Spawn { command: shown.clone(), source })?;
    if output.status.success() {
        return Ok(output);
    }
    Err(EmbeddedPgError::CommandFailed {
        command: shown,
        status: output.status,
        stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
    })
}

fn display_command(command: &std::process::Command) -> String {
    let words = std::iter::once(command.get_program()).chain(command.get_args());
    words.map(OsStr::to_string_lossy).collect::<Vec<_>>().join(" ")
}

fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// The first `PATH` directory holding both `initdb` and `pg_ctl`, else the `bin` of the
/// highest version under `versions_root` (Debian's `/usr/lib/postgresql/<version>/bin`).
fn find_bin_dir(path_var: Option<&OsStr>, versions_root: &Path) -> Option<PathBuf> {
    let has_tools = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    let on_path = path_var.into_iter().flat_map(std::env::split_paths).find(|dir| has_tools(dir));
    if on_path.is_some() {
        return on_path;
    }

    let versions = std::fs::read_dir(versions_root).ok()?;
    versions
        .filter_map(|entry| entry.ok())
        .filter_map(|entry| {
            let version = version_key(&entry.file_name().to_string_lossy())?;
            Some((version, entry.path().join("bin")))
        })
        .filter(|(_, bin)| has_tools(bin))
        .max()
        .map(|(_, bin)| bin)
}

/// "15" → [15], "9.6" → [9, 6]; anything else is not a version directory.
fn version_key(name: &str) -> Option<Vec<u32>> {
    name.split('.').map(|part| part.parse().ok()).collect()
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// The uid and gid of a system user, looked up through NSS like `id` does.
fn user_ids(name: &str) -> Option<(u32, u32)> {
    let name = CString::new(name).ok()?;
    // SAFETY: passwd is plain old data; all-zero is a valid value that getpwnam_r overwrites.
    let mut entry: libc::passwd = unsafe { std::mem::zeroed() };
    let mut buffer = vec![0 as libc::c_char; 16 * 1024];
    let mut found: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: every pointer refers to live memory of the stated size for the whole call;
    // the strings written into `buffer` are not read after it is dropped.
    let code = unsafe {
        libc::getpwnam_r(name.as_ptr(), &mut entry, buffer.as_mut_ptr(), buffer.len(), &mut found)
    };
    (code == 0 && !found.is_null()).then_some((entry.pw_uid, entry.pw_gid))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh directory under /tmp that the `postgres` user can traverse, removed on drop.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(label: &str) -> TempDir {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .expect("clock after 1970")
                .subsec_nanos();
            let path = std::env::temp_dir()
                .join(format!("factory-{label}-{}-{nanos}", std::process::id()));
            create_dir(&path, 0o755).expect("create temp dir");
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
            TempDir(path)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn free_port() -> u16 {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
        listener.local_addr().expect("local addr").port()
    }

    async fn query_marker(url: &str) -> Vec<String> {
        let mut connection = PgConnection::connect(url).await.expect("connect");
        let one: i32 =
            sqlx::query_scalar("SELECT 1").fetch_one(&mut connection).await.expect("select 1");
        assert_eq!(one, 1);
        sqlx::query_scalar("SELECT note FROM marker")
            .fetch_all(&mut connection)
            .await
            .expect("select")
    }

    #[tokio::test]
    async fn a_cluster_is_created_started_reused_stopped_and_restarted_on_its_data() {
        let temp = TempDir::new("embedded-pg");
        let data_dir = temp.0.join("pgdata");
        let port = free_port();

        let first = EmbeddedPostgres::start(&data_dir, port).await.expect("first start");
        assert_eq!(first.database_url(), format!("postgres://postgres@127.0.0.1:{port}/factory"));
        let mut connection = PgConnection::connect(&first.database_url()).await.expect("connect");
        sqlx::query("CREATE TABLE marker (note text)")
            .execute(&mut connection)
            .await
            .expect("create");
        sqlx::query("INSERT INTO marker VALUES ('kept')")
            .execute(&mut connection)
            .await
            .expect("insert");
        connection.close().await.expect("close");

        let reused = EmbeddedPostgres::start(&data_dir, port).await.expect("start while running");
        assert_eq!(reused.ownership, Ownership::Adopted);
        reused.stop().await.expect("stopping a reused cluster is a no-op");
        assert_eq!(query_marker(&first.database_url()).await, ["kept"]);

        let elsewhere = EmbeddedPostgres::start(&data_dir, free_port()).await;
        assert!(
            matches!(elsewhere, Err(EmbeddedPgError::PortMismatch { .. })),
            "{:?}",
            elsewhere.err()
        );

        first.stop().await.expect("stop");
        let refused = tokio::net::TcpStream::connect(("127.0.0.1", port)).await;
        assert!(refused.is_err(), "port {port} still accepts connections after stop");

        let again =
            EmbeddedPostgres::start(&data_dir, port).await.expect("restart on existing data");
        assert_eq!(again.ownership, Ownership::Started);
        assert_eq!(query_marker(&again.database_url()).await, ["kept"]);
        again.stop().await.expect("stop again");
    }

    #[tokio::test]
    async fn dropping_a_started_cluster_stops_it() {
        let temp = TempDir::new("embedded-pg-drop");
        let port = free_port();

        let postgres = EmbeddedPostgres::start(&temp.0.join("pgdata"), port).await.expect("start");
        drop(postgres);

        let refused = tokio::net::TcpStream::connect(("127.0.0.1", port)).await;
        assert!(refused.is_err(), "port {port} still accepts connections after drop");
    }

    #[test]
    fn binaries_come_from_path_first_then_the_highest_debian_version() {
        let temp = TempDir::new("embedded-pg-find");
        let make_bin = |dir: &Path| {
            create_dir(dir, 0o755).expect("mkdir");
            for tool in ["initdb", "pg_ctl"] {
                std::fs::write(dir.join(tool), "").expect("write tool");
            }
        };
        let root = temp.0.join("lib");
        for version in ["9.6", "13", "15", "notes"] {
            make_bin(&root.join(version).join("bin"));
        }
        let on_path = temp.0.join("path-bin");
        make_bin(&on_path);
        let empty = temp.0.join("empty");
        create_dir(&empty, 0o755).expect("mkdir");

        let path_var = std::env::join_paths([&empty, &on_path]).expect("join");
        assert_eq!(find_bin_dir(Some(&path_var), &root), Some(on_path));
        assert_eq!(find_bin_dir(Some(empty.as_os_str()), &root), Some(root.join("15/bin")));
        assert_eq!(find_bin_dir(None, &temp.0.join("missing")), None);
    }

    #[test]
    fn missing_binaries_say_which_package_to_install() {
        let message = EmbeddedPgError::BinariesNotFound.to_string();

        assert!(message.contains("apt-get install postgresql"), "{message}");
    }

    #[test]
    fn socket_paths_are_quoted_for_the_shell() {
        assert_eq!(shell_quote("/tmp/a b"), "'/tmp/a b'");
        assert_eq!(shell_quote("/tmp/it's"), r"'/tmp/it'\''s'");
    }
}
