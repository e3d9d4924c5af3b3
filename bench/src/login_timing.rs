//! Whether a failed login's duration tells which usernames exist: logins with
//! a wrong password for an existing user and logins with an unknown username,
//! interleaved in one run through `POST /auth/login` of an app's router
//! in-process, as a client would send them.

use std::fmt;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::ensure;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use fw::App;
use fw::testing::TestDb;
use tower::ServiceExt as _;

use crate::data::Engine;

/// The existing user's name and password.
const USERNAME: &str = "alice";
const PASSWORD: &str = "correct horse battery staple";

/// The password both kinds of failed login send.
const WRONG_PASSWORD: &str = "Tr0ub4dor&3";

/// Failures for the existing user on one router: below the 5 after which fw
/// throttles a username. The next router starts with no failures counted
/// (each counts its own, as each server process does).
const FAILURES_PER_ROUTER: u32 = 4;

/// Pairs of failed logins (one of each kind) run before measuring: the first
/// unknown user's login also hashes the fixed password it verifies against.
const WARM_UP_PAIRS: u32 = 2;

/// The durations of each kind of failed login.
#[derive(Debug, Clone)]
pub struct TimingReport {
    /// The database.
    pub engine: Engine,
    /// Logins with a wrong password for an existing user, in the order run.
    pub wrong_password: Vec<Duration>,
    /// Logins with a username no user has, in the order run.
    pub unknown_user: Vec<Duration>,
}

impl TimingReport {
    /// The median unknown-user login over the median wrong-password one.
    pub fn ratio(&self) -> f64 {
        median(&self.unknown_user).as_secs_f64()
            / median(&self.wrong_password).as_secs_f64().max(f64::EPSILON)
    }

    /// How far apart one kind's medians are between its even-numbered and its
    /// odd-numbered logins: the noise a ratio between kinds is judged by (the
    /// larger of the two kinds', as a ratio of at least 1).
    pub fn noise(&self) -> f64 {
        [&self.wrong_password, &self.unknown_user]
            .into_iter()
            .map(|durations| {
                let even: Vec<Duration> = durations.iter().copied().step_by(2).collect();
                let odd: Vec<Duration> = durations.iter().copied().skip(1).step_by(2).collect();
                let (even, odd) = (median(&even).as_secs_f64(), median(&odd).as_secs_f64());
                even.max(odd) / even.min(odd).max(f64::EPSILON)
            })
            .fold(1.0, f64::max)
    }
}

impl fmt::Display for TimingReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "engine: {}, {} failed logins of each kind, interleaved",
            self.engine.name(),
            self.wrong_password.len()
        )?;
        writeln!(
            f,
            "{:<32} {:>10} {:>10} {:>10}",
            "failed login", "p25 ms", "median ms", "p75 ms"
        )?;
        for (name, durations) in [
            ("wrong password, existing user", &self.wrong_password),
            ("unknown username", &self.unknown_user),
        ] {
            writeln!(
                f,
                "{:<32} {:>10.2} {:>10.2} {:>10.2}",
                name,
                quantile(durations, 0.25).as_secs_f64() * 1e3,
                median(durations).as_secs_f64() * 1e3,
                quantile(durations, 0.75).as_secs_f64() * 1e3
            )?;
        }
        write!(
            f,
            "unknown / wrong password (medians): {:.3}; noise (one kind's halves): {:.3}",
            self.ratio(),
            self.noise()
        )
    }
}

fn median(durations: &[Duration]) -> Duration {
    quantile(durations, 0.5)
}

fn quantile(durations: &[Duration], quantile: f64) -> Duration {
    let mut sorted = durations.to_vec();
    sorted.sort_unstable();
    let rank = ((sorted.len().saturating_sub(1)) as f64 * quantile).round() as usize;
    sorted.get(rank).copied().unwrap_or_default()
}

/// An app with identity and nothing else: the login endpoint as every fw app
/// serves it.
fn app(test_db: &TestDb) -> App {
    App::new("login-timing", env!("CARGO_MANIFEST_DIR"))
        .default_database_url(test_db.url())
        .auth()
}

/// One login attempt and its answer.
struct Attempt {
    status: StatusCode,
    /// The `WWW-Authenticate` header and the body: the same for every failure.
    answer: (Option<String>, axum::body::Bytes),
    took: Duration,
}

/// Logins from distinct client addresses, so the per-address limit never
/// applies: each attempt comes from the next address of 10.0.0.0/8.
struct Client {
    router: axum::Router,
    next_address: u32,
}

impl Client {
    fn new(test_db: &TestDb) -> Client {
        Client {
            router: app(test_db).router(test_db.context()),
            next_address: 0,
        }
    }

    async fn login(&mut self, username: &str, password: &str) -> anyhow::Result<Attempt> {
        self.next_address += 1;
        let [_, b, c, d] = self.next_address.to_be_bytes();
        let peer = SocketAddr::from(([10, b, c, d], 40_000));
        let body = serde_json::json!({"username": username, "password": password}).to_string();
        let mut request = Request::post("/auth/login")
            .header("content-type", "application/json")
            .body(Body::from(body))?;
        request.extensions_mut().insert(ConnectInfo(peer));
        let started = Instant::now();
        let response = self.router.clone().oneshot(request).await?;
        let status = response.status();
        let challenge = response
            .headers()
            .get("www-authenticate")
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        let body = axum::body::to_bytes(response.into_body(), usize::MAX).await?;
        Ok(Attempt {
            status,
            answer: (challenge, body),
            took: started.elapsed(),
        })
    }

    /// A failed login, which must be a 401 answered as every other.
    async fn fail(
        &mut self,
        username: &str,
        expected: &mut Option<(Option<String>, axum::body::Bytes)>,
    ) -> anyhow::Result<Duration> {
        let attempt = self.login(username, WRONG_PASSWORD).await?;
        ensure!(
            attempt.status == StatusCode::UNAUTHORIZED,
            "a failed login as `{username}` answered {}: {:?}",
            attempt.status,
            attempt.answer
        );
        match expected {
            Some(expected) => ensure!(
                *expected == attempt.answer,
                "a failed login as `{username}` answered {:?}, another {:?}",
                attempt.answer,
                expected
            ),
            None => *expected = Some(attempt.answer),
        }
        Ok(attempt.took)
    }
}

/// Runs `pairs` pairs of failed logins on a new database of `engine`: one with
/// a wrong password for an existing user, one with a new unknown username,
/// taking turns at going first. Every `FAILURES_PER_ROUTER` pairs the logins
/// go to a new router, whose throttle has counted no failures yet.
///
/// # Errors
///
/// When the database cannot be made, or a login is not a 401 answered as
/// every other failed login (the answer must not tell the two apart either).
pub async fn measure(engine: Engine, pairs: u32) -> anyhow::Result<TimingReport> {
    let test_db = match engine {
        Engine::Sqlite => TestDb::sqlite().await,
        Engine::Postgres => TestDb::postgres().await,
    };
    fw::testing::create_tables(test_db.db(), app(&test_db).models()).await?;
    let created = app(&test_db)
        .run_with_input(
            ["login-timing", "createuser", USERNAME],
            format!("{PASSWORD}\n"),
        )
        .await;
    ensure!(
        created == std::process::ExitCode::SUCCESS,
        "createuser {USERNAME} failed"
    );
    let mut client = Client::new(&test_db);
    let mut report = TimingReport {
        engine,
        wrong_password: Vec::new(),
        unknown_user: Vec::new(),
    };
    let mut expected = None;
    for pair in 0..WARM_UP_PAIRS + pairs {
        if pair > 0 && pair % FAILURES_PER_ROUTER == 0 {
            client = Client::new(&test_db);
        }
        let unknown = format!("nobody_{pair}");
        let (wrong_password, unknown_user) = if pair % 2 == 0 {
            let wrong = client.fail(USERNAME, &mut expected).await?;
            (wrong, client.fail(&unknown, &mut expected).await?)
        } else {
            let unknown = client.fail(&unknown, &mut expected).await?;
            (client.fail(USERNAME, &mut expected).await?, unknown)
        };
        if pair >= WARM_UP_PAIRS {
            report.wrong_password.push(wrong_password);
            report.unknown_user.push(unknown_user);
        }
    }
    Ok(report)
}
