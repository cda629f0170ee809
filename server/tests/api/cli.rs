//! The `factory` binary as an operator uses it: `demo` and `token create` against a real
//! database, and `serve` with its own PostgreSQL cluster when `DATABASE_URL` is unset.

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::helpers::fresh_database;

fn factory() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_factory"));
    command.env_remove("DATABASE_URL").env("RUST_LOG", "warn");
    command
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The status code of a plain `GET`, or `None` while nothing answers.
fn http_status(addr: &str, path: &str) -> Option<u16> {
    let mut stream = TcpStream::connect(addr).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    response.split_whitespace().nth(1)?.parse().ok()
}

#[tokio::test]
async fn demo_is_safe_to_repeat_and_token_create_prints_only_the_token() {
    let url = fresh_database().await;
    for _ in 0..2 {
        let demo = factory().args(["demo"]).env("DATABASE_URL", &url).output().unwrap();
        assert!(demo.status.success(), "{}", String::from_utf8_lossy(&demo.stderr));
        let out = String::from_utf8(demo.stdout).unwrap();
        assert!(out.contains("customer@acme.test: acme-demo-pass"), "{out}");
        assert!(out.contains("admin@factory.test"), "{out}");
    }

    let token = factory()
        .args(["token", "create", "--tenant", "acme", "--name", "ci"])
        .env("DATABASE_URL", &url)
        .output()
        .unwrap();
    assert!(token.status.success());
    let out = String::from_utf8(token.stdout).unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 1, "{out}");
    assert!(lines[0].starts_with("fct_") && lines[0].len() == 68, "{out}");

    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    let stored: String =
        sqlx::query_scalar("SELECT token_hash FROM api_tokens").fetch_one(&pool).await.unwrap();
    assert_ne!(stored, lines[0], "only a hash of the token is stored");

    let unknown = factory()
        .args(["token", "create", "--tenant", "initech", "--name", "ci"])
        .env("DATABASE_URL", &url)
        .output()
        .unwrap();
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no tenant with slug"));
}

#[tokio::test]
async fn serve_without_database_url_runs_its_own_postgres_and_stops_it_on_sigterm() {
    let data_dir =
        std::env::temp_dir().join(format!("factory-cli-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&data_dir).unwrap();
    let pg_port = free_port();
    let addr = format!("127.0.0.1:{}", free_port());
    let mut server = factory()
        .args(["serve"])
        .env("FACTORY_DATA_DIR", &data_dir)
        .env("FACTORY_EMBEDDED_PG_PORT", pg_port.to_string())
        .env("FACTORY_ADDR", &addr)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();

    let deadline = Instant::now() + Duration::from_secs(120);
    while http_status(&addr, "/readyz") != Some(200) {
        if let Some(status) = server.try_wait().unwrap() {
            let mut stderr = String::new();
            server.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
            panic!("factory exited with {status}: {stderr}");
        }
        assert!(Instant::now() < deadline, "factory never became ready");
        std::thread::sleep(Duration::from_millis(250));
    }
    assert!(TcpStream::connect(("127.0.0.1", pg_port)).is_ok(), "its cluster listens");

    // SAFETY: sending a signal to a child process we own.
    unsafe { libc::kill(server.id() as i32, libc::SIGTERM) };
    let status = server.wait().unwrap();
    assert!(status.success(), "factory exits cleanly on SIGTERM: {status}");
    assert!(TcpStream::connect(("127.0.0.1", pg_port)).is_err(), "and stops its cluster");
    let _ = std::fs::remove_dir_all(&data_dir);
}

#[tokio::test]
async fn a_separate_worker_process_runs_the_jobs_and_stops_cleanly_on_sigterm() {
    let app = crate::helpers::spawn_app_with(crate::helpers::Workers::Elsewhere).await;
    let mut worker = factory()
        .args(["worker", "--pools", "generate,verify,package"])
        .env("DATABASE_URL", &app.database_url)
        .env("FACTORY_HEARTBEAT_SECS", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();

    let reply = app
        .submit(&app.acme_token, "pipeline", serde_json::json!({ "project_name": "orders" }))
        .await;
    let id = reply.json()["id"].as_str().unwrap().to_owned();
    let run = app.wait_for_status(&app.acme_token, &id, "succeeded").await;
    assert_eq!(run["jobs"].as_array().unwrap().len(), 3);

    // SAFETY: sending a signal to a child process we own.
    unsafe { libc::kill(worker.id() as i32, libc::SIGTERM) };
    let status = worker.wait().unwrap();
    assert!(status.success(), "the worker exits cleanly on SIGTERM: {status}");
}

#[test]
fn a_worker_for_an_unknown_pool_refuses_to_start() {
    let output = factory()
        .args(["worker", "--pools", "generate,teleport"])
        .env("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("unknown pool teleport"));
}
